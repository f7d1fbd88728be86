"""The person who asked finds the experts' answers in the app: `GET /api/v1/me/tickets` lists only their own tickets
(opened in the mini-program or, once linked, in the official account), `GET /api/v1/me/tickets/{id}` shows one."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from bot import service
from core.auth import Principal, Role
from core.db import Database
from tests.conftest import Account, AccountFactory
from tests.vouchers.builders import make_enterprise

Client = TestClient[Any, Any]


def principal(account: Account, enterprise_id: int | None = None) -> Principal:
    return Principal(account.user_id, account.username, account.role, enterprise_id=enterprise_id)


async def ask(db: Database, sender: str, who: Principal | None, question: str) -> int:
    async with db.transaction() as session:
        ticket, _created = await service.open_ticket(
            session,
            sender_id=sender,
            channel="wechat" if sender.startswith("wx:") else "miniprogram",
            principal=who,
            lang="zh",
            question=question,
            transcript=[question],
        )
        return ticket.id


async def test_a_user_sees_only_their_own_tickets_with_the_answers(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    enterprise = await make_enterprise(db)
    amy = await make_account(Role.ENTERPRISE, enterprise_id=enterprise)
    ben = await make_account(Role.ENTERPRISE, enterprise_id=enterprise)  # same enterprise, still not Amy's tickets
    official = await make_account(Role.OFFICIAL)
    in_app = await ask(db, f"u:{amy.user_id}", principal(amy, enterprise), "商标能优先审查吗")
    await client.patch(f"/api/v1/assistant/tickets/{in_app}", json={"answer": "可以。"}, headers=official.headers)
    from_wechat = await ask(db, "wx:o-amy-official", principal(amy, enterprise), "质押融资怎么办")
    await ask(db, f"u:{ben.user_id}", principal(ben, enterprise), "本的问题")
    await ask(db, "wx:o-stranger", None, "陌生人的问题")

    response = await client.get("/api/v1/me/tickets", headers=amy.headers)

    assert response.status == 200
    body = await response.json()
    assert body["total"] == 2
    assert [(t["id"], t["channel"], t["status"], t["question"], t["answer"]) for t in body["items"]] == [
        (from_wechat, "wechat", "open", "质押融资怎么办", ""),
        (in_app, "miniprogram", "answered", "商标能优先审查吗", "可以。"),
    ]
    answered = await client.get("/api/v1/me/tickets?status=answered", headers=amy.headers)
    assert [t["id"] for t in (await answered.json())["items"]] == [in_app]
    one = await client.get(f"/api/v1/me/tickets/{in_app}", headers=amy.headers)
    assert one.status == 200 and (await one.json())["answer"] == "可以。"
    bens = await (await client.get("/api/v1/me/tickets", headers=ben.headers)).json()
    assert [t["question"] for t in bens["items"]] == ["本的问题"]


async def test_a_draft_answer_is_not_shown_until_the_ticket_is_answered(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    amy = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))
    official = await make_account(Role.OFFICIAL)
    ticket_id = await ask(db, f"u:{amy.user_id}", principal(amy), "PPH怎么申请")
    url = f"/api/v1/assistant/tickets/{ticket_id}"
    await client.patch(url, json={"status": "in_progress", "answer": "草稿"}, headers=official.headers)

    draft = await (await client.get(f"/api/v1/me/tickets/{ticket_id}", headers=amy.headers)).json()
    assert (draft["status"], draft["answer"], draft["answered_at"]) == ("in_progress", "", None)

    await client.patch(url, json={"status": "answered"}, headers=official.headers)
    final = await (await client.get(f"/api/v1/me/tickets/{ticket_id}", headers=amy.headers)).json()
    assert (final["status"], final["answer"]) == ("answered", "草稿") and final["answered_at"]


async def test_someone_elses_ticket_or_a_missing_one_is_404_and_anonymous_is_401(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    amy = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))
    ben = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))
    official = await make_account(Role.OFFICIAL)
    ticket_id = await ask(db, f"u:{amy.user_id}", principal(amy), "专利导航是什么")

    for headers in (ben.headers, official.headers):  # officials work tickets elsewhere; this is "mine"
        other = await client.get(f"/api/v1/me/tickets/{ticket_id}", headers=headers)
        assert other.status == 404 and (await other.json())["error"]["code"] == "ticket_not_found"
    for path in ("/api/v1/me/tickets/999999", "/api/v1/me/tickets/abc"):
        assert (await client.get(path, headers=amy.headers)).status == 404, path
    for path in ("/api/v1/me/tickets", f"/api/v1/me/tickets/{ticket_id}"):
        anonymous = await client.get(path)
        assert anonymous.status == 401, path
    assert (await (await client.get("/api/v1/me/tickets", headers=official.headers)).json())["items"] == []


async def test_bad_list_parameters_are_422_naming_the_field(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    amy = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))
    for query, field in (("status=lost", "status"), ("page=0", "page"), ("page_size=500", "page_size")):
        response = await client.get(f"/api/v1/me/tickets?{query}", headers=amy.headers)
        assert response.status == 422, query
        assert (await response.json())["error"]["details"][0]["field"] == f"query.{field}", query
