"""The chat gateway's own logic: routing by sender, reply conversion, signed identity, and the fallback when Rasa
refuses connections or never answers (both real conditions: a closed port, a server that accepts and stays
silent). Conversations with the real Rasa are in test_rasa_live.py."""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from app.factory import create_app
from bot.gateway import (
    COOL_DOWN_SECONDS,
    KNOWLEDGE_LEAST_SECONDS,
    KNOWLEDGE_SECONDS,
    LANG_METADATA_KEY,
    RasaGateway,
    RasaUnavailable,
    rendezvous_order,
    to_replies,
)
from bot.identity import MAX_AGE_SECONDS, VerifiedSender, identity_metadata, verified_principal, verified_sender
from core.auth import Principal, Role
from core.chat import ChatTurn
from core.db import Database
from core.settings import Settings
from tests.conftest import Account, AccountFactory
from tests.vouchers.builders import make_enterprise

Client = TestClient[Any, Any]


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield port
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def gateway(settings: Settings, http: aiohttp.ClientSession, urls: str, deadline: float = 2.0) -> RasaGateway:
    return RasaGateway(settings.model_copy(update={"rasa_url": urls, "chat_deadline_seconds": deadline}), lambda: http)


def turn(text: str, sender: str = "u:1") -> ChatTurn:
    return ChatTurn(sender_id=sender, text=text, channel="miniprogram")


# ---------------------------------------------------------------- routing


def test_each_sender_sticks_to_one_instance_and_load_spreads() -> None:
    urls = ["http://a:5005", "http://b:5005", "http://c:5005"]
    first = {f"u:{n}": rendezvous_order(urls, f"u:{n}")[0] for n in range(3000)}
    assert first == {s: rendezvous_order(list(reversed(urls)), s)[0] for s in first}  # order of the list is irrelevant
    counts = Counter(first.values())
    assert all(850 <= counts[u] <= 1150 for u in urls), counts


def test_removing_an_instance_moves_only_its_own_conversations() -> None:
    urls = ["http://a:5005", "http://b:5005", "http://c:5005"]
    before = {f"wx:{n}": rendezvous_order(urls, f"wx:{n}")[0] for n in range(2000)}
    after = {s: rendezvous_order(urls[:2], s)[0] for s in before}
    moved = [s for s in before if before[s] != after[s]]
    assert moved and all(before[s] == "http://c:5005" for s in moved)


# ---------------------------------------------------------------- reply conversion


def test_rasa_messages_become_replies_with_cards_joined_to_their_text() -> None:
    messages = [
        {"recipient_id": "u:1", "text": "为您找到3家", "buttons": [{"title": "比较", "payload": "/compare_agencies"}]},
        {
            "recipient_id": "u:1",
            "custom": {"cards": [{"title": "天衡", "subtitle": "A级", "lines": ["x"], "link": "p"}]},
        },
        {"recipient_id": "u:1", "text": "还有别的吗？"},
        {"recipient_id": "u:1", "image": "https://example.invalid/a.png"},
        {"recipient_id": "u:1", "custom": {"cards": [{"subtitle": "no title"}]}},
        "junk",
    ]
    replies = to_replies(messages)
    assert [r.text for r in replies] == ["为您找到3家", "还有别的吗？", "https://example.invalid/a.png"]
    assert replies[0].buttons[0].payload == "/compare_agencies"
    assert [c.title for c in replies[0].cards] == ["天衡"]
    assert to_replies({"not": "a list"}) == []


def test_a_custom_payload_with_text_is_a_reply_of_its_own() -> None:
    (reply,) = to_replies([{"custom": {"text": "hi", "buttons": [{"title": "t", "payload": "/p"}], "cards": []}}])
    assert reply.text == "hi" and reply.buttons[0].title == "t"


# ---------------------------------------------------------------- identity


def test_the_identity_sent_to_rasa_is_signed_and_bound_to_the_conversation() -> None:
    secret = "s" * 32
    who = Principal(user_id=5, username="", role=Role.ENTERPRISE, enterprise_id=9)
    metadata = identity_metadata(secret, "u:5", "我的券", who, None)
    assert verified_principal(secret, "u:5", "我的券", metadata) == Principal(
        user_id=5, username="", role=Role.ENTERPRISE, enterprise_id=9
    )
    assert verified_principal(secret, "u:6", "我的券", metadata) is None  # another conversation
    assert verified_principal("t" * 32, "u:5", "我的券", metadata) is None  # another secret
    assert verified_principal(secret, "u:5", "我的券", metadata | {"enterprise_id": "10"}) is None  # tampered
    assert verified_principal(secret, "u:5", "我的券", metadata, now=time.time() + 2 * 86400) is None  # stale
    anonymous = identity_metadata(secret, "wx:o", "你好", None, "o")
    assert verified_principal(secret, "wx:o", "你好", anonymous) is None  # anonymous


