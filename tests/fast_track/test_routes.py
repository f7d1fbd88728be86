"""The planner's route: anyone may plan; a signed-in enterprise's profile fills region and verified qualification;
bad input is a 422 naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.db import Database
from fast_track.seed import seed_centres

Client = TestClient[Any, Any]
PLAN = "/api/v1/fast-track/plan"

CLERK = {
    "kind": "invention",
    "stage": "substantive_exam",
    "technical_field": "锂电池隔膜",
    "region": "440305",
    "pct_national_phase": False,
    "foreign_allowed_office": "US",
    "filed_abroad_after_china": False,
    "exploiting": True,
    "related_applications": 3,
    "centre_record": True,
}


@pytest.fixture
async def centres(db: Database) -> None:
    async with db.transaction() as session:
        await seed_centres(session)


def track(answer: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in answer["tracks"] if t["track"] == name)


async def test_anyone_gets_the_ranked_plan_of_the_clerks_example(client: Client, centres: None) -> None:
    response = await client.post(PLAN, json=CLERK)
    assert response.status == 200, await response.text()
    answer = await response.json()
    days = [t["expected_days"] for t in answer["tracks"]]
    known = [d for d in days if d is not None]
    assert known == sorted(known) and days[: len(known)] == known  # soonest first, routes with no figure last
    assert track(answer, "priority_exam")["eligible"] == "yes"
    assert track(answer, "pph")["eligible"] == "yes"
    assert track(answer, "fast_preexam")["eligible"] == "no"  # already in substantive examination
    assert any("stage" in r for r in track(answer, "fast_preexam")["reasons"])
    assert track(answer, "centralized_exam")["eligible"] == "no"  # 3 < 50
    assert track(answer, "trademark_fast_exam")["eligible"] == "no"
    assert answer["recommended"] == "pph"
    assert answer["asked"] == []
    assert answer["field_match"]["field"] == "new_energy" and answer["field_match"]["matched"] == "锂电池"
    assert answer["centre"]["name"] == "中国（深圳）知识产权保护中心"
    assert answer["profile"] is None
    assert all(t["source"].startswith("来源：") for t in answer["tracks"])


async def test_missing_facts_make_routes_unknown_and_are_asked(client: Client) -> None:
    answer = await (await client.post(PLAN, json={"kind": "invention"})).json()
    assert "stage" in answer["asked"]
    for t in answer["tracks"]:
        if t["eligible"] == "unknown":
            assert any(c["verdict"] == "unknown" for c in t["checks"])


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "software"}, "kind"),
        ({"stage": "examined"}, "stage"),
        ({"region": "990000"}, "region"),
        ({"region": "33010"}, "region"),
        ({"related_applications": -1}, "related_applications"),
        ({"mark_type": "sound"}, "mark_type"),
        ({"foreign_allowed_office": "USA"}, "foreign_allowed_office"),
        ({"unknown_field": 1}, "unknown_field"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(client: Client, payload: dict[str, Any], field: str) -> None:
    response = await client.post(PLAN, json=payload)
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "validation_error"
    assert any(d["field"].endswith(field) for d in error["details"])
