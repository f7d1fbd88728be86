"""The pinyin featurizer of the NLU pipeline (`bot/nlu_pinyin.py`): a homophone typo looks like the right word.

Checked in Rasa's own Python (`$RASA_VENV`, default `.venv-rasa`, where `bot/requirements-rasa.txt` installs
pypinyin), as `rasa train` runs it: the component is trained on a few texts, persisted, loaded back, and its
features compared.  A missing Rasa venv fails the test: that is a broken setup (`make -f mk/rasa.mk rasa-venv`).
"""

from __future__ import annotations

from tests.support.rasa_venv import run_in_rasa_venv

RASA_SIDE = """
import json, sys, tempfile
from pathlib import Path
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from bot.nlu_pinyin import PinyinFeaturizer, syllables

storage = LocalModelStorage(Path(tempfile.mkdtemp()))
resource = Resource("pinyin")
context = ExecutionContext(GraphSchema({}), node_name="pinyin")
tokenizer = JiebaTokenizer.create(JiebaTokenizer.get_default_config(), storage, Resource("jieba"), context)


def messages(texts):
    found = [Message(data={"text": t}) for t in texts]
    tokenizer.process(found)
    return found


config = PinyinFeaturizer.get_default_config()
trained = PinyinFeaturizer.create(config, storage, resource, context)
trained.train(TrainingData(messages(["优先审查要多久", "找一家代理机构", "服务券怎么用", "hello there"])))
loaded = PinyinFeaturizer.load(config, storage, resource, context)


def features(component, text):
    (message,) = component.process(messages([text]))
    seq, sent = message.get_sparse_features("text")
    if sent is None:
        return None
    return {"sentence": sent.features.toarray().tolist(), "tokens": seq.features.shape[0]}


texts = ["优先审查要多久", "优先申查要多久", "代理机构", "代里机构", "找一家代理机构",
         "hello there", "服务卷", "服务券"]
print(json.dumps({
    "trained": {t: features(trained, t) for t in texts},
    "loaded": {t: features(loaded, t) for t in texts},
    "polyphone": [syllables("银行"), syllables("行业")],
    "fuzzy": syllables("长沙市", fuzzy=True),
}))
"""


def test_a_homophone_typo_gets_the_features_of_the_right_word_and_a_loaded_model_gives_the_same() -> None:
    seen = run_in_rasa_venv(RASA_SIDE)
    trained, loaded = seen["trained"], seen["loaded"]
    # 申查 / 审查 and 代里 / 代理 are the same syllables: the same sentence features.
    assert trained["优先申查要多久"] == trained["优先审查要多久"]
    assert trained["代里机构"]["sentence"] == trained["代理机构"]["sentence"]
    # A different text is not the same, and one more word adds syllables (never fewer features).
    right = trained["代理机构"]["sentence"][0]
    longer = trained["找一家代理机构"]["sentence"][0]
    assert right != longer and all(b >= a for a, b in zip(right, longer, strict=True))
    # 卷 (juan) is not 券 (quan): the two share some syllable n-grams (fu, wu, fu wu), not all.
    typo, word = trained["服务卷"]["sentence"][0], trained["服务券"]["sentence"][0]
    assert typo != word and sum(a * b for a, b in zip(typo, word, strict=True)) > 0
    # Latin text has no pinyin features; one sequence row per token.
    assert sum(trained["hello there"]["sentence"][0]) == 0
    assert trained["优先审查要多久"]["tokens"] >= 2
    # What was learnt is persisted: the loaded component gives exactly the same features.
    assert loaded == trained
    # The phrase dictionary reads a polyphonic character from its neighbours.
    assert seen["polyphone"] == [["yin", "hang"], ["hang", "ye"]]
    assert seen["fuzzy"] == ["can", "sa", "si"]
