"""The intent classifier of the NLU pipeline (`bot/nlu_intents.py`): tf-idf-weighted logistic regression.

Checked in Rasa's own Python (`$RASA_VENV`, default `.venv-rasa`), as `rasa train` runs it: the weighting is
scikit-learn's `TfidfTransformer` exactly; the component is trained on a few messages with real featurizers,
persisted, loaded back, and answers the same; its coefficients are kept so that scoring copies nothing.
"""

from __future__ import annotations

from tests.support.rasa_venv import run_in_rasa_venv

RASA_SIDE = """
import json, tempfile
from pathlib import Path
import numpy as np, scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from bot.nlu_intents import TfidfLogisticRegressionClassifier, inverse_document_frequency, tfidf

counts = sp.random(40, 30, density=0.2, format="csr", random_state=1)
counts.data = np.ceil(counts.data * 4)
same = {}
for sublinear in (False, True):
    ours = tfidf(counts, inverse_document_frequency(counts), sublinear).toarray()
    theirs = TfidfTransformer(sublinear_tf=sublinear).fit_transform(counts).toarray()
    same[str(sublinear)] = bool(np.allclose(ours, theirs))

storage = LocalModelStorage(Path(tempfile.mkdtemp()))
context = ExecutionContext(GraphSchema({}), node_name="intents")
tokenizer = JiebaTokenizer.create(JiebaTokenizer.get_default_config(), storage, Resource("jieba"), context)
words = CountVectorsFeaturizer.create(CountVectorsFeaturizer.get_default_config(), storage, Resource("cv"), context)


def messages(pairs):
    found = [Message(data={"text": t, **({"intent": i} if i else {})}) for t, i in pairs]
    tokenizer.process(found)
    return found


training = TrainingData(messages([
    ("优先审查要多久", "ask_priority_exam_time"), ("优先审查多长时间能下来", "ask_priority_exam_time"),
    ("how long does priority examination take", "ask_priority_exam_time"),
    ("服务券怎么用", "ask_voucher_use"), ("服务券能抵多少钱", "ask_voucher_use"),
    ("how do I use a service voucher", "ask_voucher_use"),
    ("你好", "greet"), ("hello", "greet"), ("在吗", "greet"),
]))
words.train(training)
words.process_training_data(training)
resource = Resource("intents")
config = {**TfidfLogisticRegressionClassifier.get_default_config()}
trained = TfidfLogisticRegressionClassifier.create(config, storage, resource, context)
trained.train(training)
loaded = TfidfLogisticRegressionClassifier.load(config, storage, resource, context)


def ranking(component, text):
    (message,) = component.process(words.process(messages([(text, None)])))
    return [(r["name"], round(float(r["confidence"]), 9)) for r in message.get("intent_ranking")]


texts = ["优先审查要多久啊", "服务券怎么用呢", "hello", "how to use the voucher"]
refused = []
for bad in (0, -1, "200", True):
    try:
        TfidfLogisticRegressionClassifier.validate_config({"C": bad})
    except ValueError as error:
        refused.append(str(error))
print(json.dumps({
    "same_as_sklearn": same,
    "trained": {t: ranking(trained, t) for t in texts},
    "loaded": {t: ranking(loaded, t) for t in texts},
    "C": trained.clf.C,
    "fortran": [trained.clf.coef_.flags.f_contiguous, loaded.clf.coef_.flags.f_contiguous],
    "refused": refused,
}))
"""


def test_tfidf_weighting_is_scikit_learns_and_a_loaded_model_answers_as_the_trained_one() -> None:
    seen = run_in_rasa_venv(RASA_SIDE)
    assert seen["same_as_sklearn"] == {"False": True, "True": True}
    trained, loaded = seen["trained"], seen["loaded"]
    assert trained["优先审查要多久啊"][0][0] == "ask_priority_exam_time"
    assert trained["服务券怎么用呢"][0][0] == "ask_voucher_use"
    assert trained["how to use the voucher"][0][0] == "ask_voucher_use"
    assert trained["hello"][0][0] == "greet"
    # Persisted and loaded: the regression and the idf vector both, the very same confidences.
    assert loaded == trained
    assert seen["C"] == 200.0
    # Coefficients in Fortran order after training and after loading: scoring a message copies none of them.
    assert seen["fortran"] == [True, True]
    # C must be a positive number: zero, negative, a string and a boolean are refused, each by name.
    assert len(seen["refused"]) == 4 and all("C must be a positive number" in r for r in seen["refused"])
