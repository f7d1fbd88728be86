"""A Rasa 3.6 intent classifier: logistic regression on tf-idf-weighted sparse features (issue 18).

Rasa's `LogisticRegressionClassifier` scores the raw counts of every featurizer with scikit-learn's default
regularisation (C = 1), which it does not let one change.  On the blind dev set (`nlu_data/dev`), the same features
weighted by tf-idf (sublinear counts, inverse document frequency learnt from the training texts, each message
L2-normalised) and scored with a weaker regularisation (C = 200) answer more questions right and fewer wrong: the
table is in docs/assistant-model.md ("The fifth round").  The regression is persisted with skops as Rasa's is, the idf
vector beside it (`idf.npy`; skops refuses the sparse matrix scikit-learn's own `TfidfTransformer` keeps).

It is also faster than Rasa's.  scikit-learn multiplies a message's sparse row by the transposed coefficients; for a
C-ordered coefficient matrix scipy first copies all of it (classes × features, ≈ 20 MB here), several milliseconds
for every parse.  Kept in Fortran order the transposition is a view and the product touches only the message's
non-zero columns (same numbers).  And a message's features are joined in one step, sentence features only: Rasa's
class deep-copies and joins the sequence features too, which it then does not use.

Registered in `bot/config.yml` as `bot.nlu_intents.TfidfLogisticRegressionClassifier`; runs in Rasa's venv only.
"""

from __future__ import annotations

from typing import Any

import numpy as np  # in Rasa's venv
import scipy.sparse  # type: ignore[import-untyped]  # in Rasa's venv
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.preprocessing import normalize  # in Rasa's venv

SENTENCE = "sentence"  # rasa.shared.nlu.constants.FEATURE_TYPE_SENTENCE
IDF_FILE = "idf.npy"


def inverse_document_frequency(counts: Any) -> Any:
    """scikit-learn's smoothed idf of each column: ln((1 + n) / (1 + df)) + 1."""
    n = counts.shape[0]
    rows = scipy.sparse.csr_matrix(counts)
    rows.sum_duplicates()
    df = np.bincount(rows.indices, minlength=counts.shape[1])  # the rows each column is stored in
    return np.log((1.0 + n) / (1.0 + df)) + 1.0


def tfidf(counts: Any, idf: Any, sublinear: bool) -> Any:
    """scikit-learn's `TfidfTransformer` (smooth idf, L2 norm) with a given idf: rows of counts, weighted."""
    weighted = scipy.sparse.csr_matrix(counts, dtype=np.float64, copy=True)
    if sublinear:
        weighted.data = np.log(weighted.data) + 1.0
    weighted.data *= idf[weighted.indices]  # each stored count times its column's idf
    return normalize(weighted, norm="l2", copy=False)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TfidfLogisticRegressionClassifier(LogisticRegressionClassifier):  # type: ignore[misc]  # rasa is untyped
    """Rasa's logistic regression with tf-idf weighting, a configurable C and a fast prediction."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "C": 200.0, "sublinear_tf": True}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        c = config.get("C", 200.0)
        if isinstance(c, bool) or not isinstance(c, int | float) or c <= 0:
            raise ValueError(f"TfidfLogisticRegressionClassifier: C must be a positive number, got {c!r}")

    def __init__(self, config: dict[str, Any], name: str, model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=float(self.config["C"]))  # the parent's LogisticRegression, with all Rasa pins
        self._idf: Any = None  # learnt in `train`, persisted beside the regression

    @staticmethod
    def _counts(messages: list[Message]) -> Any:
        """One row per message: its sentence-level features, sparse then dense, in the pipeline's order."""
        rows = []
        for message in messages:
            blocks = [
                f.features if f.is_sparse() else scipy.sparse.csr_matrix(f.features)
                for f in sorted(message.features, key=lambda f: not f.is_sparse())  # stable: pipeline order kept
                if f.attribute == TEXT and f.type == SENTENCE
            ]
            rows.append(scipy.sparse.hstack(blocks, format="csr"))
        return scipy.sparse.vstack(rows, format="csr")

    def _create_X(self, messages: list[Message]) -> Any:  # the parent's name: `process` calls it
        return tfidf(self._counts(messages), self._idf, bool(self.config["sublinear_tf"]))

    def _prepare_for_prediction(self) -> None:
        """Coefficients in Fortran order, so that scoring a message does not copy them (module docstring)."""
        if hasattr(self.clf, "coef_"):
            self.clf.coef_ = np.asfortranarray(self.clf.coef_)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            return self._resource  # as the parent: nothing to learn, nothing persisted
        counts = self._counts(examples)
        self._idf = inverse_document_frequency(counts)
        self.clf.fit(tfidf(counts, self._idf, bool(self.config["sublinear_tf"])), [e.get(INTENT) for e in examples])
        self.persist()
        self._prepare_for_prediction()
        return self._resource

    def persist(self) -> None:
        super().persist()  # the regression, with skops
        with self._model_storage.write_to(self._resource) as model_dir:
            np.save(model_dir / IDF_FILE, self._idf)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TfidfLogisticRegressionClassifier:
        component = super().load(config, model_storage, resource, execution_context, **kwargs)
        try:
            with model_storage.read_from(resource) as model_dir:
                component._idf = np.load(model_dir / IDF_FILE)
        except ValueError:  # nothing was persisted: the parent made an untrained component
            pass
        component._prepare_for_prediction()
        return component  # type: ignore[no-any-return]
