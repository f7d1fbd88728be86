"""Credit objections: agency staff object to a deduction with a reason and evidence within the period; the rating
shows "under objection" (profile, credit record, search cards) until an official upholds the event or reverses it
(through the ordinary reversal, so the score comes back by recomputation); the objector is told through the push
outbox; every step is in the credit record and the agency audit."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from accounts.models import User
from agencies.credit import OBJECTION_PERIOD_DAYS
from agencies.models import CreditEvent
from core.auth import Role
from core.db import Database, utcnow
from core.settings import Settings
from tests.agencies.builders import make_agency, make_enterprise
from tests.conftest import Account, AccountFactory
from wechat.models import PushOutbox

Client = TestClient[Any, Any]

ABNORMAL = {
    "category": "abnormal_applications",
    "points": -15,
    "reason": "通报非正常专利申请 3 件",
    "reference_doc": "国知办函〔2026〕7号",
}
OBJECTION = {
    "reason": "3 件申请均有真实研发背景，系误报",
    "evidence": "研发立项书编号 RD-2025-031；发明人实验记录；委托合同 HT-88",
}


async def record(client: Client, agency_id: int, official: Account, event: dict[str, Any] = ABNORMAL) -> int:
    response = await client.post(f"/api/v1/agencies/{agency_id}/credit-events", json=event, headers=official.headers)
    assert response.status == 201, await response.text()
    event_id: int = (await response.json())["event"]["id"]
    return event_id


async def object_to(client: Client, agency_id: int, event_id: int, staff: Account, body: Any = None) -> Any:
    response = await client.post(
        f"/api/v1/agencies/{agency_id}/credit-events/{event_id}/objection",
        json=OBJECTION if body is None else body,
        headers=staff.headers,
    )
    return response.status, await response.json()


async def decide(client: Client, agency_id: int, objection_id: int, official: Account, **body: Any) -> Any:
    response = await client.post(
        f"/api/v1/agencies/{agency_id}/objections/{objection_id}/decision", json=body, headers=official.headers
    )
    return response.status, await response.json()


async def setting(client: Client, db: Database, make_account: AccountFactory) -> tuple[int, Account, Account]:
    agency_id = await make_agency(db, score=100)
    return agency_id, await make_account(Role.OFFICIAL), await make_account(Role.AGENCY, agency_id=agency_id)


async def card_of(client: Client, agency_id: int, name_query: str) -> dict[str, Any]:
    page = await (await client.get("/api/v1/agencies", params={"q": name_query, "page_size": 50})).json()
    return next(card for card in page["items"] if card["id"] == agency_id)


async def test_an_objection_puts_the_rating_under_objection_and_a_reversal_restores_the_score(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id, official, staff = await setting(client, db, make_account)
    detail = await (await client.get(f"/api/v1/agencies/{agency_id}")).json()
    name = detail["name_zh"]
    assert (await card_of(client, agency_id, name))["under_objection"] is False  # and now cached
    event_id = await record(client, agency_id, official)

    record_before = await (
        await client.get(f"/api/v1/agencies/{agency_id}/credit-events", headers=staff.headers)
    ).json()
    assert record_before["objection_period_days"] == OBJECTION_PERIOD_DAYS
    [event] = record_before["events"]
    assert event["objectionable_until"] is not None and event["objection_id"] is None

    status, filed = await object_to(client, agency_id, event_id, staff)
    assert status == 201, filed
    objection = filed["objection"]
    assert (objection["state"], objection["event"]["id"], objection["reason"]) == (
        "pending",
        event_id,
        OBJECTION["reason"],
    )
    assert objection["evidence"] == OBJECTION["evidence"]
    assert filed["rating"] == {**filed["rating"], "score": 85, "level": "B", "under_objection": True}
    # Five working days to decide: never a weekend, at least a week later.
    due = dt.date.fromisoformat(objection["decision_due"])
    assert due.weekday() < 5 and 5 <= (due - dt.date.fromisoformat(objection["filed_at"][:10])).days <= 9

    detail = await (await client.get(f"/api/v1/agencies/{agency_id}")).json()
    assert detail["rating"]["under_objection"] is True
    assert (await card_of(client, agency_id, name))["under_objection"] is True, "the cached search was dropped"
    record_during = await (
        await client.get(f"/api/v1/agencies/{agency_id}/credit-events", headers=official.headers)
    ).json()
    [event] = record_during["events"]
    assert (event["objection_id"], event["objection_state"], event["objectionable_until"]) == (
        objection["id"],
        "pending",
        None,
    )
    assert event["counted"] is True, "the deduction counts until it is decided"

    status, decided = await decide(
        client,
        agency_id,
        objection["id"],
        official,
        outcome="reversed",
        reason="核实为误报，撤销扣分",
        reference_doc="浙知信复〔2026〕3号",
    )
    assert status == 200, decided
    assert decided["objection"]["state"] == "reversed"
    assert decided["objection"]["decision_reason"] == "核实为误报，撤销扣分"
    assert decided["rating"] == {**decided["rating"], "score": 100, "level": "A", "under_objection": False}

    # Restored by the ordinary reversal: an opposite event in the record and a "reversal" step in the history.
    after = await (await client.get(f"/api/v1/agencies/{agency_id}/credit-events", headers=staff.headers)).json()
    by_id = {e["id"]: e for e in after["events"]}
    reversal_id = decided["objection"]["reversal_event_id"]
    assert by_id[reversal_id]["reverses_event_id"] == event_id and by_id[reversal_id]["points"] == 15
    assert (by_id[event_id]["reversed_by_event_id"], by_id[event_id]["objection_state"]) == (reversal_id, "reversed")
    detail = await (await client.get(f"/api/v1/agencies/{agency_id}")).json()
    assert (detail["rating_history"][0]["cause"], detail["rating_history"][0]["score"]) == ("reversal", 100)
    assert (await card_of(client, agency_id, name))["under_objection"] is False

    again = await decide(client, agency_id, objection["id"], official, outcome="upheld", reason="再次决定")
    assert again[0] == 409 and again[1]["error"]["code"] == "objection_decided"


async def test_an_upheld_event_keeps_counting_and_everything_is_in_the_audit(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id, official, staff = await setting(client, db, make_account)
    event_id = await record(client, agency_id, official)
    _, filed = await object_to(client, agency_id, event_id, staff)
    status, decided = await decide(
        client, agency_id, filed["objection"]["id"], official, outcome="upheld", reason="证据不足以推翻通报"
    )
    assert status == 200, decided
    assert decided["objection"]["state"] == "upheld" and decided["objection"]["reversal_event_id"] is None
    assert decided["rating"] == {**decided["rating"], "score": 85, "under_objection": False}

    audit = await (await client.get(f"/api/v1/agencies/{agency_id}/audit", headers=staff.headers)).json()
    lines = [(a["action"], a["actor_role"], a["actor_id"]) for a in reversed(audit["items"])]
    assert lines == [
        ("event_recorded", "official", official.user_id),
        ("objection_filed", "agency", staff.user_id),
        ("objection_upheld", "official", official.user_id),
    ]
    assert audit["items"][0]["note"] == "证据不足以推翻通报"
    # Only one objection per event, even after the decision.
    status, body = await object_to(client, agency_id, event_id, staff)
    assert (status, body["error"]["code"]) == (409, "objection_exists")


async def test_what_cannot_be_objected_to(client: Client, db: Database, make_account: AccountFactory) -> None:
    agency_id, official, staff = await setting(client, db, make_account)
    bonus = await record(client, agency_id, official, {"category": "honours", "points": 5, "reason": "省级表彰"})
    late = await record(
        client, agency_id, official, {"category": "late_annual_report", "points": -20, "reason": "年报逾期"}
    )
    old = await record(client, agency_id, official)
    reversed_one = await record(
        client, agency_id, official, {"category": "excessive_volume", "points": -5, "reason": "代理量异常"}
    )
    response = await client.post(
        f"/api/v1/agencies/{agency_id}/credit-events/{reversed_one}/reverse",
        json={"reason": "复核撤销"},
        headers=official.headers,
    )
    reversal = (await response.json())["event"]["id"]
    # Recorded longer ago than the period allows.
    async with db.transaction() as session:
        await session.execute(
            update(CreditEvent)
            .where(CreditEvent.id == old)
            .values(created_at=utcnow() - dt.timedelta(days=OBJECTION_PERIOD_DAYS, minutes=1))
        )
    before = await (await client.get(f"/api/v1/agencies/{agency_id}")).json()

    for event_id, code in (
        (bonus, "not_objectionable"),
        (reversal, "not_objectionable"),
        (reversed_one, "not_objectionable"),
        (old, "objection_period_over"),
    ):
        status, body = await object_to(client, agency_id, event_id, staff)
        assert (status, body["error"]["code"]) == (409, code), (event_id, body)
    status, body = await object_to(client, agency_id, 10**9, staff)
    assert (status, body["error"]["code"]) == (404, "credit_event_not_found")

    # Bad input names the field and changes nothing.
    for bad, field in (
        ({"reason": "", "evidence": "合同"}, "reason"),
        ({"reason": "误报"}, "evidence"),
        ({**OBJECTION, "x": 1}, "x"),
    ):
        status, body = await object_to(client, agency_id, late, staff, bad)
        assert status == 422 and body["error"]["details"][0]["field"] == field, body
    status, body = await object_to(client, agency_id, late, staff)
    assert status == 201
    bad_decision = await decide(client, agency_id, body["objection"]["id"], official, outcome="maybe", reason="?")
    assert bad_decision[0] == 422 and {d["field"] for d in bad_decision[1]["error"]["details"]} == {"outcome", "reason"}
    missing = await decide(client, agency_id, 10**9, official, outcome="upheld", reason="无此异议")
    assert (missing[0], missing[1]["error"]["code"]) == (404, "objection_not_found")
    after = await (await client.get(f"/api/v1/agencies/{agency_id}")).json()
    assert after["rating"]["score"] == before["rating"]["score"]


async def test_who_may_object_and_decide(client: Client, db: Database, make_account: AccountFactory) -> None:
    agency_id, official, staff = await setting(client, db, make_account)
    other_agency = await make_agency(db)
    other_staff = await make_account(Role.AGENCY, agency_id=other_agency)
    enterprise = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))
    event_id = await record(client, agency_id, official)
    url = f"/api/v1/agencies/{agency_id}/credit-events/{event_id}/objection"
    assert (await client.post(url, json=OBJECTION)).status == 401
    # (Agency staff of no agency and the other incomplete principals: tests/security, matrix and list contents.)
    for who, code in (
        (official, "forbidden"),
        (enterprise, "forbidden"),
        (other_staff, "not_your_agency"),
    ):
        response = await client.post(url, json=OBJECTION, headers=who.headers)
        assert (response.status, (await response.json())["error"]["code"]) == (403, code)
    _, filed = await object_to(client, agency_id, event_id, staff)
    decision = {"outcome": "reversed", "reason": "自己撤销"}
    for who in (staff, enterprise):
        status, body = await decide(client, agency_id, filed["objection"]["id"], who, **decision)
        assert (status, body["error"]["code"]) == (403, "forbidden")
    # The objection belongs to its agency: decided under another agency's path it is not found.
    status, body = await decide(client, other_agency, filed["objection"]["id"], official, **decision)
    assert (status, body["error"]["code"]) == (404, "objection_not_found")


async def test_objection_lists_show_each_caller_what_it_may_see(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id, official, staff = await setting(client, db, make_account)
    other_agency = await make_agency(db)
    other_staff = await make_account(Role.AGENCY, agency_id=other_agency)
    mine = (await object_to(client, agency_id, await record(client, agency_id, official), staff))[1]["objection"]["id"]
    theirs = (await object_to(client, other_agency, await record(client, other_agency, official), other_staff))[1][
        "objection"
    ]["id"]

    async def ids(who: Account, **params: Any) -> set[int]:
        response = await client.get("/api/v1/credit-objections", params=params, headers=who.headers)
        assert response.status == 200, await response.text()
        return {o["id"] for o in (await response.json())["items"]}

    assert await ids(official) >= {mine, theirs}
    assert await ids(official, agency_id=agency_id) == {mine}
    assert await ids(staff) == {mine}
    assert await ids(other_staff) == {theirs}
    assert await ids(other_staff, agency_id=agency_id) == set(), "a filter never widens the scope"
    enterprise = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))
    refused = await client.get("/api/v1/credit-objections", headers=enterprise.headers)
    assert (refused.status, (await refused.json())["error"]["code"]) == (403, "forbidden")
    assert (await client.get("/api/v1/credit-objections")).status == 401
    bad = await client.get("/api/v1/credit-objections", params={"state": "open"}, headers=official.headers)
    assert bad.status == 422 and (await bad.json())["error"]["details"][0]["field"] == "query.state"
    # The audit: the agency's own staff and officials; nobody else.
    audit_url = f"/api/v1/agencies/{agency_id}/audit"
    assert (await client.get(audit_url, headers=official.headers)).status == 200
    for who, code in ((other_staff, "not_your_agency"), (enterprise, "forbidden")):
        response = await client.get(audit_url, headers=who.headers)
        assert (response.status, (await response.json())["error"]["code"]) == (403, code)


async def test_two_officials_deciding_at_once_decide_once(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id, official, staff = await setting(client, db, make_account)
    second = await make_account(Role.OFFICIAL)
    _, filed = await object_to(client, agency_id, await record(client, agency_id, official), staff)
    objection_id = filed["objection"]["id"]
    results = await asyncio.gather(
        decide(client, agency_id, objection_id, official, outcome="reversed", reason="误报，撤销"),
        decide(client, agency_id, objection_id, second, outcome="reversed", reason="同意撤销"),
    )
    assert sorted(status for status, _ in results) == [200, 409]
    record_after = await (
        await client.get(f"/api/v1/agencies/{agency_id}/credit-events", headers=official.headers)
    ).json()
    assert len([e for e in record_after["events"] if e["reverses_event_id"]]) == 1, "reversed once"
    assert record_after["rating"]["score"] == 100


async def test_two_staff_objecting_at_once_file_one_objection(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id, official, staff = await setting(client, db, make_account)
    colleague = await make_account(Role.AGENCY, agency_id=agency_id)
    event_id = await record(client, agency_id, official)
    results = await asyncio.gather(
        object_to(client, agency_id, event_id, staff), object_to(client, agency_id, event_id, colleague)
    )
    assert sorted(status for status, _ in results) == [201, 409]
    detail = await (await client.get(f"/api/v1/agencies/{agency_id}")).json()
    assert detail["rating"]["under_objection"] is True
    _, decided = await decide(
        client,
        agency_id,
        next(b for s, b in results if s == 201)["objection"]["id"],
        official,
        outcome="upheld",
        reason="维持",
    )
    assert decided["rating"]["under_objection"] is False, "one objection open, one closed: none left"


async def test_the_objector_is_told_the_decision_through_the_push_outbox(
    client: Client, db: Database, make_account: AccountFactory, settings: Settings
) -> None:
    agency_id, official, staff = await setting(client, db, make_account)
    async with db.transaction() as session:
        await session.execute(update(User).where(User.id == staff.user_id).values(wechat_openid="o-agency-staff-1"))
    response = await client.post(
        "/api/v1/me/wechat/subscriptions",
        json={"results": {settings.wechat_template_rating_changed: "accept"}},
        headers=staff.headers,
    )
    assert response.status == 200, await response.text()
    _, filed = await object_to(client, agency_id, await record(client, agency_id, official), staff)
    objection_id = filed["objection"]["id"]
    async with db.transaction() as session:
        queued = (
            await session.scalars(select(PushOutbox).where(PushOutbox.subject == f"objection:{objection_id}"))
        ).all()
    assert queued == [], "nothing is sent before the decision"

    status, _ = await decide(client, agency_id, objection_id, official, outcome="reversed", reason="误报")
    assert status == 200
    async with db.transaction() as session:
        [push] = (
            await session.scalars(select(PushOutbox).where(PushOutbox.subject == f"objection:{objection_id}"))
        ).all()
    assert (push.user_id, push.openid, push.template_id) == (
        staff.user_id,
        "o-agency-staff-1",
        settings.wechat_template_rating_changed,
    )
    data = json.loads(push.data)
    assert data["phrase2"] == "异议成立" and "A级100分" in data["thing3"]
    assert push.page == f"pages/agency/credit?id={agency_id}"


async def test_a_direct_reversal_settles_a_pending_objection(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id, official, staff = await setting(client, db, make_account)
    event_id = await record(client, agency_id, official)
    _, filed = await object_to(client, agency_id, event_id, staff)
    response = await client.post(
        f"/api/v1/agencies/{agency_id}/credit-events/{event_id}/reverse",
        json={"reason": "信用修复"},
        headers=official.headers,
    )
    assert response.status == 201
    assert (await response.json())["rating"]["under_objection"] is False
    [objection] = (
        await (
            await client.get("/api/v1/credit-objections", params={"agency_id": agency_id}, headers=staff.headers)
        ).json()
    )["items"]
    assert (objection["id"], objection["state"], objection["decision_reason"]) == (
        filed["objection"]["id"],
        "reversed",
        "信用修复",
    )
