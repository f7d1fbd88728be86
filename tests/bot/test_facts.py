"""The policy facts file: complete for the contract's policy intents, dated, and rendered to fit a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.facts import FACTS_PATH, POLICY_INTENTS, FactsError, Lang, load_facts, parse_facts, read_facts

PHONE_LIMIT = 600
LANGS: tuple[Lang, ...] = ("zh", "en")


def raw_facts() -> dict[str, Any]:
    data = yaml.safe_load(FACTS_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_every_policy_intent_of_the_rasa_domain_has_a_fact() -> None:
    domain_file = Path("bot/domain/policy.yml")
    if domain_file.exists():
        domain_intents = yaml.safe_load(domain_file.read_text(encoding="utf-8"))["intents"]
        assert set(domain_intents) <= set(POLICY_INTENTS)
    facts = load_facts()
    assert set(POLICY_INTENTS) <= set(facts.intents)


@pytest.mark.parametrize("intent", POLICY_INTENTS)
@pytest.mark.parametrize("lang", LANGS)
def test_each_answer_names_its_source_offers_buttons_and_fits_a_phone(intent: str, lang: Lang) -> None:
    answer = load_facts().answer(intent, lang)
    last_line = answer.text.splitlines()[-1]
    assert last_line.startswith("来源：" if lang == "zh" else "Source: ")
    assert 1 <= len(answer.buttons) <= 4
    assert all(b.payload.startswith("/") and b.title for b in answer.buttons)
    assert len(answer.text) <= PHONE_LIMIT, f"{intent}/{lang} is {len(answer.text)} characters"
    # Rasa splits a text at blank lines into separate messages; an answer is one message.
    assert "\n\n" not in answer.text
    if lang == "en":
        assert not "\u4e00" <= answer.text[0] <= "\u9fff"


@pytest.mark.parametrize("lang", LANGS)
def test_entity_details_also_fit(lang: Lang) -> None:
    facts = load_facts()
    for intent in POLICY_INTENTS:
        for entity, values in facts.data.facts[intent].details.items():
            for value in values:
                answer = facts.answer(intent, lang, {entity: value})
                assert len(answer.text) <= PHONE_LIMIT
                assert answer.text.splitlines()[0] == values[value].get(lang)


def test_every_document_is_dated_with_a_status() -> None:
    for name, doc in load_facts().data.documents.items():
        assert doc.status in ("draft", "in_force", "superseded"), name
        assert doc.effective is not None or doc.local, name


def test_the_priority_exam_answer_says_a_revision_is_pending() -> None:
    zh = load_facts().answer("ask_priority_exam_conditions", "zh").text
    en = load_facts().answer("ask_priority_exam_conditions", "en").text
    assert "2017-08-01" in zh and "2026-02-26" in zh and "征求意见" in zh
    assert "published for comment on 2026-02-26" in en


def test_the_trademark_answer_cites_the_2025_revision_in_force() -> None:
    en = load_facts().answer("ask_trademark_priority", "en").text
    assert "in force since 2025-07-07" in en
    assert "20 working days" in en


def test_a_policy_change_is_one_edit_in_the_documents_section() -> None:
    data = raw_facts()
    data["documents"]["priority_exam_2026_draft"]["status"] = "in_force"
    data["documents"]["priority_exam_2026_draft"]["effective"] = "2026-09-01"
    changed = parse_facts(data)
    for intent in ("ask_priority_exam_conditions", "ask_priority_exam_process", "ask_priority_exam_timeline"):
        assert "revised version in force since 2026-09-01" in changed.answer(intent, "en").text
    assert "新版2026-09-01起施行" in changed.eligibility_source("zh")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["facts"].pop("ask_pph"), "ask_pph"),
        (lambda d: d["facts"]["ask_pph"]["sources"][0].update(document="nowhere"), "nowhere"),
        (lambda d: d["documents"]["pph"].update(effective=None), "effective"),
        (lambda d: d["documents"]["pph"].update(effective="1 Nov 2011"), "YYYY"),
        (lambda d: d["documents"]["pph"].update(status="superseded"), "revision"),
        (lambda d: d["facts"]["ask_pph"]["text"].pop("en"), "en"),
        (lambda d: d["facts"]["ask_pph"].update(buttons=[]), "buttons"),
        (lambda d: d["facts"]["ask_pph"].update(colour="red"), "colour"),
    ],
)
def test_a_broken_file_is_refused_with_the_reason(mutate: Any, message: str) -> None:
    data = raw_facts()
    mutate(data)
    with pytest.raises(FactsError, match=message):
        parse_facts(data)


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yml"
    bad.write_text("documents: [unclosed", encoding="utf-8")
    with pytest.raises(FactsError):
        read_facts(bad)
