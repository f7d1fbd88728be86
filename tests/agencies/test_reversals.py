"""Reversing a credit event: the opposite event is stored with who, when, why and on what document; the refusals
say why by status, code and message and change nothing; events that an official evaluation took in stay as they
are; a reversal settles an objection still waiting on its event; the credit record shows each event as it stands."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from agencies import repository
from agencies.models import RatingHistory
from core.auth import Role
from core.db import Database
from tests.agencies.builders import make_agency
from tests.conftest import Account, AccountFactory

Client = TestClient[Any, Any]

LATE_REPORT = {"category": "late_annual_report", "points": -20, "reason": "2025年度报告逾期"}
ABNORMAL = {"category": "abnormal_applications", "points": -15, "reason": "通报非正常专利申请 3 件"}
OBJECTION = {"reason": "3 件申请均有真实研发背景，系误报", "evidence": "研发立项书编号 RD-2025-031"}


async def record(client: Client, agency_id: int, official: Account, event: dict[str, Any]) -> int:
    url = f"/api/v1/agencies/{agency_id}/credit-events"
    response = await client.post(url, json=event, headers=official.headers)
    assert response.status == 201, await response.text()
    event_id: int = (await response.json())["event"]["id"]
    return event_id


async def reverse(client: Client, agency_id: int, event_id: int, who: Account, **body: Any) -> tuple[int, Any]:
    url = f"/api/v1/agencies/{agency_id}/credit-events/{event_id}/reverse"
    response = await client.post(url, json=body, headers=who.headers)
    return response.status, await response.json()


async def credit_record(client: Client, agency_id: int, who: Account) -> Any:
    response = await client.get(f"/api/v1/agencies/{agency_id}/credit-events", headers=who.headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def detail(client: Client, agency_id: int) -> Any:
    return await (await client.get(f"/api/v1/agencies/{agency_id}")).json()


async def audit(client: Client, agency_id: int, who: Account) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/agencies/{agency_id}/audit", headers=who.headers)
    assert response.status == 200, await response.text()
    items: list[dict[str, Any]] = (await response.json())["items"]
    return items


async def import_evaluation(client: Client, agency_id: int, official: Account, score: int, on: str) -> int:
    """Import one agency's evaluation; how many ratings it changed."""
    code = (await detail(client, agency_id))["credit_code"]
    response = await client.post(
        "/api/v1/agencies/credit-import",
        data=f"credit_code,score,evaluated_on\n{code},{score},{on}\n".encode(),
        headers={"Content-Type": "text/csv", **official.headers},
    )
    assert response.status == 200, await response.text()
    changed: int = (await response.json())["changed"]
    return changed


async def object_to(client: Client, agency_id: int, event_id: int, staff: Account) -> int:
    response = await client.post(
        f"/api/v1/agencies/{agency_id}/credit-events/{event_id}/objection", json=OBJECTION, headers=staff.headers
    )
    assert response.status == 201, await response.text()
    objection_id: int = (await response.json())["objection"]["id"]
    return objection_id


async def card_under_objection(client: Client, agency_id: int) -> bool:
    name = (await detail(client, agency_id))["name_zh"]
    page = await (await client.get("/api/v1/agencies", params={"q": name, "page_size": 50})).json()
    under: bool = next(card for card in page["items"] if card["id"] == agency_id)["under_objection"]
    return under


def moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


