"""The fast-track form's answers as pure functions: free text → the planner's values, what an opening sentence already
says, the chat's slots → the planner's request (contract field names), and the questions for a plan."""

from __future__ import annotations

import pytest

from bot.eligibility import UNSURE
from bot.plan_answers import (
    MAX_PLAN_QUESTIONS,
    normalise_kind,
    normalise_mark_type,
    normalise_office,
    normalise_stage,
    plan_fields,
    plan_questions,
    prefill_from_text,
)
from fast_track.schemas import PlanRequest


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("发明专利", "invention"),
        ("实用新型", "utility_model"),
        ("外观", "design"),
        ("注册商标", "trademark"),
        ("trademark_registration", "trademark"),
        ("our brand name", "trademark"),
        ("复审", "reexamination"),
        ("嗯", None),
    ],
)
def test_kinds_in_everyday_words(text: str, kind: str | None) -> None:
    assert normalise_kind(text) == kind


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("还没申请", "not_filed"),
        ("not filed yet", "not_filed"),
        ("刚提交", "filed"),
        ("实审中", "substantive_exam"),
        ("收到审查意见了", "office_action"),
        ("we got an office action", "office_action"),
        ("已授权", "granted"),
        ("不清楚", UNSURE),
        ("你好", None),
    ],
)
def test_stages_in_everyday_words(text: str, stage: str | None) -> None:
    assert normalise_stage(text) == stage


@pytest.mark.parametrize(
    ("text", "office"),
    [
        ("US", "US"),
        ("美国授权了", "US"),
        ("the EPO allowed it", "EP"),
        ("没有", "none"),
        ("none", "none"),
        ("不确定", UNSURE),
        ("其他国家", "other"),
        ("嗯嗯", None),
    ],
)
def test_allowed_offices(text: str, office: str | None) -> None:
    assert normalise_office(text) == office


def test_mark_types() -> None:
    assert normalise_mark_type("图形的") == "figurative"
    assert normalise_mark_type("证明商标") == "certification"
    assert normalise_mark_type("word") == "word"
    assert normalise_mark_type("嗯") is None


def test_the_reported_sentence_gives_kind_field_and_stage() -> None:
    found = prefill_from_text("我们有件锂电池隔膜的发明专利在实审，怎么最快拿到授权？", {})
    assert found["application_type"] == "invention"
    assert found["stage"] == "substantive_exam"
    assert found["technical_field"] == "new_energy"
    assert "授权" in found["plan_field_text"]


def test_a_sentence_names_a_foreign_allowance_and_the_models_entities_win() -> None:
    found = prefill_from_text(
        "美国那边已经授权了，国内这件怎么最快", {"service_type": "utility_model", "region": "330100"}
    )
    assert found["foreign_allowed_office"] == "US"
    assert found["application_type"] == "utility_model"
    assert found["plan_region"] == "330100"


def test_a_bare_question_prefills_nothing() -> None:
    assert prefill_from_text("怎么最快授权", {}) == {}
    assert prefill_from_text("can we speed up our patent", {}) == {}


def test_a_trademark_sentence_takes_no_technical_field() -> None:
    found = prefill_from_text("新能源汽车品牌的商标能加急吗", {})
    assert found["application_type"] == "trademark" and "technical_field" not in found


def test_slots_become_the_planners_request_with_only_what_is_known() -> None:
    slots = {
        "application_type": "invention",
        "stage": "substantive_exam",
        "technical_field": "new_energy",
        "plan_field_text": "做锂电池隔膜的",
        "plan_region": "330100",
        "foreign_allowed_office": "none",
        "centre_record": UNSURE,
        "exploitation_status": "ready",
        "filed_abroad_first_in_china": False,
    }
    fields = plan_fields(slots)
    assert fields == {
        "kind": "invention",
        "stage": "substantive_exam",
        "technical_field": "做锂电池隔膜的",
        "region": "330100",
        "foreign_allowed_office": None,  # "none": the contract's explicit null
        "exploiting": True,
        "filed_abroad_after_china": False,
    }
    request = PlanRequest.model_validate(fields)  # what the planner accepts, field names and all
    assert request.given("foreign_allowed_office") and not request.given("centre_record")


def test_the_eligibility_checks_first_office_action_is_the_planners_stage() -> None:
    fields = plan_fields({"application_type": "invention", "first_office_action_received": True})
    assert fields == {"kind": "invention", "stage": "office_action"}
    assert "kind" not in plan_fields({"application_type": "reexamination"})


def test_plan_questions_follow_what_the_planner_still_needs_a_few_at_most() -> None:
    assert plan_questions({}, ["kind"]) == ["application_type"]
    asked = ["stage", "technical_field", "region", "foreign_allowed_office", "centre_record", "exploiting"]
    questions = plan_questions({"application_type": "invention"}, asked)
    assert questions[:3] == ["application_type", "stage", "technical_field"]
    assert questions[3:] == ["plan_region", "foreign_allowed_office", "centre_record"]
    assert len(questions) - 3 == MAX_PLAN_QUESTIONS
    # A signed-in company's region is known (the form never asks a filled slot); the list stays the same while
    # answers come in, so the form does not jump between questions.
    known = plan_questions({"application_type": "invention", "plan_region": "320500"}, asked[:2] + asked[3:])
    assert known == questions
    # Nothing open: kind, stage and field only.
    assert plan_questions({"application_type": "design"}, []) == ["application_type", "stage", "technical_field"]


def test_a_trademark_is_asked_its_stage_and_mark_type_never_patent_questions() -> None:
    questions = plan_questions({"application_type": "trademark"}, ["stage", "mark_type", "centre_record", "exploiting"])
    assert questions == ["application_type", "stage", "mark_type"]
