"""The priority-examination rules (SIPO Order No. 76, coded in `bot/eligibility.py`) as the form's verdict sees them."""

from __future__ import annotations

from typing import Any

import pytest

from agencies.catalogue import FieldCode
from bot.eligibility import (
    UNSURE,
    Answers,
    CaseType,
    Exploitation,
    Ground,
    Signer,
    Verdict,
    assess,
    needed_slots,
    normalise_case_type,
    normalise_exploitation,
    normalise_field,
    normalise_yes_no,
)

PLAIN: dict[str, Any] = dict(
    technical_field=FieldCode.MECHANICAL,
    filed_abroad_first_in_china=False,
    exploitation=Exploitation.NONE,
    provincial_priority_industry=False,
    first_office_action_received=False,
)


def answers(case: CaseType = CaseType.INVENTION, **changes: Any) -> Answers:
    return Answers(case, **{**PLAIN, **changes})


@pytest.mark.parametrize(
    ("changes", "ground"),
    [
        ({"technical_field": FieldCode.NEW_ENERGY}, Ground.KEY_INDUSTRY),
        ({"technical_field": FieldCode.SMART_MANUFACTURING}, Ground.KEY_INDUSTRY),
        ({"provincial_priority_industry": True}, Ground.PROVINCIAL_PRIORITY),
        ({"technical_field": FieldCode.DIGITAL_ECONOMY}, Ground.FAST_MOVING_FIELD),
        ({"exploitation": Exploitation.EXPLOITING}, Ground.EXPLOITATION),
        ({"exploitation": Exploitation.READY}, Ground.EXPLOITATION),
        ({"exploitation": Exploitation.OTHERS_EXPLOITING}, Ground.EXPLOITATION),
        ({"filed_abroad_first_in_china": True}, Ground.FIRST_FILED_IN_CHINA),
    ],
)
def test_each_ground_alone_makes_an_invention_eligible(changes: dict[str, Any], ground: Ground) -> None:
    result = assess(answers(**changes))
    assert result.verdict is Verdict.ELIGIBLE
    assert result.grounds == (ground,)
    assert result.reasons


def test_no_ground_is_not_eligible_and_mentions_the_public_interest_ground() -> None:
    result = assess(answers())
    assert result.verdict is Verdict.NOT_ELIGIBLE
    assert result.materials == ()
    assert any(note.code == "public_interest" for note in result.notes)


def test_unsure_answers_make_it_depend() -> None:
    result = assess(answers(provincial_priority_industry=None))
    assert result.verdict is Verdict.DEPENDS
    assert result.signer is Signer.PROVINCIAL_OFFICE_OR_STATE_COUNCIL_DEPT


def test_an_invention_with_its_first_office_action_is_not_eligible_whatever_the_grounds() -> None:
    result = assess(answers(technical_field=FieldCode.NEW_ENERGY, first_office_action_received=True))
    assert result.verdict is Verdict.NOT_ELIGIBLE
    assert result.reasons[0].code == "first_office_action"
    assert any("PPH" in note.en for note in result.notes)


@pytest.mark.parametrize("case", [CaseType.UTILITY_MODEL, CaseType.DESIGN])
def test_utility_models_and_designs_use_the_same_grounds_and_close_in_two_months(case: CaseType) -> None:
    # The first office action question is for inventions only; an answer to it does not block these.
    result = assess(answers(case, exploitation=Exploitation.EXPLOITING, first_office_action_received=True))
    assert result.verdict is Verdict.ELIGIBLE
    assert result.time_limit == ("2个月内结案", "closed within 2 months")
    assert "first_office_action_received" not in needed_slots(case, FieldCode.MECHANICAL)


def test_materials_and_signer_for_a_recommended_request() -> None:
    result = assess(answers(technical_field=FieldCode.BIOTECH_MEDICINE))
    codes = [m.code for m in result.materials]
    assert codes == ["request_form", "prior_art", "evidence", "recommendation"]
    assert result.signer is Signer.PROVINCIAL_OFFICE_OR_STATE_COUNCIL_DEPT


def test_first_filed_in_china_alone_needs_no_recommendation() -> None:
    result = assess(answers(filed_abroad_first_in_china=True))
    assert result.signer is Signer.NONE_NEEDED
    assert "recommendation" not in [m.code for m in result.materials]


