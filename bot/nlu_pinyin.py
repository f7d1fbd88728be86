"""A Rasa 3.6 NLU component: sparse features from the pinyin of the message (issue 18).

Chinese typos typed on a phone are mostly homophones picked from the input method's candidate list
(优先申查 for 优先审查, 代里机构 for 代理机构): different characters, the same toneless pinyin.  The character
n-grams of `CountVectorsFeaturizer` see two unrelated characters; this featurizer sees the same syllables.  Each
Chinese character becomes its toneless pinyin (pypinyin's bundled dictionary: nothing is downloaded), runs of
other characters are dropped (the word and character featurizers already cover Latin text), and the features are
the counts of syllable n-grams (`min_ngram`..`max_ngram`, default 1–3), as sentence features over the whole text
and sequence features per token (for the entity extractor).  With `fuzzy: true` the syllables are also reduced to
the distinctions southern speakers often drop (zh/ch/sh → z/c/s, -ng → -n, l → n).

Registered in `bot/config.yml` as `bot.nlu_pinyin.PinyinFeaturizer` (Rasa puts the working directory, the
repository root, on `sys.path`).  Runs in Rasa's venv only (`bot/requirements-rasa.txt` pins `pypinyin`).
"""

from __future__ import annotations

import re
from typing import Any

import scipy.sparse  # type: ignore[import-untyped]  # in Rasa's venv
from pypinyin import Style, lazy_pinyin
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.utils.io import dump_obj_as_json_to_file, read_json_file

TOKENS = "text_tokens"  # rasa.nlu.constants.TOKENS_NAMES[TEXT]
VOCABULARY_FILE = "pinyin_vocabulary.json"
_HAN = re.compile(r"[\u3400-\u9fff]")
_FUZZY = ((re.compile(r"^([zcs])h"), r"\1"), (re.compile(r"ng$"), "n"), (re.compile(r"^l"), "n"))


def syllables(text: str, fuzzy: bool = False) -> list[str]:
    """The toneless pinyin of each Chinese character of `text`, in order; other characters are left out.

    The whole text is converted at once, so that pypinyin's phrase dictionary picks the reading of a
    polyphonic character from its neighbours (银行 → yin hang, 行业 → hang ye).
    """
    han = "".join(_HAN.findall(text))
    if not han:
        return []
    result = [str(s) for s in lazy_pinyin(han, style=Style.NORMAL)]
    if fuzzy:
        for pattern, repl in _FUZZY:
            result = [pattern.sub(repl, s) for s in result]
    return result


def ngrams(sylls: list[str], low: int, high: int) -> list[str]:
    out: list[str] = []
    for n in range(low, high + 1):
        out.extend(" ".join(sylls[i : i + n]) for i in range(len(sylls) - n + 1))
    return out


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class PinyinFeaturizer(SparseFeaturizer, GraphComponent):  # type: ignore[misc]  # rasa is untyped here
    """Counts of toneless-pinyin syllable n-grams, learnt from the training texts."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**SparseFeaturizer.get_default_config(), "min_ngram": 1, "max_ngram": 3, "fuzzy": False}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        low, high = config.get("min_ngram"), config.get("max_ngram")
        if not (isinstance(low, int) and isinstance(high, int) and 1 <= low <= high):
            raise ValueError(f"PinyinFeaturizer: min_ngram / max_ngram must be 1 <= min <= max, got {low} / {high}")

    @staticmethod
    def required_packages() -> list[str]:
        return ["pypinyin"]

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        vocabulary: dict[str, int] | None = None,
    ) -> None:
        super().__init__(execution_context.node_name, config)
        self._model_storage = model_storage
        self._resource = resource
        self._vocabulary: dict[str, int] = vocabulary or {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> PinyinFeaturizer:
        return cls(config, model_storage, resource, execution_context)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> PinyinFeaturizer:
        try:
            with model_storage.read_from(resource) as path:
                vocabulary = read_json_file(path / VOCABULARY_FILE)
        except ValueError:  # nothing was persisted (no Chinese in the training data)
            vocabulary = {}
        return cls(config, model_storage, resource, execution_context, vocabulary)

    def _grams(self, text: str) -> list[str]:
        sylls = syllables(text, bool(self._config["fuzzy"]))
        return ngrams(sylls, int(self._config["min_ngram"]), int(self._config["max_ngram"]))

    def train(self, training_data: TrainingData) -> Resource:
        vocabulary: dict[str, int] = {}
        for example in training_data.training_examples:
            text = example.get(TEXT)
            if not text:
                continue
            for gram in self._grams(str(text)):
                vocabulary.setdefault(gram, len(vocabulary))
        self._vocabulary = vocabulary
        if vocabulary:
            with self._model_storage.write_to(self._resource) as path:
                dump_obj_as_json_to_file(path / VOCABULARY_FILE, vocabulary)
        return self._resource

    def _row(self, grams: list[str]) -> tuple[list[int], list[float]]:
        counts: dict[int, float] = {}
        for gram in grams:
            index = self._vocabulary.get(gram)
            if index is not None:
                counts[index] = counts.get(index, 0.0) + 1.0
        return list(counts), list(counts.values())

    def _featurize(self, message: Message) -> None:
        text = message.get(TEXT)
        tokens = message.get(TOKENS)
        if not text or not tokens or not self._vocabulary:
            return
        width = len(self._vocabulary)
        rows, cols, data = [], [], []
        for i, token in enumerate(tokens):
            c, d = self._row(self._grams(str(token.text)))
            rows.extend([i] * len(c))
            cols.extend(c)
            data.extend(d)
        sequence = scipy.sparse.coo_matrix((data, (rows, cols)), shape=(len(tokens), width))
        c, d = self._row(self._grams(str(text)))
        sentence = scipy.sparse.coo_matrix((d, ([0] * len(c), c)), shape=(1, width))
        self.add_features_to_message(sequence=sequence, sentence=sentence, attribute=TEXT, message=message)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._featurize(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
