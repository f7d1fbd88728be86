"""The planner's rules, one case each, named by the route and the rule id of `bot/facts/policy.yml` it checks.

The pure `plan()` is called with the real data file and a small list of centres; nothing here hard-codes a figure
the data file holds: expected days, fees and parameters are read from the rules.
"""

from __future__ import annotations

from typing import Any

import pytest

from agencies.catalogue import FieldCode
from fast_track.planner import Centre, Profile, plan
from fast_track.rules import Kind, Rules, TrackName, load_rules
from fast_track.schemas import PlanAnswer, PlanRequest, TrackOut

SHENZHEN = Centre(
    name="中国（深圳）知识产权保护中心",
    name_en="China (Shenzhen) IPPC",
    region_codes=("440300",),
    fields=(FieldCode.NEW_ENERGY, FieldCode.DIGITAL_ECONOMY),
    words=("锂电",),
    application_types=("invention", "utility_model", "design"),
    scope_confirmed=True,
)
ZHONGSHAN_LIGHTING = Centre(
    name="中山（灯饰）快速维权中心",
    name_en="Zhongshan (lighting)",
    region_codes=("442000",),
    fields=(),
    words=("灯饰", "lighting"),
    application_types=("design",),
    kind="fast_rights",
)
NINGBO_SCOPE_UNKNOWN = Centre(
    name="中国（宁波）知识产权保护中心",
    name_en="China (Ningbo) IPPC",
    region_codes=("330200",),
    fields=(),
    words=(),
    application_types=("invention", "utility_model", "design"),
)
CENTRES = [SHENZHEN, ZHONGSHAN_LIGHTING, NINGBO_SCOPE_UNKNOWN]


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules()


def ask(rules: Rules, *, profile: Profile | None = None, **fields: Any) -> PlanAnswer:
    return plan(PlanRequest.model_validate(fields), rules, CENTRES, profile)


def route(answer: PlanAnswer, name: str) -> TrackOut:
    return next(t for t in answer.tracks if t.track.value == name)


def deciding(out: TrackOut) -> list[str]:
    """The rule ids that decide the route's verdict."""
    return [c.rule for c in out.checks if c.verdict == out.eligible]


# ---------------------------------------------------------------- fast_preexam

PREEXAM: dict[str, Any] = {
    "kind": "invention",
    "stage": "not_filed",
    "technical_field": "锂电池隔膜",
    "region": "440305",
    "pct_national_phase": False,
    "centre_record": True,
}


def test_fast_preexam_open_for_a_local_unfiled_application_in_the_centres_field(rules: Rules) -> None:
    out = route(ask(rules, **PREEXAM), "fast_preexam")
    assert out.eligible == "yes"
    assert out.expected_days == rules[TrackName.FAST_PREEXAM].times[Kind.INVENTION].expected_days
    assert any("中国（深圳）" in r for r in out.reasons)


def test_fast_preexam_rule_stage_already_filed(rules: Rules) -> None:
    out = route(ask(rules, **{**PREEXAM, "stage": "filed"}), "fast_preexam")
    assert out.eligible == "no" and deciding(out) == ["stage"]


def test_fast_preexam_rule_pct_national_phase_excluded(rules: Rules) -> None:
    out = route(ask(rules, **{**PREEXAM, "pct_national_phase": True}), "fast_preexam")
    assert out.eligible == "no" and deciding(out) == ["pct_national_phase"]


def test_fast_preexam_rule_centre_region_no_centre_serves(rules: Rules) -> None:
    out = route(ask(rules, **{**PREEXAM, "region": "620100"}), "fast_preexam")
    assert out.eligible == "no" and "centre_region" in deciding(out)


def test_fast_preexam_rule_centre_field_outside_scope(rules: Rules) -> None:
    answer = ask(rules, **{**PREEXAM, "technical_field": "中药饮片"})
    out = route(answer, "fast_preexam")
    assert out.eligible == "no" and deciding(out) == ["centre_field"]
    assert answer.field_match is not None and answer.field_match.centre_match is None


def test_fast_preexam_rule_centre_field_a_design_at_a_fast_rights_centre(rules: Rules) -> None:
    answer = ask(rules, **{**PREEXAM, "kind": "design", "technical_field": "LED lighting fixture", "region": "442000"})
    assert route(answer, "fast_preexam").eligible == "yes"
    assert answer.centre is not None and answer.centre.name == "中山（灯饰）快速维权中心"
    assert answer.field_match is not None and answer.field_match.centre_match == "lighting"
    # …which pre-examines designs only.
    invention = ask(rules, **{**PREEXAM, "technical_field": "LED lighting fixture", "region": "442000"})
    assert route(invention, "fast_preexam").eligible == "no"


def test_fast_preexam_rule_centre_field_scope_not_on_our_table(rules: Rules) -> None:
    answer = ask(rules, **{**PREEXAM, "region": "330203"})
    out = route(answer, "fast_preexam")
    assert out.eligible == "unknown" and deciding(out) == ["centre_field"]
    assert any("请向该中心确认" in r for r in out.reasons)
    assert answer.asked == []  # nothing the applicant can answer decides it
    assert any("尚未核实" in note for note in answer.notes)  # the centre's scope is not confirmed


