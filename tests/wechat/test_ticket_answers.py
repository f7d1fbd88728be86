"""Expert answers to consultation tickets reach the person who asked: an answered ticket → one outbox row in the
answer's transaction → the worker → the WeChat stand-in, once. Official-account askers get a customer-service
text (the 48-hour window respected: a refusal is recorded undeliverable, never retried, and the subscribe message
is the fallback when consented); mini-program askers get a subscribe message when they consented."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from bot import service as tickets
from bot.schemas import TicketPatch
from core.auth import Principal, Role
from core.db import Database, utcnow
from core.events import TicketAnswered, publish
from core.settings import Settings
from core.wechat.replies import MAX_TEXT_BYTES
from tests.conftest import AccountFactory
from wechat.models import PushOutbox
from wechat.state import WECHAT
from wechat.worker import PushWorker
from wechat_standin.app import StandIn, official_openid_for, openid_for

Client = TestClient[Any, Any]
QUESTION = "我们的外观设计专利申请能不能走优先审查？需要准备哪些材料？"
ANSWER = "可以。外观设计专利申请符合条件的，可在提交申请时请求优先审查，获准后2个月内结案。材料见《办法》第十条。"


def worker(app: web.Application) -> PushWorker:
    return app[WECHAT].worker


async def wechat_user(client: Client, code: str) -> tuple[Principal, dict[str, str]]:
    """A mini-program user (created by their first WeChat login) and their bearer headers."""
    response = await client.post("/api/v1/auth/wechat-login", json={"code": code})
    assert response.status == 200, await response.text()
    headers = {"Authorization": f"Bearer {(await response.json())['token']}"}
    me = await (await client.get("/api/v1/me", headers=headers)).json()
    return Principal(user_id=me["user_id"], username="", role=Role.ENTERPRISE), headers


async def consent_to_ticket_answers(client: Client, headers: dict[str, str], settings: Settings) -> None:
    response = await client.post(
        "/api/v1/me/wechat/subscriptions",
        json={"results": {settings.wechat_template_ticket_answered: "accept"}},
        headers=headers,
    )
    assert response.status == 200, await response.text()


async def ask(
    db: Database, sender: str, *, principal: Principal | None = None, lang: str = "zh", question: str = QUESTION
) -> int:
    async with db.transaction() as session:
        ticket, _created = await tickets.open_ticket(
            session,
            sender_id=sender,
            channel="wechat" if sender.startswith("wx:") else "miniprogram",
            principal=principal,
            lang=lang,
            question=question,
            transcript=[question],
        )
        return ticket.id


async def answer(client: Client, official: Any, ticket_id: int, text: str = ANSWER) -> None:
    response = await client.patch(
        f"/api/v1/assistant/tickets/{ticket_id}", json={"answer": text}, headers=official.headers
    )
    assert response.status == 200, await response.text()


async def outbox(db: Database) -> list[PushOutbox]:
    async with db.reader() as session:
        return list(await session.scalars(select(PushOutbox).order_by(PushOutbox.id)))


async def test_a_followers_answered_ticket_is_one_outbox_row_sent_once_as_a_text(
    client: Client,
    app: web.Application,
    db: Database,
    standin: StandIn,
    settings: Settings,
    make_account: AccountFactory,
) -> None:
    follower = official_openid_for(settings.wechat_appid, "stranger")  # no account here at all
    ticket_id = await ask(db, f"wx:{follower}")
    official = await make_account(Role.OFFICIAL)

    await answer(client, official, ticket_id)

    [row] = await outbox(db)
    assert (row.kind, row.openid, row.user_id, row.subject, row.state) == (
        "custom",
        follower,
        None,
        f"ticket:{ticket_id}",
        "pending",
    )
    report = await worker(app).run_once()
    assert report.sent == 1
    [sent] = standin.sent
    assert (sent["api"], sent["touser"], sent["body"]["msgtype"]) == ("custom/send", follower, "text")
    content = sent["body"]["text"]["content"]
    assert content.startswith("【专家答复】")
    assert "“我们的外观设计专利申请能不能走优先审查？需要准备哪些材料？”" in content
    assert content.endswith(ANSWER)

    again = await worker(app).run_once()
    assert again.sent == 0 and len(standin.sent) == 1
    [row] = await outbox(db)
    assert row.state == "sent"


async def test_the_row_is_written_in_the_answers_transaction_and_never_twice(
    db: Database, standin: StandIn, settings: Settings, make_account: AccountFactory
) -> None:
    follower = official_openid_for(settings.wechat_appid, "rollback")
    ticket_id = await ask(db, f"wx:{follower}")
    official = await make_account(Role.OFFICIAL)
    acting = Principal(user_id=official.user_id, username=official.username, role=Role.OFFICIAL)
    try:
        async with db.transaction() as session:
            await tickets.update_ticket(session, acting, ticket_id, TicketPatch(answer=ANSWER))
            raise RuntimeError("the answer fails to commit")
    except RuntimeError:
        pass
    assert await outbox(db) == []

    event = TicketAnswered(ticket_id, f"wx:{follower}", "wechat", None, "zh", QUESTION, ANSWER)
    for _ in range(2):  # the same answer published again is the same news
        async with db.transaction() as session:
            await publish(session, event)
    assert len(await outbox(db)) == 1
    async with db.transaction() as session:  # a corrected answer is new news
        await publish(session, TicketAnswered(ticket_id, f"wx:{follower}", "wechat", None, "zh", QUESTION, "更正"))
    assert len(await outbox(db)) == 2


async def test_a_long_answer_goes_out_in_order_in_the_askers_language_split_within_wechats_limit(
    client: Client,
    app: web.Application,
    db: Database,
    standin: StandIn,
    settings: Settings,
    make_account: AccountFactory,
) -> None:
    follower = official_openid_for(settings.wechat_appid, "english")
    ticket_id = await ask(db, f"wx:{follower}", lang="en", question="Can a design patent be examined faster? " * 5)
    long_answer = "\n\n".join(f"Paragraph {n}: " + "Priority examination shortens the wait. " * 14 for n in range(5))
    official = await make_account(Role.OFFICIAL)

    await answer(client, official, ticket_id, long_answer)

    report = await worker(app).run_once()
    assert report.sent == 1
    texts = [item["body"]["text"]["content"] for item in standin.sent]
    assert len(texts) > 1 and all(len(t.encode("utf-8")) <= MAX_TEXT_BYTES for t in texts)
    assert texts[0].startswith("[Expert answer] An expert has answered your question.\nYou asked: “Can a design")
    assert "…”" in texts[0]  # the question is quoted briefly
    assert [t.split(":")[0] for t in "\n\n".join(texts).split("\n\n")[1:]] == [f"Paragraph {n}" for n in range(5)]


async def test_a_closed_window_is_recorded_undeliverable_and_not_retried(
    client: Client,
    app: web.Application,
    db: Database,
    standin: StandIn,
    settings: Settings,
    make_account: AccountFactory,
) -> None:
    follower = official_openid_for(settings.wechat_appid, "silent")
    ticket_id = await ask(db, f"wx:{follower}")
    official = await make_account(Role.OFFICIAL)
    standin.failures["custom/send"].append(45015)

    await answer(client, official, ticket_id)
    report = await worker(app).run_once()

    assert (report.sent, report.undeliverable, report.retrying, report.fell_back) == (0, 1, 0, 0)
    [row] = await outbox(db)
    assert row.state == "undeliverable" and row.last_error.startswith("45015") and row.attempts == 1
    async with db.transaction() as session:  # even if it looked due, it is not pending: nothing claims it again
        await session.execute(update(PushOutbox).values(next_attempt_at=utcnow() - dt.timedelta(days=1)))
    for _ in range(2):
        assert (await worker(app).run_once()).sent == 0
    assert standin.calls["custom/send"] == 1 and standin.sent == []


async def test_past_the_window_a_consenting_linked_user_gets_the_subscribe_message_instead(
    client: Client,
    app: web.Application,
    db: Database,
    standin: StandIn,
    settings: Settings,
    make_account: AccountFactory,
) -> None:
    hana, headers = await wechat_user(client, "hana.1")
    await consent_to_ticket_answers(client, headers, settings)
    ticket_id = await ask(db, f"wx:{official_openid_for(settings.wechat_appid, 'hana')}", principal=hana)
    official = await make_account(Role.OFFICIAL)
    standin.failures["custom/send"].append(45015)

    await answer(client, official, ticket_id)
    first = await worker(app).run_once()
    assert (first.undeliverable, first.fell_back) == (1, 1)
    second = await worker(app).run_once()
    assert second.sent == 1

    [sent] = standin.sent
    assert (sent["api"], sent["touser"]) == ("subscribe/send", openid_for(settings.wechat_appid, "hana"))
    assert sent["body"]["template_id"] == settings.wechat_template_ticket_answered
    assert sent["body"]["page"] == f"pages/assistant/ticket?id={ticket_id}"
    assert all(len(field["value"]) <= 20 for field in sent["body"]["data"].values())
    assert (await worker(app).run_once()).sent == 0 and len(standin.sent) == 1
    assert [r.state for r in await outbox(db)] == ["undeliverable", "sent"]


async def test_past_the_window_without_consent_the_answer_waits_in_the_app(
    client: Client,
    app: web.Application,
    db: Database,
    standin: StandIn,
    settings: Settings,
    make_account: AccountFactory,
) -> None:
    ivy, headers = await wechat_user(client, "ivy.1")
    ticket_id = await ask(db, f"wx:{official_openid_for(settings.wechat_appid, 'ivy')}", principal=ivy)
    official = await make_account(Role.OFFICIAL)
    standin.failures["custom/send"].append(45015)

    await answer(client, official, ticket_id)
    report = await worker(app).run_once()

    assert (report.undeliverable, report.fell_back) == (1, 0)
    assert (await worker(app).run_once()).sent == 0 and standin.sent == []
    mine = await (await client.get("/api/v1/me/tickets", headers=headers)).json()
    assert [(t["id"], t["status"], t["answer"]) for t in mine["items"]] == [(ticket_id, "answered", ANSWER)]


async def test_a_transient_error_mid_answer_resumes_after_the_messages_already_sent(
    client: Client,
    app: web.Application,
    db: Database,
    standin: StandIn,
    settings: Settings,
    make_account: AccountFactory,
) -> None:
    follower = official_openid_for(settings.wechat_appid, "patient")
    ticket_id = await ask(db, f"wx:{follower}")
    official = await make_account(Role.OFFICIAL)
    await answer(
        client, official, ticket_id, "\n\n".join(f"第{n}段。" + "优先审查可以缩短等待时间。" * 60 for n in range(3))
    )

    busy = await _BusyAfter(standin, allowed=1).run(worker(app))  # the second message finds WeChat busy
    assert busy.retrying == 1 and len(standin.sent) == 1
    [row] = await outbox(db)
    assert row.state == "pending" and '"sent": 1' in row.data
    async with db.transaction() as session:
        await session.execute(update(PushOutbox).values(next_attempt_at=utcnow()))

    done = await worker(app).run_once()
    assert done.sent == 1
    texts = [item["body"]["text"]["content"] for item in standin.sent]
    assert len(texts) == len(set(texts)) >= 3  # each message once, none repeated by the retry
    assert texts[0].startswith("【专家答复】")
    joined = "".join(texts)
    assert [joined.count(f"第{n}段") for n in range(3)] == [1, 1, 1]
    assert joined.index("第0段") < joined.index("第1段") < joined.index("第2段")


class _BusyAfter:
    """Lets `allowed` customer-service messages through, then makes WeChat answer -1 (busy) once."""

    def __init__(self, standin: StandIn, allowed: int) -> None:
        self.standin = standin
        self.allowed = allowed

    async def run(self, push_worker: PushWorker) -> Any:
        client = push_worker.client
        send = client.send_custom_text
        calls = 0

        async def first_then_busy(openid: str, content: str) -> None:
            nonlocal calls
            calls += 1
            if calls == self.allowed + 1:
                self.standin.failures["custom/send"].append(-1)
            await send(openid, content)

        client.send_custom_text = first_then_busy  # type: ignore[method-assign]
        try:
            return await push_worker.run_once()
        finally:
            client.send_custom_text = send  # type: ignore[method-assign]


async def test_a_mini_program_asker_gets_a_subscribe_message_only_with_consent(
    client: Client,
    app: web.Application,
    db: Database,
    standin: StandIn,
    settings: Settings,
    make_account: AccountFactory,
) -> None:
    jin, jin_headers = await wechat_user(client, "jin.1")
    kai, _kai_headers = await wechat_user(client, "kai.1")  # never consented
    await consent_to_ticket_answers(client, jin_headers, settings)
    official = await make_account(Role.OFFICIAL)
    for person in (jin, kai):
        await answer(client, official, await ask(db, f"u:{person.user_id}", principal=person))

    report = await worker(app).run_once()

    assert report.sent == 1
    [sent] = standin.sent
    assert (sent["api"], sent["touser"]) == ("subscribe/send", openid_for(settings.wechat_appid, "jin"))
    assert sent["body"]["template_id"] == settings.wechat_template_ticket_answered
    assert [r.user_id for r in await outbox(db)] == [jin.user_id]
