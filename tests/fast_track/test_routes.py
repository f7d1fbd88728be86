"""The planner's route: anyone may plan; a signed-in enterprise's profile fills region and verified qualification;
bad input is a 422 naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.auth import Role
from core.db import Database
from core.settings import Settings
from enterprises.models import Enterprise
from fast_track.seed import seed_centres
from tests.agencies.builders import make_agency
from tests.conftest import AccountFactory
from tests.security.conftest import unbound_enterprise_staff
from tests.vouchers.builders import make_enterprise

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


async def test_what_each_kind_of_caller_gets_filled_in(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory, centres: None
) -> None:
    """The profile fills in for enterprise staff only: a verified little giant's region and qualification; an
    unverified enterprise's region but not its qualification; staff of no enterprise, agency staff and officials
    nothing (and the answer says which)."""
    verified = await make_enterprise(db, region_code="440305", qualification="national_little_giant")
    pending = await make_enterprise(db, region_code="440305", qualification="national_little_giant")
    async with db.transaction() as session:
        enterprise = await session.get(Enterprise, pending)
        assert enterprise is not None
        enterprise.verification = "pending"  # registered by its own staff, not yet verified by an official
    body = {"kind": "invention", "stage": "substantive_exam", "technical_field": "锂电池隔膜", "exploiting": True}

    giant = await make_account(Role.ENTERPRISE, enterprise_id=verified)
    answer = await (await client.post(PLAN, json=body, headers=giant.headers)).json()
    assert answer["profile"]["filled"] == ["region", "qualification"]
    assert answer["profile"]["qualification"] == "national_little_giant"
    assert answer["centre"]["name"] == "中国（深圳）知识产权保护中心"  # the region came from the profile
    assert any("小巨人" in r for r in track(answer, "priority_exam")["reasons"])
    # A region given in the request wins over the profile's.
    elsewhere = await (await client.post(PLAN, json={**body, "region": "110105"}, headers=giant.headers)).json()
    assert elsewhere["profile"]["filled"] == ["qualification"]
    assert elsewhere["centre"]["name"] == "中国（北京）知识产权保护中心"

    unverified = await make_account(Role.ENTERPRISE, enterprise_id=pending)
    answer = await (await client.post(PLAN, json=body, headers=unverified.headers)).json()
    assert answer["profile"]["filled"] == ["region"] and answer["profile"]["qualification"] is None
    assert not any("小巨人" in r for r in track(answer, "priority_exam")["reasons"])

    unbound = await unbound_enterprise_staff(db, settings)
    answer = await (await client.post(PLAN, json=body, headers=unbound.headers)).json()
    assert answer["profile"]["enterprise_id"] is None and answer["profile"]["filled"] == []
    assert "未绑定企业" in answer["profile"]["note"]
    assert answer["centre"] is None  # no region known: no local centre

    others = [await make_account(Role.OFFICIAL), await make_account(Role.AGENCY, agency_id=await make_agency(db))]
    for account in others:
        answer = await (await client.post(PLAN, json=body, headers=account.headers)).json()
        assert answer["profile"] is None and answer["centre"] is None