def test_a_confirmed_centre_carries_no_scope_warning(rules: Rules) -> None:
    answer = ask(rules, **PREEXAM)
    assert not any("尚未核实" in note for note in answer.notes)
    assert any("IPC" in note for note in answer.notes)  # the match reads the description, the centre the class


def test_fast_preexam_rule_centre_record_not_yet(rules: Rules) -> None:
    out = route(ask(rules, **{**PREEXAM, "centre_record": False}), "fast_preexam")
    assert out.eligible == "no" and deciding(out) == ["centre_record"]


def test_fast_preexam_unknown_asks_what_decides_it(rules: Rules) -> None:
    answer = ask(rules, kind="invention", stage="not_filed")
    assert route(answer, "fast_preexam").eligible == "unknown"
    assert {"region", "technical_field", "pct_national_phase", "centre_record"} <= set(answer.asked)


# ---------------------------------------------------------------- priority_exam

IN_EXAM: dict[str, Any] = {"kind": "invention", "stage": "substantive_exam"}


def test_priority_exam_rule_ground_key_industry(rules: Rules) -> None:
    answer = ask(rules, **IN_EXAM, technical_field="锂电池隔膜")
    out = route(answer, "priority_exam")
    assert out.eligible == "yes" and "ground" in deciding(out)
    assert answer.field_match is not None and answer.field_match.key_industry


def test_priority_exam_rule_ground_fast_moving_field(rules: Rules) -> None:
    answer = ask(rules, **IN_EXAM, technical_field="cloud computing scheduler")
    assert route(answer, "priority_exam").eligible == "yes"
    assert answer.field_match is not None and answer.field_match.fast_moving and not answer.field_match.key_industry
    assert answer.lang == "en"


def test_priority_exam_rule_ground_none_met(rules: Rules) -> None:
    out = route(
        ask(rules, **IN_EXAM, technical_field="机械", exploiting=False, filed_abroad_after_china=False),
        "priority_exam",
    )
    assert out.eligible == "no" and deciding(out) == ["ground"]


def test_priority_exam_rule_ground_undecided_asks(rules: Rules) -> None:
    answer = ask(rules, **IN_EXAM)
    assert route(answer, "priority_exam").eligible == "unknown"
    assert {"technical_field", "exploiting", "filed_abroad_after_china"} <= set(answer.asked)


def test_priority_exam_rule_stage_not_after_the_first_office_action(rules: Rules) -> None:
    out = route(ask(rules, kind="invention", stage="office_action", exploiting=True), "priority_exam")
    assert out.eligible == "no" and deciding(out) == ["stage"]


def test_priority_exam_rule_stage_utility_model_once_filed(rules: Rules) -> None:
    out = route(ask(rules, kind="utility_model", stage="filed", exploiting=True), "priority_exam")
    assert out.eligible == "yes"
    assert out.expected_days == rules[TrackName.PRIORITY_EXAM].times[Kind.UTILITY_MODEL].expected_days


def test_priority_exam_rule_recommendation_little_giant_from_the_profile(rules: Rules) -> None:
    giant = Profile(
        enterprise_id=7, name="某公司", region_code="440305", qualification="national_little_giant", verified=True
    )
    answer = ask(rules, profile=giant, **IN_EXAM, exploiting=True)
    out = route(answer, "priority_exam")
    assert any("小巨人" in r for r in out.reasons)
    assert answer.profile is not None and answer.profile.filled == ["region", "qualification"]
    assert "企业资料" in answer.profile.note
    unverified = Profile(enterprise_id=7, region_code="440305", qualification="national_little_giant", verified=False)
    answer = ask(rules, profile=unverified, **IN_EXAM, exploiting=True)
    assert not any("小巨人" in r for r in route(answer, "priority_exam").reasons)
    assert answer.profile is not None and answer.profile.filled == ["region"]


def test_priority_exam_rule_recommendation_not_needed_on_ground_five(rules: Rules) -> None:
    out = route(ask(rules, **IN_EXAM, filed_abroad_after_china=True), "priority_exam")
    assert out.eligible == "yes"
    assert any("无需推荐" in r for r in out.reasons)


# ---------------------------------------------------------------- pph


def test_pph_rule_foreign_allowed_office_a_partner(rules: Rules) -> None:
    assert route(ask(rules, kind="invention", stage="filed", foreign_allowed_office="jp"), "pph").eligible == "yes"


def test_pph_rule_foreign_allowed_office_none(rules: Rules) -> None:
    out = route(ask(rules, kind="invention", stage="filed", foreign_allowed_office=None), "pph")
    assert out.eligible == "no" and deciding(out) == ["foreign_allowed_office"]


def test_pph_rule_foreign_allowed_office_not_a_partner(rules: Rules) -> None:
    assert "IN" not in rules[TrackName.PPH].partner_offices
    out = route(ask(rules, kind="invention", stage="filed", foreign_allowed_office="IN"), "pph")
    assert out.eligible == "no" and deciding(out) == ["foreign_allowed_office"]