def test_first_filed_in_china_with_other_grounds_notes_the_recommendation_exemption() -> None:
    result = assess(answers(filed_abroad_first_in_china=True, exploitation=Exploitation.EXPLOITING))
    assert result.signer is Signer.PROVINCIAL_OFFICE_OR_STATE_COUNCIL_DEPT
    assert any(note.code == "ground_5_no_recommendation" for note in result.notes)


def test_invalidation_depends_on_a_pending_dispute() -> None:
    assert assess(Answers(CaseType.INVALIDATION)).verdict is Verdict.DEPENDS
    assert assess(Answers(CaseType.INVALIDATION, infringement_dispute_pending=True)).verdict is Verdict.ELIGIBLE
    assert assess(Answers(CaseType.INVALIDATION, infringement_dispute_pending=False)).verdict is Verdict.NOT_ELIGIBLE
    assert needed_slots(CaseType.INVALIDATION, None) == ["application_type"]


def test_time_limits_per_case_type() -> None:
    assert "45" in assess(answers(technical_field=FieldCode.NEW_ENERGY)).time_limit[0]
    assert "7 months" in assess(answers(CaseType.REEXAMINATION, provincial_priority_industry=True)).time_limit[1]


def test_the_form_skips_the_provincial_question_for_key_and_fast_moving_fields() -> None:
    assert "provincial_priority_industry" not in needed_slots(CaseType.INVENTION, FieldCode.NEW_ENERGY)
    assert "provincial_priority_industry" not in needed_slots(CaseType.INVENTION, FieldCode.DIGITAL_ECONOMY)
    assert "provincial_priority_industry" in needed_slots(CaseType.INVENTION, FieldCode.MECHANICAL)
    assert needed_slots(CaseType.INVENTION, FieldCode.MECHANICAL)[-1] == "first_office_action_received"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("发明", CaseType.INVENTION),
        ("是个实用新型", CaseType.UTILITY_MODEL),
        ("外观", CaseType.DESIGN),
        ("an invention patent", CaseType.INVENTION),
        ("utility model", CaseType.UTILITY_MODEL),
        ("复审案件", CaseType.REEXAMINATION),
        ("invalidation", CaseType.INVALIDATION),
        ("不知道", None),
    ],
)
def test_case_type_from_free_text(text: str, expected: CaseType | None) -> None:
    assert normalise_case_type(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("锂电池", FieldCode.NEW_ENERGY),
        ("工业软件", FieldCode.DIGITAL_ECONOMY),
        ("we make batteries", FieldCode.NEW_ENERGY),
        ("新能源汽车零部件", FieldCode.NEW_ENERGY_VEHICLES),
        ("biotech", FieldCode.BIOTECH_MEDICINE),
        ("next-gen IT", FieldCode.NEXT_GEN_IT),
        ("机械加工", FieldCode.MECHANICAL),
        ("其他", FieldCode.OTHER),
        ("new_materials", FieldCode.NEW_MATERIALS),
    ],
)
def test_field_from_free_text(text: str, expected: FieldCode) -> None:
    assert normalise_field(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("是的", True),
        ("不是", False),
        ("没有", False),
        ("yes", True),
        ("no", False),
        ("not sure", UNSURE),
        ("不确定", UNSURE),
        (True, True),
        ("嗯嗯嗯？？", True),
        ("???", None),
    ],
)
def test_yes_no_from_free_text(text: object, expected: object) -> None:
    assert normalise_yes_no(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("已经在实施", Exploitation.EXPLOITING),
        ("准备实施", Exploitation.READY),
        ("别人在实施", Exploitation.OTHERS_EXPLOITING),
        ("都没有", Exploitation.NONE),
        ("already in use", Exploitation.EXPLOITING),
        ("about to use it", Exploitation.READY),
        ("others are using it", Exploitation.OTHERS_EXPLOITING),
        ("none of these", Exploitation.NONE),
        ("不清楚", UNSURE),
    ],
)
def test_exploitation_from_free_text(text: str, expected: object) -> None:
    assert normalise_exploitation(text) == expected