def test_the_signature_holds_for_its_own_message_and_only_for_minutes() -> None:
    secret = "s" * 32
    who = Principal(user_id=5, username="", role=Role.ENTERPRISE, enterprise_id=9)
    now = time.time()
    metadata = identity_metadata(secret, "u:5", "  我的券 ", who, None, now=now)
    # Rasa stores the text stripped: the signature covers the stripped text.
    assert verified_sender(secret, "u:5", "我的券", metadata, now=now) == VerifiedSender(principal=who, openid="")
    assert verified_principal(secret, "u:5", "转人工", metadata, now=now) is None  # another message's metadata
    assert verified_principal(secret, "u:5", "我的券", metadata, now=now + MAX_AGE_SECONDS - 1) == who
    assert verified_principal(secret, "u:5", "我的券", metadata, now=now + MAX_AGE_SECONDS + 1) is None
    assert MAX_AGE_SECONDS <= 10 * 60  # minutes, not hours
    assert verified_principal("", "u:5", "我的券", identity_metadata("", "u:5", "我的券", who, None)) is None
    # An anonymous follower is a verified sender (it may open a ticket) without a principal.
    follower = identity_metadata(secret, "wx:o", "转人工", None, "o", now=now)
    assert verified_sender(secret, "wx:o", "转人工", follower, now=now) == VerifiedSender(principal=None, openid="o")
    assert verified_sender(secret, "wx:o", "转人工", follower | {"ipa_sig": "\ud800"}, now=now) is None


# ---------------------------------------------------------------- fallback


async def test_a_closed_port_gives_the_menu_and_agency_search_at_once(
    settings: Settings, http: aiohttp.ClientSession
) -> None:
    engine = gateway(settings, http, f"http://127.0.0.1:{closed_port()}")
    started = time.monotonic()
    (zh,) = await engine.reply(turn("我的券什么时候过期"))
    assert time.monotonic() - started < 1.0
    assert "暂时繁忙" in zh.text and zh.buttons
    assert zh.cards[0].link == "pages/agency/search"
    (en,) = await engine.reply(turn("when do my vouchers expire", sender="u:2"))
    assert "busy" in en.text and en.cards[0].title == "Search agencies"


async def test_a_tapped_button_does_not_switch_the_language(settings: Settings, http: aiohttp.ClientSession) -> None:
    engine = gateway(settings, http, f"http://127.0.0.1:{closed_port()}")
    (reply,) = await engine.reply(turn('/find_agency{"region": "330100"}'))
    assert "暂时繁忙" in reply.text


async def test_a_server_that_never_answers_gives_the_fallback_within_the_deadline_then_at_once(
    settings: Settings, http: aiohttp.ClientSession, silent_server: int
) -> None:
    engine = gateway(settings, http, f"http://127.0.0.1:{silent_server}", deadline=0.5)
    started = time.monotonic()
    (reply,) = await engine.reply(turn("走优先审查发明多久能下来"))
    elapsed = time.monotonic() - started
    assert 0.45 <= elapsed < 1.0
    assert "暂时繁忙" in reply.text
    # While it cools down, nobody else waits for it.
    started = time.monotonic()
    await engine.reply(turn("hello", sender="u:9"))
    assert time.monotonic() - started < 0.1
    assert COOL_DOWN_SECONDS >= 1


async def test_the_next_instance_is_tried_when_one_refuses(
    settings: Settings, http: aiohttp.ClientSession, silent_server: int
) -> None:
    refused = f"http://127.0.0.1:{closed_port()}"
    silent = f"http://127.0.0.1:{silent_server}"
    engine = gateway(settings, http, f"{refused},{silent}", deadline=0.6)
    # A sender whose first choice is the refusing instance: it fails over to the silent one, whose timeout ends
    # the turn — so the turn took the deadline, not the instant refusal.
    sender = next(s for s in (f"u:{n}" for n in range(100)) if rendezvous_order(engine.urls, s)[0] == refused)
    started = time.monotonic()
    await engine.reply(turn("hi", sender=sender))
    assert time.monotonic() - started >= 0.5
    assert engine.order_for(sender) == []  # both cooling down now


class Clock:
    """A clock the test moves by hand (the gateway's `clock`)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Knowledge:
    """The fallback's lookup of an official answer: answers `text`, or waits for ever (until cut) when None."""

    def __init__(self, text: str | None) -> None:
        self.text = text
        self.asked: list[str] = []
        self.cut = 0

    async def __call__(self, turn: ChatTurn) -> str | None:
        self.asked.append(turn.text)
        if self.text is not None:
            return self.text
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cut += 1
            raise
        return None


