"""Property-based: over the whole input space the planner answers without an error, and its verdicts agree with
the rules of the data file (kinds, stages, partner offices, the batch minimum, mark types, figures)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from agencies.catalogue import FieldCode
from fast_track.planner import ASKED_ORDER, Centre, Profile, plan
from fast_track.rules import Kind, MarkType, Stage, TrackName, load_rules
from fast_track.schemas import PlanRequest

RULES = load_rules()
CENTRES = [
    Centre("中国（深圳）知识产权保护中心", "Shenzhen", ("440300",), (FieldCode.NEW_ENERGY,), ("锂电",),
           ("invention", "utility_model", "design"), scope_confirmed=True),
    Centre("中国（广东）知识产权保护中心", "Guangdong", ("440000",), (FieldCode.NEXT_GEN_IT,), (),
           ("invention", "utility_model", "design")),
    Centre("中山（灯饰）快速维权中心", "Zhongshan", ("442000",), (), ("灯饰",), ("design",), kind="fast_rights"),
    Centre("中国（宁波）知识产权保护中心", "Ningbo", ("330200",), (), (), ("invention", "utility_model", "design")),
]  # fmt: skip
FIELD_TEXTS = ["锂电池隔膜", "cloud computing", "中药", "机械", "LED 灯饰", "量子芯片", "", "xyz", "新材料"]
REGIONS = ["330203", "440305", "440300", "440100", "442000", "330106", "110000", "620100"]
OFFICES = ["US", "JP", "EP", "KR", "IN", "GB", "UK", "NO", "ZZ"]
SITUATIONS = ["低空经济无人机", "重大项目", "产业链中已使用", "疫情防控", "想快点", "expo 2026"]

MISSING = object()


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A value, an explicit null, or the field left out."""
    return st.one_of(st.just(MISSING), st.none(), strategy)


REQUESTS = st.fixed_dictionaries(
    {
        "kind": maybe(st.sampled_from([k.value for k in Kind])),
        "stage": maybe(st.sampled_from([s.value for s in Stage])),
        "technical_field": maybe(st.sampled_from(FIELD_TEXTS) | st.text(max_size=30)),
        "region": maybe(st.sampled_from(REGIONS)),
        "pct_national_phase": maybe(st.booleans()),
        "foreign_allowed_office": maybe(st.sampled_from(OFFICES)),
        "filed_abroad_after_china": maybe(st.booleans()),
        "exploiting": maybe(st.booleans()),
        "related_applications": maybe(st.integers(min_value=0, max_value=200)),
        "centre_record": maybe(st.booleans()),
        "mark_type": maybe(st.sampled_from([m.value for m in MarkType])),
        "situation": maybe(st.sampled_from(SITUATIONS) | st.text(max_size=30)),
        "lang": maybe(st.sampled_from(["zh", "en"])),
    }
).map(lambda d: {k: v for k, v in d.items() if v is not MISSING})
PROFILES = st.one_of(
    st.none(),
    st.builds(
        Profile,
        enterprise_id=st.one_of(st.none(), st.integers(1, 9)),
        region_code=st.one_of(st.none(), st.sampled_from(REGIONS)),
        qualification=st.sampled_from([None, "none", "provincial_specialized", "national_little_giant"]),
        verified=st.booleans(),
    ),
)


@settings(max_examples=400, deadline=None)
@given(raw=REQUESTS, profile=PROFILES)
def test_every_combination_gets_verdicts_that_agree_with_the_data_file(
    raw: dict[str, Any], profile: Profile | None
) -> None:
    try:
        request = PlanRequest.model_validate(raw)
    except ValidationError:
        return  # e.g. whitespace-only text is fine, but nothing else here is invalid: checked below
    answer = plan(request, RULES, CENTRES, profile)

    assert [t.track for t in answer.tracks].count(TrackName.NORMAL) == 1
    assert {t.track for t in answer.tracks} == set(TrackName)
    days = [t.expected_days for t in answer.tracks]
    known = [d for d in days if d is not None]
    assert known == sorted(known) and days[: len(known)] == known, "ranked soonest first, no figure last"
    opened = [t.track for t in answer.tracks if t.eligible == "yes"]
    assert answer.recommended == (opened[0] if opened else None)
    assert answer.asked == [name for name in ASKED_ORDER if name in answer.asked]

    for out in answer.tracks:
        track = RULES[out.track]
        assert out.fee_fen == track.fee.fen
        kind = request.kind
        if kind is not None and kind in track.times:
            assert out.expected_days == track.times[kind].expected_days
        # Every route names its sources; a route ruled out says which rule.
        assert out.source and all(f.source for f in out.figures)
        if out.eligible == "no":
            assert any(c.verdict == "no" for c in out.checks)
            assert out.reasons, out.track
        if out.eligible == "unknown":
            undecided = [c for c in out.checks if c.verdict == "unknown"]
            # An input decides it (and is asked), or only the centre can: its fields are not on the table.
            scope_unknown = (
                answer.centre is not None and not answer.centre.fields and out.track is TrackName.FAST_PREEXAM
            )
            assert undecided and (answer.asked or scope_unknown)
        if kind is not None and kind not in track.kinds:
            assert out.eligible == "no"
        if (
            kind is not None
            and kind in track.kinds
            and request.stage is not None
            and request.stage not in track.stages[kind]
        ):
            assert out.eligible == "no"
        if out.eligible == "yes":
            assert kind in track.kinds and request.stage in track.stages[kind]
            assert out.track not in (TrackName.FAST_PREEXAM,) or request.pct_national_phase is False
            if out.track is TrackName.PPH:
                office = "GB" if request.foreign_allowed_office == "UK" else request.foreign_allowed_office
                assert office in track.partner_offices
            if out.track is TrackName.CENTRALIZED_EXAM:
                assert (request.related_applications or 0) >= (track.min_related_applications or 0)
            if out.track is TrackName.TRADEMARK_FAST_EXAM:
                assert request.mark_type in track.mark_types
            if out.track is TrackName.FAST_PREEXAM:
                assert request.centre_record is True and answer.centre is not None
    # What is asked was not answered (a field text or situation the planner could not read is asked again).
    for name in answer.asked:
        if name in ("technical_field", "situation"):
            continue
        if name == "region":
            assert request.region is None and (profile is None or profile.region_code is None)
        else:
            assert not request.given(name), name


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
FIELDS = [*ASKED_ORDER, "lang", "extra"]


async def test_the_route_never_fails_over_arbitrary_json(client: TestClient[Any, Any]) -> None:
    """Any JSON object is a 200 plan or a 422 naming a field: never a 500."""
    bodies: list[dict[str, Any]] = []

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.dictionaries(
            st.sampled_from(FIELDS),
            JSON_VALUES | REQUESTS.flatmap(lambda r: st.sampled_from(list(r.values()) or [None])),
            max_size=6,
        )
    )
    def collect(body: dict[str, Any]) -> None:
        bodies.append(body)

    collect()
    for body in bodies:
        response = await client.post("/api/v1/fast-track/plan", json=body)
        assert response.status in (200, 422), (body, await response.text())
        if response.status == 422:
            assert (await response.json())["error"]["details"][0]["field"]