def test_pph_rule_foreign_allowed_office_missing_is_asked(rules: Rules) -> None:
    answer = ask(rules, kind="invention", stage="filed")
    assert route(answer, "pph").eligible == "unknown" and "foreign_allowed_office" in answer.asked


def test_pph_rule_kind_inventions_only(rules: Rules) -> None:
    out = route(ask(rules, kind="design", stage="filed", foreign_allowed_office="US"), "pph")
    assert out.eligible == "no" and deciding(out) == ["kind"]


def test_pph_costs_no_fee_and_names_the_source(rules: Rules) -> None:
    out = route(ask(rules, kind="invention", stage="filed", foreign_allowed_office="US"), "pph")
    fee = next(f for f in out.figures if f.what == "fee_fen")
    assert fee.value == rules[TrackName.PPH].fee.fen == out.fee_fen
    assert "PPH" in fee.source
    days = next(f for f in out.figures if f.what == "expected_days")
    assert days.source.startswith("来源：") and days.confirmed is False


# ---------------------------------------------------------------- centralized_exam


def test_centralized_exam_rule_related_applications_minimum(rules: Rules) -> None:
    minimum = rules[TrackName.CENTRALIZED_EXAM].min_related_applications
    assert minimum is not None
    below = route(ask(rules, **IN_EXAM, related_applications=minimum - 1), "centralized_exam")
    assert below.eligible == "no" and deciding(below) == ["related_applications"]
    at = route(ask(rules, **IN_EXAM, related_applications=minimum), "centralized_exam")
    assert at.eligible == "yes"


def test_routes_that_exclude_each_other_say_so(rules: Rules) -> None:
    answer = ask(rules, **IN_EXAM, related_applications=60, exploiting=True, foreign_allowed_office="US")
    central = route(answer, "centralized_exam")
    assert central.eligible == "yes"
    exclusive = [r for r in central.reasons if "exclusive" in r]
    assert exclusive and "专利优先审查" in exclusive[0] and "PPH" in exclusive[0]
    assert TrackName.PRIORITY_EXAM in central.exclusive_with


# ---------------------------------------------------------------- trademark_fast_exam

MARK: dict[str, Any] = {"kind": "trademark", "stage": "not_filed", "mark_type": "word"}


def test_trademark_fast_exam_rule_situation_strategic_industry(rules: Rules) -> None:
    out = route(ask(rules, **MARK, situation="我们做低空经济的无人机配送"), "trademark_fast_exam")
    assert out.eligible == "yes"
    assert out.expected_days == rules[TrackName.TRADEMARK_FAST_EXAM].times[Kind.TRADEMARK].expected_days


def test_trademark_fast_exam_rule_mark_type_figurative(rules: Rules) -> None:
    out = route(ask(rules, **{**MARK, "mark_type": "figurative"}, situation="展会"), "trademark_fast_exam")
    assert out.eligible == "no" and deciding(out) == ["mark_type"]
    assert any("未经官方文本证实" in r for r in out.reasons)  # the 2025 text is not confirmed


def test_trademark_fast_exam_rule_situation_unclear_is_asked(rules: Rules) -> None:
    answer = ask(rules, **MARK, situation="想快点")
    assert route(answer, "trademark_fast_exam").eligible == "unknown" and answer.asked == ["situation"]


def test_trademark_fast_exam_rule_kind_patents_excluded(rules: Rules) -> None:
    out = route(ask(rules, **IN_EXAM), "trademark_fast_exam")
    assert out.eligible == "no" and deciding(out) == ["kind"]


# ---------------------------------------------------------------- normal, ranking, recommendation


def test_normal_rule_stage_granted_nothing_to_speed_up(rules: Rules) -> None:
    answer = ask(rules, kind="invention", stage="granted")
    assert all(t.eligible == "no" for t in answer.tracks)
    assert answer.recommended is None


def test_ranked_soonest_first_and_the_soonest_open_route_recommended(rules: Rules) -> None:
    answer = ask(rules, **PREEXAM)
    days = [t.expected_days for t in answer.tracks]
    known = [d for d in days if d is not None]
    assert known == sorted(known) and days[: len(known)] == known
    assert answer.recommended == next(t.track for t in answer.tracks if t.eligible == "yes")
    assert answer.recommended is TrackName.FAST_PREEXAM


def test_every_route_names_its_sources_and_the_answer_is_not_legal_advice(rules: Rules) -> None:
    answer = ask(rules, **IN_EXAM, lang="en")
    for out in answer.tracks:
        assert out.source.startswith("Source: ")
        assert all(f.source.startswith("Source: ") for f in out.figures)
        assert all(c.source for c in out.checks)
    assert "not legal advice" in answer.disclaimer


def test_draft_links_only_for_open_drafted_routes(rules: Rules) -> None:
    answer = ask(rules, **IN_EXAM, exploiting=True, foreign_allowed_office=None)
    assert route(answer, "priority_exam").draft_url is not None
    assert route(answer, "pph").draft_url is None  # ruled out: no allowed claims abroad
    assert route(answer, "normal").draft_url is None
