"""Credit events: officials record and reverse them; the score, level and history follow in the same transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from agencies.models import RatingHistory
from core.auth import Role
from core.db import Database
from core.events import EventBus, RatingChanged
from tests.agencies.builders import make_agency
from tests.conftest import AccountFactory

Client = TestClient[Any, Any]

LATE_REPORT = {
    "category": "late_annual_report",
    "points": -20,
    "reason": "2025年度报告逾期",
    "reference_doc": "浙知发〔2026〕1号",
}


async def add_event(client: Client, agency_id: int, headers: dict[str, str], **event: Any) -> Any:
    response = await client.post(f"/api/v1/agencies/{agency_id}/credit-events", json=event, headers=headers)
    return response.status, await response.json()


async def test_a_deduction_lowers_score_and_level_and_is_kept_in_history(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id = await make_agency(db, score=100)
    official = await make_account(Role.OFFICIAL)
    status, body = await add_event(client, agency_id, official.headers, **LATE_REPORT)
    assert status == 201, body
    assert body["rating"]["score"] == 80 and body["rating"]["level"] == "B"
    assert body["event"]["points"] == -20 and body["event"]["counted"] is True
    assert (body["event"]["category"], body["event"]["category_label"]) == ("late_annual_report", "未按时提交年度报告")
    detail = await (await client.get(f"/api/v1/agencies/{agency_id}")).json()
    change = detail["rating_history"][0]
    assert (change["previous_level"], change["level"], change["cause"]) == ("A", "B", "event")
    assert change["credit_event_id"] == body["event"]["id"]


async def test_rating_changes_are_published_as_domain_events(
    client: Client, db: Database, make_account: AccountFactory, event_bus: EventBus
) -> None:
    seen: list[RatingChanged] = []

    async def remember(_session: Any, event: RatingChanged) -> None:
        seen.append(event)

    event_bus.subscribe(RatingChanged, remember)
    agency_id = await make_agency(db, score=100, name_zh="杭州评级公告专利代理事务所（普通合伙）")
    official = await make_account(Role.OFFICIAL)
    await add_event(client, agency_id, official.headers, **LATE_REPORT)
    mine = [e for e in seen if e.agency_id == agency_id]
    assert mine == [RatingChanged(agency_id, "杭州评级公告专利代理事务所（普通合伙）", "A", "B", 100, 80, "event")]


async def test_bonus_reaches_a_plus(client: Client, db: Database, make_account: AccountFactory) -> None:
    agency_id = await make_agency(db, score=100)
    official = await make_account(Role.OFFICIAL)
    status, body = await add_event(
        client, agency_id, official.headers, category="honours", points=3, reason="省级知识产权服务品牌机构"
    )
    assert status == 201
    assert (body["rating"]["score"], body["rating"]["level"]) == (103, "A_plus")


async def test_reversal_restores_the_rating_and_keeps_both_events(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id = await make_agency(db, score=100)
    official = await make_account(Role.OFFICIAL)
    _, added = await add_event(client, agency_id, official.headers, **LATE_REPORT)
    event_id = added["event"]["id"]
    url = f"/api/v1/agencies/{agency_id}/credit-events/{event_id}/reverse"
    response = await client.post(url, json={"reason": "复议撤销"}, headers=official.headers)
    assert response.status == 201, await response.text()
    body = await response.json()
    assert body["rating"] == {**body["rating"], "score": 100, "level": "A"}
    assert body["event"]["reverses_event_id"] == event_id and body["event"]["points"] == 20
    again = await client.post(url, json={"reason": "再次"}, headers=official.headers)
    assert again.status == 409
    assert (await again.json())["error"]["code"] == "already_reversed"
    of_reversal = await client.post(
        f"/api/v1/agencies/{agency_id}/credit-events/{body['event']['id']}/reverse",
        json={"reason": "x y"},
        headers=official.headers,
    )
    assert of_reversal.status == 409
    record = await (await client.get(f"/api/v1/agencies/{agency_id}/credit-events", headers=official.headers)).json()
    assert [(e["id"], e["counted"]) for e in record["events"]] == [(body["event"]["id"], False), (event_id, False)]
    assert record["events"][1]["reversed_by_event_id"] == body["event"]["id"]


async def test_two_concurrent_events_are_both_counted(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id = await make_agency(db, score=100)
    official = await make_account(Role.OFFICIAL)
    events = [
        {"category": "excessive_volume", "points": -15, "reason": "人均代理量异常"},
        {"category": "industry_discipline", "points": -10, "reason": "行业协会通报批评"},
        {"category": "administrative_penalty", "points": -5, "reason": "警告"},
        {"category": "abnormal_business_status", "points": -3, "reason": "列入经营异常名录"},
    ]
    results = await asyncio.gather(*(add_event(client, agency_id, official.headers, **e) for e in events))
    assert [status for status, _ in results] == [201] * 4
    detail = await (await client.get(f"/api/v1/agencies/{agency_id}")).json()
    assert (detail["rating"]["score"], detail["rating"]["level"]) == (67, "C")
    # Every step is in the history, each starting where the previous one ended.
    history = list(reversed(detail["rating_history"]))
    for before, after in itertools.pairwise(history):
        assert after["previous_score"] == before["score"]


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"category": "gossip", "points": -5, "reason": "传闻"}, "category"),
        ({"category": "late_annual_report", "points": 20, "reason": "正数"}, "points"),
        ({"category": "late_annual_report", "points": -25, "reason": "超出上限"}, "points"),
        ({"category": "honours", "points": -1, "reason": "负的奖励"}, "points"),
        ({"category": "honours", "points": 1}, "reason"),
    ],
)
async def test_bad_events_are_422_naming_the_field(
    client: Client, db: Database, make_account: AccountFactory, event: dict[str, Any], field: str
) -> None:
    agency_id = await make_agency(db, score=100)
    official = await make_account(Role.OFFICIAL)
    status, body = await add_event(client, agency_id, official.headers, **event)
    assert status == 422, body
    assert body["error"]["details"][0]["field"] == field


async def test_who_may_record_and_read_credit_events(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    mine = await make_agency(db)
    other = await make_agency(db)
    staff = await make_account(Role.AGENCY, agency_id=mine)
    official = await make_account(Role.OFFICIAL)
    assert (await add_event(client, mine, {}, **LATE_REPORT))[0] == 401
    assert (await add_event(client, mine, staff.headers, **LATE_REPORT))[0] == 403
    assert (await add_event(client, mine + 999, official.headers, **LATE_REPORT))[0] == 404
    record = f"/api/v1/agencies/{mine}/credit-events"
    assert (await client.get(record)).status == 401
    assert (await client.get(record, headers=staff.headers)).status == 200
    assert (await client.get(f"/api/v1/agencies/{other}/credit-events", headers=staff.headers)).status == 403
    assert (await client.get(f"/api/v1/agencies/{mine + 999}/credit-events", headers=official.headers)).status == 404
    assert (await client.post(f"/api/v1/agencies/{mine}/credit-events/1/reverse", json={"reason": "x y"})).status == 401
    missing_reason = await client.post(
        f"/api/v1/agencies/{mine}/credit-events/1/reverse", json={}, headers=official.headers
    )
    assert missing_reason.status == 422
    assert (await missing_reason.json())["error"]["details"][0]["field"] == "reason"
    reverse = f"/api/v1/agencies/{mine}/credit-events/12345/reverse"
    assert (await client.post(reverse, json={"reason": "why not"}, headers=official.headers)).status == 404
    assert (await client.post(reverse, json={"reason": "why not"}, headers=staff.headers)).status == 403


async def test_an_official_of_another_region_may_not_record_an_event(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id = await make_agency(db, score=100, region_code="330106")
    elsewhere = await make_account(Role.OFFICIAL, region_code="330200")
    status, refused = await add_event(client, agency_id, elsewhere.headers, **LATE_REPORT)
    assert (status, refused["error"]["code"]) == (403, "outside_jurisdiction")
    assert refused["error"]["message"] == f"agency {agency_id} is in region 330106, outside your jurisdiction (330200)"
    assert refused["error"]["details"] == {"region_code": "330106", "your_region": "330200"}
    official = await make_account(Role.OFFICIAL)
    record = await (await client.get(f"/api/v1/agencies/{agency_id}/credit-events", headers=official.headers)).json()
    assert (record["events"], record["rating"]["score"]) == ([], 100)


async def test_an_event_keeps_who_when_why_and_the_document(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id = await make_agency(db, score=100)
    official = await make_account(Role.OFFICIAL)
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    status, body = await add_event(client, agency_id, official.headers, **LATE_REPORT)
    after = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=1)
    assert status == 201, body
    event = body["event"]
    assert {k: event[k] for k in ("agency_id", "category", "points", "reason", "reference_doc", "created_by")} == {
        "agency_id": agency_id,
        "category": "late_annual_report",
        "points": -20,
        "reason": "2025年度报告逾期",
        "reference_doc": "浙知发〔2026〕1号",
        "created_by": official.user_id,
    }
    assert before <= dt.datetime.fromisoformat(event["created_at"].replace("Z", "+00:00")).replace(tzinfo=None) <= after
    assert (event["reverses_event_id"], event["reversed_by_event_id"], event["counted"]) == (None, None, True)

    # As stored: the credit record shows the same event; the history and the audit say what, why and who.
    response = await client.get(f"/api/v1/agencies/{agency_id}/credit-events", headers=official.headers)
    assert (await response.json())["events"] == [event]
    change = (await (await client.get(f"/api/v1/agencies/{agency_id}")).json())["rating_history"][0]
    assert (change["cause"], change["credit_event_id"], change["note"]) == ("event", event["id"], "2025年度报告逾期")
    async with db.transaction(write=False) as session:
        changed_by = await session.scalar(
            select(RatingHistory.changed_by).where(RatingHistory.credit_event_id == event["id"])
        )
    assert changed_by == official.user_id
    response = await client.get(f"/api/v1/agencies/{agency_id}/audit", headers=official.headers)
    line = (await response.json())["items"][0]
    assert {k: line[k] for k in ("subject", "subject_id", "action", "actor_id", "actor_role", "note")} == {
        "subject": "credit_event",
        "subject_id": event["id"],
        "action": "event_recorded",
        "actor_id": official.user_id,
        "actor_role": "official",
        "note": "late_annual_report -20: 2025年度报告逾期",
    }