def knowing_gateway(settings: Settings, http: aiohttp.ClientSession, knowledge: Knowledge, clock: Clock) -> RasaGateway:
    offline = settings.model_copy(update={"rasa_url": f"http://127.0.0.1:{closed_port()}"})
    return RasaGateway(offline, lambda: http, clock=clock, knowledge=knowledge)


async def test_the_knowledge_lookup_gets_the_time_left_before_the_reply_deadline(
    settings: Settings, http: aiohttp.ClientSession
) -> None:
    clock = Clock()
    engine = knowing_gateway(settings, http, Knowledge("答"), clock)
    # No deadline from the channel (the mini-program waits): the lookup's own bound.
    assert engine.knowledge_budget(turn("优先审查")) == KNOWLEDGE_SECONDS
    # WeChat's passive reply is due in 0.3 s: the lookup gets those 0.3 s, not its full second.
    due = ChatTurn(sender_id="wx:o", text="优先审查", channel="wechat", reply_by=clock.now + 0.3)
    assert engine.knowledge_budget(due) == pytest.approx(0.3)
    # Plenty of time left: still no more than its own bound.
    assert engine.knowledge_budget(replace(due, reply_by=clock.now + 30)) == KNOWLEDGE_SECONDS
    # Too little left, or the deadline passed already: no lookup at all.
    assert engine.knowledge_budget(replace(due, reply_by=clock.now + KNOWLEDGE_LEAST_SECONDS / 2)) == 0.0
    assert engine.knowledge_budget(replace(due, reply_by=clock.now - 1)) == 0.0


async def test_with_rasa_down_the_official_answer_is_served_while_there_is_time_and_the_menu_after(
    settings: Settings, http: aiohttp.ClientSession
) -> None:
    clock = Clock()
    knowledge = Knowledge("官方答复：可以减缴。")
    engine = knowing_gateway(settings, http, knowledge, clock)
    in_time = ChatTurn(sender_id="wx:o", text="专利费能减吗", channel="wechat", reply_by=clock.now + 0.4)
    (reply,) = await engine.reply(in_time)
    assert reply.text == "官方答复：可以减缴。" and reply.buttons
    # The passive reply is due now (Rasa took the time): the menu at once, the lookup not even started.
    late = replace(in_time, reply_by=clock.now + KNOWLEDGE_LEAST_SECONDS / 2)
    (menu,) = await engine.reply(late)
    assert "暂时繁忙" in menu.text
    assert knowledge.asked == ["专利费能减吗"]


async def test_a_lookup_that_does_not_finish_is_cut_at_the_reply_deadline_and_the_menu_answers(
    settings: Settings, http: aiohttp.ClientSession
) -> None:
    clock = Clock()
    knowledge = Knowledge(None)
    engine = knowing_gateway(settings, http, knowledge, clock)
    due = ChatTurn(sender_id="wx:o", text="专利费能减吗", channel="wechat", reply_by=clock.now + 0.1)
    (menu,) = await engine.reply(due)
    assert "暂时繁忙" in menu.text
    assert knowledge.asked == ["专利费能减吗"] and knowledge.cut == 1


async def test_readiness_names_each_unreachable_instance(settings: Settings, http: aiohttp.ClientSession) -> None:
    a, b = closed_port(), closed_port()
    engine = gateway(settings, http, f"http://127.0.0.1:{a},http://127.0.0.1:{b}")
    with pytest.raises(RasaUnavailable, match=f"127.0.0.1:{a}.*127.0.0.1:{b}"):
        await engine.ready()


# ---------------------------------------------------------------- one call per turn, places in flight


