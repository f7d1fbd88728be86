"""The blind dev set's evaluator (bot/scripts/dev_eval.py): what it counts, and that it reports no item's text."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.scripts import load_script

SCRIPT = Path("bot/scripts/dev_eval.py")


def item(text: str, intent: str, lang: str) -> dict[str, str]:
    return {"text": text, "intent": intent, "lang": lang, "kind": "terse"}


ITEMS = [
    item("优审要多久", "ask_priority_exam_timeline", "zh"),
    item("优审条件", "ask_priority_exam_conditions", "zh"),
    item("券怎么用", "ask_voucher_use", "zh"),
    item("how long is priority exam", "ask_priority_exam_timeline", "en"),
    item("thx", "thank", "en"),
    item("weather tomorrow", "out_of_scope", "en"),
]
PREDICTED = [
    "ask_priority_exam_timeline",  # right
    "ask_priority_exam_timeline",  # wrong topic, a policy answer
    "nlu_fallback",  # clarified
    "ask_priority_exam_conditions",  # wrong topic, a policy answer
    "nlu_fallback",  # clarified
    "help",  # wrong topic, not a policy answer
]
POLICY = {"ask_priority_exam_timeline", "ask_priority_exam_conditions", "ask_voucher_use"}


def test_right_clarified_and_wrong_topic_are_counted_per_language() -> None:
    result = load_script(SCRIPT).evaluate(ITEMS, PREDICTED, POLICY)
    zh, en = result["groups"]["lang:zh+mixed"], result["groups"]["lang:en"]
    assert (zh["n"], zh["accuracy"], zh["clarified"], zh["wrong_topic"]) == (3, 1 / 3, 1 / 3, 1 / 3)
    assert (en["n"], en["accuracy"], en["clarified"], en["wrong_topic"]) == (3, 0.0, 1 / 3, 2 / 3)
    assert en["wrong_policy_answer"] == 1 / 3  # "help" is a wrong topic but not a cited policy fact
    assert result["groups"]["all"]["wrong_topic"] == 3 / 6


def test_confusion_pairs_are_reported_per_language_by_intent_name_only() -> None:
    result = load_script(SCRIPT).evaluate(ITEMS, PREDICTED, POLICY)
    by_language = result["confusions_by_language"]
    assert by_language["zh+mixed"] == [
        {"true": "ask_priority_exam_conditions", "predicted": "ask_priority_exam_timeline", "count": 1},
        {"true": "ask_voucher_use", "predicted": "nlu_fallback", "count": 1},
    ]
    assert {(c["true"], c["predicted"]) for c in by_language["en"]} == {
        ("ask_priority_exam_timeline", "ask_priority_exam_conditions"),
        ("thank", "nlu_fallback"),
        ("out_of_scope", "help"),
    }
    assert len(result["confusions"]) == 5  # both languages together
    written = json.dumps(result, ensure_ascii=False)
    assert not any(it["text"] in written for it in ITEMS)
