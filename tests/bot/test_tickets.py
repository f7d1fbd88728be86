"""Officials work the consultation tickets and read the unanswered questions; nobody else may."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot import service
from core.auth import Role
from core.db import Database
from core.events import EventBus, TicketAnswered
from tests.conftest import AccountFactory
from tests.vouchers.builders import make_enterprise

Client = TestClient[Any, Any]


async def open_ticket(db: Database, sender: str = "wx:abc", question: str = "外观设计能加快吗") -> int:
    async with db.transaction() as session:
        ticket, created = await service.open_ticket(
            session,
            sender_id=sender,
            channel="wechat",
            principal=None,
            lang="zh",
            question=question,
            transcript=[question, "转人工"],
        )
        assert created
        await service.record_unanswered(
            session, sender_id=sender, principal=None, text=question, lang="zh", reason="handoff"
        )
        await service.record_unanswered(
            session, sender_id=sender, principal=None, text="天气", lang="zh", reason="out_of_scope", intent="x"
        )
        return ticket.id


async def test_an_official_answers_a_ticket(client: Client, db: Database, make_account: AccountFactory) -> None:
    ticket_id = await open_ticket(db)
    official = await make_account(Role.OFFICIAL)
    url = f"/api/v1/assistant/tickets/{ticket_id}"
    taken = await client.patch(url, json={"status": "in_progress"}, headers=official.headers)
    assert taken.status == 200 and (await taken.json())["status"] == "in_progress"
    answered = await client.patch(url, json={"answer": "可以，外观设计获准后2个月内结案。"}, headers=official.headers)
    body = await answered.json()
    assert body["status"] == "answered" and body["answered_by"] == official.user_id and body["answered_at"]
    listing = await client.get("/api/v1/assistant/tickets?status=answered", headers=official.headers)
    assert [t["id"] for t in (await listing.json())["items"]] == [ticket_id]
    open_listing = await client.get("/api/v1/assistant/tickets?status=open", headers=official.headers)
    assert (await open_listing.json())["total"] == 0


async def test_an_answer_is_published_for_the_channels_once(
    client: Client, db: Database, make_account: AccountFactory, event_bus: EventBus
) -> None:
    seen: list[TicketAnswered] = []

    async def deliver(_session: AsyncSession, event: TicketAnswered) -> None:
        seen.append(event)

    event_bus.subscribe(TicketAnswered, deliver)
    ticket_id = await open_ticket(db)
    official = await make_account(Role.OFFICIAL)
    url = f"/api/v1/assistant/tickets/{ticket_id}"
    await client.patch(url, json={"status": "in_progress"}, headers=official.headers)
    assert seen == []
    await client.patch(url, json={"answer": "可以加快。"}, headers=official.headers)
    await client.patch(url, json={"status": "answered"}, headers=official.headers)  # same answer: no second event
    await client.patch(url, json={"answer": "可以加快，2个月内结案。"}, headers=official.headers)  # corrected
    assert [(e.ticket_id, e.sender_id, e.answer) for e in seen] == [
        (ticket_id, "wx:abc", "可以加快。"),
        (ticket_id, "wx:abc", "可以加快，2个月内结案。"),
    ]


async def test_ticket_rules(client: Client, db: Database, make_account: AccountFactory) -> None:
    ticket_id = await open_ticket(db)
    official = await make_account(Role.OFFICIAL)
    url = f"/api/v1/assistant/tickets/{ticket_id}"
    no_answer = await client.patch(url, json={"status": "answered"}, headers=official.headers)
    assert no_answer.status == 422 and (await no_answer.json())["error"]["details"][0]["field"] == "answer"
    empty = await client.patch(url, json={}, headers=official.headers)
    assert empty.status == 422
    bad_status = await client.patch(url, json={"status": "lost"}, headers=official.headers)
    assert bad_status.status == 422
    assert (await client.patch(url, json={"status": "closed"}, headers=official.headers)).status == 200
    closed = await client.patch(url, json={"answer": "late"}, headers=official.headers)
    assert closed.status == 409 and (await closed.json())["error"]["code"] == "ticket_closed"
    missing = await client.patch(
        "/api/v1/assistant/tickets/999999", json={"status": "closed"}, headers=official.headers
    )
    assert missing.status == 404


async def test_only_officials_see_tickets_and_unanswered_questions(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    ticket_id = await open_ticket(db)
    staff = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))
    for method, url in (
        ("GET", "/api/v1/assistant/tickets"),
        ("GET", "/api/v1/assistant/unanswered"),
        ("PATCH", f"/api/v1/assistant/tickets/{ticket_id}"),
    ):
        anonymous = await client.request(method, url, json={"status": "closed"})
        forbidden = await client.request(method, url, json={"status": "closed"}, headers=staff.headers)
        assert (anonymous.status, forbidden.status) == (401, 403), url


async def test_unanswered_questions_newest_first_and_by_reason(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    await open_ticket(db)
    official = await make_account(Role.OFFICIAL)
    everything = await (await client.get("/api/v1/assistant/unanswered", headers=official.headers)).json()
    assert [q["text"] for q in everything["items"]] == ["天气", "外观设计能加快吗"]
    only = await client.get("/api/v1/assistant/unanswered?reason=out_of_scope", headers=official.headers)
    assert [q["reason"] for q in (await only.json())["items"]] == ["out_of_scope"]