class RecordingRasa:
    """An HTTP server standing where Rasa is: records every request (path, body) and how many it held at once,
    answers the REST webhook after `delay` seconds with one text message."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, Any]] = []
        self.delay = 0.0
        self.now = 0
        self.most = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, await request.json()))
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.now -= 1
        return web.json_response([{"recipient_id": "x", "text": "好的"}])


@pytest.fixture
async def recording_rasa(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> tuple[RecordingRasa, str]:
    rasa = RecordingRasa()
    app = web.Application()
    app.router.add_post("/{tail:.*}", rasa.handle)
    server = await aiohttp_server(app)
    return rasa, str(server.make_url("")).rstrip("/")


async def test_a_turn_is_one_call_carrying_the_language_and_a_tapped_button_carries_none(
    settings: Settings, http: aiohttp.ClientSession, recording_rasa: tuple[RecordingRasa, str]
) -> None:
    rasa, url = recording_rasa
    engine = gateway(settings, http, url)
    (reply,) = await engine.reply(turn("can I use PPH", sender="u:5"))
    assert reply.text == "好的"
    await engine.reply(turn("优先审查要多久", sender="u:5"))
    await engine.reply(turn("/ask_pph", sender="u:5"))
    assert [path for path, _ in rasa.requests] == ["/webhooks/rest/webhook"] * 3
    metadata = [body["metadata"] for _, body in rasa.requests]
    assert [m.get(LANG_METADATA_KEY) for m in metadata] == ["en", "zh", None]
    assert all(body["sender"] == "u:5" for _, body in rasa.requests)


async def test_turns_beyond_the_places_in_flight_wait_and_past_the_deadline_get_the_busy_fallback(
    settings: Settings, http: aiohttp.ClientSession, recording_rasa: tuple[RecordingRasa, str]
) -> None:
    rasa, url = recording_rasa
    rasa.delay = 0.5
    engine = RasaGateway(
        settings.model_copy(update={"rasa_url": url, "chat_deadline_seconds": 1.4, "rasa_max_in_flight": 2}),
        lambda: http,
    )
    answers = await asyncio.gather(*(engine.reply(turn("优先审查", sender=f"u:{n}")) for n in range(6)))
    texts = [replies[0].text for replies in answers]
    # Two at a time, 0.5 s each: the first four are answered by 1.0 s; the last two get their places with 0.4 s
    # left of the 1.4 s deadline, less than a turn takes, and are answered "busy" at once instead of being sent.
    assert rasa.most == 2
    assert texts.count("好的") == 4, texts
    assert sum("暂时繁忙" in t for t in texts) == 2, texts
    assert len(rasa.requests) == 4  # those still in line never reached Rasa
    # A full instance is not a failing one: the next turn goes to it at once.
    assert engine.order_for("u:99") == [url]
    rasa.delay = 0.0
    (reply,) = await engine.reply(turn("优先审查", sender="u:99"))
    assert reply.text == "好的"


# ---------------------------------------------------------------- /api/v1/chat and /readyz


@pytest.fixture
async def offline_client(settings: Settings, clean: None, aiohttp_client: Callable[..., Awaitable[Client]]) -> Client:
    """The app with RASA_URL on a closed port."""
    offline = settings.model_copy(update={"rasa_url": f"http://127.0.0.1:{closed_port()}"})
    return await aiohttp_client(create_app(offline))


async def test_chat_needs_enterprise_staff(offline_client: Client, make_account: AccountFactory) -> None:
    assert (await offline_client.post("/api/v1/chat", json={"text": "hi"})).status == 401
    official = await make_account(Role.OFFICIAL)
    response = await offline_client.post("/api/v1/chat", json={"text": "hi"}, headers=official.headers)
    assert response.status == 403


async def staff_of_an_enterprise(db: Database, make_account: AccountFactory) -> Account:
    return await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))


async def test_chat_validates_the_text(offline_client: Client, db: Database, make_account: AccountFactory) -> None:
    staff = await staff_of_an_enterprise(db, make_account)
    response = await offline_client.post("/api/v1/chat", json={"text": "   "}, headers=staff.headers)
    assert response.status == 422
    assert (await response.json())["error"]["details"][0]["field"] == "text"


async def test_chat_with_rasa_down_answers_with_the_fallback(
    offline_client: Client, db: Database, make_account: AccountFactory
) -> None:
    staff = await staff_of_an_enterprise(db, make_account)
    response = await offline_client.post("/api/v1/chat", json={"text": "can I use PPH"}, headers=staff.headers)
    assert response.status == 200
    (reply,) = (await response.json())["replies"]
    assert "busy" in reply["text"]
    assert reply["cards"][0]["link"] == "pages/agency/search"
    assert {b["payload"] for b in reply["buttons"]} >= {"/find_agency"}


async def test_fallbacks_are_counted_in_the_metrics(
    offline_client: Client, db: Database, make_account: AccountFactory
) -> None:
    staff = await staff_of_an_enterprise(db, make_account)
    await offline_client.post("/api/v1/chat", json={"text": "hi"}, headers=staff.headers)
    metrics = await (await offline_client.get("/metrics")).text()
    assert 'assistant_turns_total{outcome="unavailable"} 1.0' in metrics
    assert "assistant_turn_seconds_count 1.0" in metrics


async def test_readyz_reports_rasa_down_without_failing_readiness(offline_client: Client) -> None:
    response = await offline_client.get("/readyz")
    body = await response.json()
    assert response.status == 200 and body["status"] == "ready"
    assert body["checks"]["rasa"]["status"] == "down"


async def test_the_openapi_document_lists_the_assistant_routes(offline_client: Client) -> None:
    paths = (await (await offline_client.get("/api/v1/openapi.json")).json())["paths"]
    assert {"/api/v1/chat", "/api/v1/assistant/tickets", "/api/v1/assistant/tickets/{ticket_id}"} <= set(paths)
    assert "/api/v1/assistant/unanswered" in paths
    assert not any(p.startswith("/bot/") for p in paths)