async def test_a_reversal_keeps_who_when_why_and_the_document(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id = await make_agency(db, score=100)
    recorder = await make_account(Role.OFFICIAL)
    reverser = await make_account(Role.OFFICIAL)
    event_id = await record(client, agency_id, recorder, LATE_REPORT)
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    status, body = await reverse(
        client, agency_id, event_id, reverser, reason="年报已补报，复议撤销", reference_doc="浙知信复〔2026〕5号"
    )
    after = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=1)
    assert status == 201, body
    reversal = body["event"]
    assert {k: reversal[k] for k in ("agency_id", "category", "points", "reason", "reference_doc")} == {
        "agency_id": agency_id,
        "category": "late_annual_report",
        "points": 20,
        "reason": "年报已补报，复议撤销",
        "reference_doc": "浙知信复〔2026〕5号",
    }
    assert (reversal["reverses_event_id"], reversal["created_by"]) == (event_id, reverser.user_id)
    assert before <= moment(reversal["created_at"]) <= after
    assert (reversal["counted"], reversal["reversed_by_event_id"]) == (False, None)
    assert body["rating"] == {**body["rating"], "score": 100, "level": "A"}

    # As stored: the credit record shows the same reversal, and the original as reversed by it.
    stored = {e["id"]: e for e in (await credit_record(client, agency_id, recorder))["events"]}
    assert stored[reversal["id"]] == reversal
    assert (stored[event_id]["reversed_by_event_id"], stored[event_id]["created_by"]) == (
        reversal["id"],
        recorder.user_id,
    )
    # The rating history names the reversal and its reason; the audit says who reversed what, and with which event.
    change = (await detail(client, agency_id))["rating_history"][0]
    assert (change["cause"], change["credit_event_id"], change["note"]) == (
        "reversal",
        reversal["id"],
        "年报已补报，复议撤销",
    )
    assert (change["previous_score"], change["score"], change["level"]) == (80, 100, "A")
    assert change["changed_at"] == (await detail(client, agency_id))["rating"]["updated_at"], "one moment"
    async with db.transaction(write=False) as session:
        changed_by = await session.scalar(
            select(RatingHistory.changed_by).where(RatingHistory.credit_event_id == reversal["id"])
        )
    assert changed_by == reverser.user_id
    line = (await audit(client, agency_id, recorder))[0]
    assert {k: line[k] for k in ("subject", "subject_id", "action", "actor_id", "actor_role", "note")} == {
        "subject": "credit_event",
        "subject_id": event_id,
        "action": "event_reversed",
        "actor_id": reverser.user_id,
        "actor_role": "official",
        "note": f"reversal #{reversal['id']}: 年报已补报，复议撤销",
    }


async def test_a_reversal_without_a_document_stores_an_empty_one(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id = await make_agency(db, score=100)
    official = await make_account(Role.OFFICIAL)
    event_id = await record(client, agency_id, official, ABNORMAL)
    status, body = await reverse(client, agency_id, event_id, official, reason="信用修复")
    assert status == 201, body
    assert (body["event"]["reference_doc"], body["event"]["points"], body["event"]["category"]) == (
        "",
        15,
        "abnormal_applications",
    )


async def assert_unchanged(client: Client, agency_id: int, official: Account, before: Any) -> None:
    assert await credit_record(client, agency_id, official) == before


async def test_a_reversal_cannot_be_reversed(client: Client, db: Database, make_account: AccountFactory) -> None:
    agency_id = await make_agency(db, score=100)
    official = await make_account(Role.OFFICIAL)
    event_id = await record(client, agency_id, official, LATE_REPORT)
    _, body = await reverse(client, agency_id, event_id, official, reason="复议撤销")
    before = await credit_record(client, agency_id, official)
    status, refused = await reverse(client, agency_id, body["event"]["id"], official, reason="撤销撤销")
    assert (status, refused["error"]["code"]) == (409, "not_reversible")
    assert refused["error"]["message"] == "this event is itself a reversal; record a new event instead"
    await assert_unchanged(client, agency_id, official, before)


async def test_an_event_is_reversed_once(client: Client, db: Database, make_account: AccountFactory) -> None:
    agency_id = await make_agency(db, score=100)
    official = await make_account(Role.OFFICIAL)
    event_id = await record(client, agency_id, official, LATE_REPORT)
    assert (await reverse(client, agency_id, event_id, official, reason="复议撤销"))[0] == 201
    before = await credit_record(client, agency_id, official)
    status, refused = await reverse(client, agency_id, event_id, official, reason="再次撤销")
    assert (status, refused["error"]["code"]) == (409, "already_reversed")
    assert refused["error"]["message"] == f"credit event {event_id} was already reversed"
    await assert_unchanged(client, agency_id, official, before)


async def test_a_second_reversal_the_check_misses_is_refused_by_the_record(
    client: Client, db: Database, make_account: AccountFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two reversals of one event that both pass the look-up (as they would without the agency's row lock) still
    leave one: the second is refused as already reversed, and the first stands."""
    agency_id = await make_agency(db, score=100)
    official = await make_account(Role.OFFICIAL)
    event_id = await record(client, agency_id, official, LATE_REPORT)
    _, first = await reverse(client, agency_id, event_id, official, reason="复议撤销")

    async def sees_none(_session: Any, _event_id: int) -> int | None:
        return None

    monkeypatch.setattr(repository, "reversal_of", sees_none)
    status, refused = await reverse(client, agency_id, event_id, official, reason="再次撤销")
    assert (status, refused["error"]["code"]) == (409, "already_reversed")
    assert refused["error"]["message"] == f"credit event {event_id} was already reversed"
    monkeypatch.undo()
    events = (await credit_record(client, agency_id, official))["events"]
    assert [(e["id"], e["reverses_event_id"]) for e in events] == [(first["event"]["id"], event_id), (event_id, None)]
    assert [line["action"] for line in await audit(client, agency_id, official)] == [
        "event_reversed",
        "event_recorded",
    ]


async def test_an_unknown_event_or_another_agencys_is_not_found(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id = await make_agency(db, score=100)
    other = await make_agency(db, score=100)
    official = await make_account(Role.OFFICIAL)
    theirs = await record(client, other, official, LATE_REPORT)
    for event_id in (theirs, theirs + 1000):
        status, refused = await reverse(client, agency_id, event_id, official, reason="复议撤销")
        assert (status, refused["error"]["code"]) == (404, "credit_event_not_found")
        assert refused["error"]["message"] == f"agency {agency_id} has no credit event {event_id}"
    assert (await detail(client, other))["rating"]["score"] == 80
    assert (await credit_record(client, agency_id, official))["events"] == []


async def test_an_official_of_another_region_may_not_reverse(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id = await make_agency(db, score=100, region_code="330106")
    official = await make_account(Role.OFFICIAL)
    elsewhere = await make_account(Role.OFFICIAL, region_code="330200")
    event_id = await record(client, agency_id, official, LATE_REPORT)
    status, refused = await reverse(client, agency_id, event_id, elsewhere, reason="复议撤销")
    assert (status, refused["error"]["code"]) == (403, "outside_jurisdiction")
    assert refused["error"]["message"] == (
        f"agency {agency_id} is in region 330106, outside your jurisdiction (330200)"
    )
    assert (await detail(client, agency_id))["rating"]["score"] == 80


async def test_reversals_and_new_events_at_once_all_count(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    """Each reversal and each new event rescores under the agency's row lock: run at once, none of them is lost
    (without the lock, a reversal's score computed before a concurrent event committed would overwrite it)."""
    agency_id = await make_agency(db, score=100)
    official = await make_account(Role.OFFICIAL)
    first = await record(client, agency_id, official, ABNORMAL)
    second = await record(
        client, agency_id, official, {"category": "industry_discipline", "points": -10, "reason": "通报"}
    )
    await record(client, agency_id, official, {"category": "administrative_penalty", "points": -5, "reason": "警告"})
    await record(client, agency_id, official, {"category": "abnormal_business_status", "points": -3, "reason": "异常"})
    url = f"/api/v1/agencies/{agency_id}/credit-events"

    async def add(event: dict[str, Any]) -> int:
        return (await client.post(url, json=event, headers=official.headers)).status

    statuses = await asyncio.gather(
        add(LATE_REPORT),
        reverse(client, agency_id, first, official, reason="复议撤销"),
        add({"category": "excessive_volume", "points": -15, "reason": "人均代理量异常"}),
        reverse(client, agency_id, second, official, reason="复议撤销"),
    )
    assert [s if isinstance(s, int) else s[0] for s in statuses] == [201] * 4
    # Left counting: administrative penalty 5, business status 3, late report 20, excessive volume 15.
    assert (await detail(client, agency_id))["rating"]["score"] == 100 - 5 - 3 - 20 - 15
    history = list(reversed((await detail(client, agency_id))["rating_history"]))
    for before, after in itertools.pairwise(history):
        assert after["previous_score"] == before["score"]


async def test_the_events_an_evaluation_took_in_stay_and_later_ones_can_be_reversed(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    """An import makes the agency's newest event the evaluation's last: that event and every earlier one are part
    of it (refused, naming the evaluation); an event recorded after it counts on the imported score and can be
    reversed, back to that score."""
    agency_id = await make_agency(db, score=100)
    official = await make_account(Role.OFFICIAL)
    earlier = await record(client, agency_id, official, ABNORMAL)
    last = await record(client, agency_id, official, LATE_REPORT)
    await import_evaluation(client, agency_id, official, 88, "2026-01-15")
    before = await credit_record(client, agency_id, official)
    assert before["baseline"] == 88
    assert [(e["id"], e["counted"]) for e in before["events"]] == [(last, False), (earlier, False)]
    for event_id in (last, earlier):
        status, refused = await reverse(client, agency_id, event_id, official, reason="复议撤销")
        assert (status, refused["error"]["code"]) == (409, "not_reversible")
        assert refused["error"]["message"] == (
            f"credit event {event_id} is part of the official evaluation of 2026-01-15; "
            "import a corrected result instead"
        )
    await assert_unchanged(client, agency_id, official, before)

    later = await record(client, agency_id, official, {**LATE_REPORT, "reason": "2026年度报告逾期"})
    assert (await detail(client, agency_id))["rating"]["score"] == 68
    status, body = await reverse(client, agency_id, later, official, reason="复议撤销")
    assert status == 201, body
    assert (body["rating"]["score"], body["rating"]["level"]) == (88, "B")


async def test_an_evaluation_of_an_agency_without_events_leaves_every_later_event_reversible(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id = await make_agency(db, score=100)
    official = await make_account(Role.OFFICIAL)
    assert await import_evaluation(client, agency_id, official, 100, "2025-12-31") == 0, "the same rating"
    assert await import_evaluation(client, agency_id, official, 90, "2026-01-15") == 1
    event_id = await record(client, agency_id, official, ABNORMAL)
    assert (await detail(client, agency_id))["rating"]["score"] == 75
    status, body = await reverse(client, agency_id, event_id, official, reason="复议撤销")
    assert status == 201, body
    assert body["rating"]["score"] == 90


async def test_a_reversal_settles_the_objection_waiting_on_its_event(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    """The objection is decided "reversed" by the reversal: its reason and document, the official, the moment and the
    reversal event; one fewer objection open (the other deduction's objection still waits); the audit says so."""
    agency_id = await make_agency(db, score=100)
    official = await make_account(Role.OFFICIAL)
    staff = await make_account(Role.AGENCY, agency_id=agency_id)
    event_id = await record(client, agency_id, official, ABNORMAL)
    other_event = await record(client, agency_id, official, LATE_REPORT)
    objection_id = await object_to(client, agency_id, event_id, staff)
    await object_to(client, agency_id, other_event, staff)
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    status, body = await reverse(
        client, agency_id, event_id, official, reason="核实为误报", reference_doc="浙知信复〔2026〕3号"
    )
    after = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=1)
    assert status == 201, body
    assert body["rating"]["under_objection"] is True, "the other objection still waits"

    listed = await client.get("/api/v1/credit-objections", params={"agency_id": agency_id}, headers=staff.headers)
    objection = next(o for o in (await listed.json())["items"] if o["id"] == objection_id)
    decision = ("state", "decision_reason", "decision_reference_doc", "decided_by", "reversal_event_id")
    assert {k: objection[k] for k in decision} == {
        "state": "reversed",
        "decision_reason": "核实为误报",
        "decision_reference_doc": "浙知信复〔2026〕3号",
        "decided_by": official.user_id,
        "reversal_event_id": body["event"]["id"],
    }
    assert before <= moment(objection["decided_at"]) <= after
    line = (await audit(client, agency_id, official))[0]
    assert {k: line[k] for k in ("subject", "subject_id", "action", "actor_id", "note")} == {
        "subject": "objection",
        "subject_id": objection_id,
        "action": "objection_reversed",
        "actor_id": official.user_id,
        "note": "核实为误报",
    }
    stored = {e["id"]: e for e in (await credit_record(client, agency_id, staff))["events"]}
    assert (stored[event_id]["objection_id"], stored[event_id]["objection_state"]) == (objection_id, "reversed")
    assert stored[other_event]["objection_state"] == "pending"


async def test_a_reversal_that_leaves_the_score_as_it_was_still_ends_the_objection_on_the_search_card(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    """Two late annual reports deduct 20, the category's most; reversing one leaves the score unchanged, but its
    objection is settled, and the cached search card says so."""
    agency_id = await make_agency(db, score=100)
    official = await make_account(Role.OFFICIAL)
    staff = await make_account(Role.AGENCY, agency_id=agency_id)
    await record(client, agency_id, official, LATE_REPORT)
    event_id = await record(client, agency_id, official, {**LATE_REPORT, "reason": "2024年度报告逾期"})
    await object_to(client, agency_id, event_id, staff)
    assert await card_under_objection(client, agency_id) is True  # and now cached
    status, body = await reverse(client, agency_id, event_id, official, reason="核实为误报")
    assert status == 201, body
    assert (body["rating"]["score"], body["rating"]["under_objection"]) == (80, False)
    assert await card_under_objection(client, agency_id) is False


async def test_the_credit_record_shows_each_event_as_it_stands(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id = await make_agency(db, score=100)
    official = await make_account(Role.OFFICIAL)
    staff = await make_account(Role.AGENCY, agency_id=agency_id)
    reversed_one = await record(client, agency_id, official, ABNORMAL)
    objected = await record(client, agency_id, official, LATE_REPORT)
    plain = await record(client, agency_id, official, {"category": "honours", "points": 2, "reason": "省级品牌"})
    _, body = await reverse(client, agency_id, reversed_one, official, reason="复议撤销")
    objection_id = await object_to(client, agency_id, objected, staff)
    reversal = body["event"]["id"]

    shown = await credit_record(client, agency_id, staff)
    assert (shown["agency_id"], shown["baseline"], shown["objection_period_days"]) == (agency_id, 100, 30)
    assert (shown["rating"]["score"], shown["rating"]["under_objection"]) == (80, True)
    columns = ("id", "reversed_by_event_id", "reverses_event_id", "counted", "objection_id", "objection_state")
    assert [tuple(e[k] for k in columns) for e in shown["events"]] == [
        (reversal, None, reversed_one, False, None, None),
        (plain, None, None, True, None, None),
        (objected, None, None, True, objection_id, "pending"),
        (reversed_one, reversal, None, False, None, None),
    ]
    by_id = {e["id"]: e for e in shown["events"]}
    assert by_id[objected]["objectionable_until"] is None, "objected already"
    assert by_id[plain]["objectionable_until"] is None, "a bonus"
    assert by_id[reversed_one]["objectionable_until"] is None, "reversed"

    other = await make_agency(db, score=100)
    refused = await client.get(f"/api/v1/agencies/{other}/credit-events", headers=staff.headers)
    assert (refused.status, (await refused.json())["error"]["code"]) == (403, "not_your_agency")
    elsewhere = await make_account(Role.OFFICIAL, region_code="330200")
    refused = await client.get(f"/api/v1/agencies/{agency_id}/credit-events", headers=elsewhere.headers)
    error = (await refused.json())["error"]
    assert (refused.status, error["code"]) == (403, "outside_jurisdiction")
    assert error["message"] == f"agency {agency_id} is in region 330106, outside your jurisdiction (330200)"
