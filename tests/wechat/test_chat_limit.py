"""`/wechat`: the chat limit per sender (openid) — a wait reply instead of the engine past it, retries and events
not counted, the next window answered again."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.cache import CacheUnavailable
from core.ratelimit import RateLimiter
from core.settings import Settings
from core.state import CACHE
from tests.wechat.conftest import RecordingEngine
from wechat.state import WECHAT
from wechat_standin.server import WeChatServer, event_message, new_msg_id, text_message

Client = TestClient[Any, Any]
ALICE = "oAlice0000000000000000000000"
BOB = "oBob00000000000000000000000000"
LIMIT = 3
WINDOW = 60


@pytest.fixture
def tuning() -> dict[str, Any]:
    """Settings a test changes (parametrize `tuning` to change them)."""
    return {}


@pytest.fixture
async def settings(settings: Settings, tuning: dict[str, Any]) -> Settings:
    return settings.model_copy(
        update={"chat_limit_per_user": LIMIT, "rate_limit_window_seconds": WINDOW, "rate_limits": True, **tuning}
    )


@pytest.fixture
def still_clock(app: web.Application, client: Client, settings: Settings) -> float:
    """The limiter's clock stands still 30 s before the end of a window: no test straddles a window boundary, and
    the seconds to the next window are exactly 30."""
    now = (time.time() // WINDOW + 1) * WINDOW - 30
    app[WECHAT].limiter = RateLimiter(settings, clock=lambda: now)
    return now


def said(text: str) -> str:
    return text_message(ALICE, text, new_msg_id())


async def test_the_message_past_the_limit_gets_a_wait_reply_and_the_engine_is_not_asked(
    wx: WeChatServer, engine: RecordingEngine, still_clock: float
) -> None:
    for n in range(LIMIT):
        delivery = await wx.deliver(said(f"问题{n}"))
        assert delivery.reply is not None and delivery.reply.startswith(f"收到：问题{n}")
    over = await wx.deliver(said("还有一个问题"))
    assert over.status == 200
    assert over.reply == "您发消息有点快，请稍等 30 秒再发，我马上继续为您解答。"
    assert [t.text for t in engine.turns] == [f"问题{n}" for n in range(LIMIT)]


async def test_another_sender_is_not_affected(wx: WeChatServer, engine: RecordingEngine, still_clock: float) -> None:
    for _ in range(LIMIT + 1):
        await wx.deliver(said("你好"))
    bob = await wx.deliver(text_message(BOB, "你好", new_msg_id()))
    assert bob.reply is not None and bob.reply.startswith("收到：你好")
    assert [t.sender_id for t in engine.turns] == [f"wx:{ALICE}"] * LIMIT + [f"wx:{BOB}"]


async def test_the_wait_reply_is_in_the_senders_language(
    wx: WeChatServer, engine: RecordingEngine, still_clock: float
) -> None:
    for text in ["hello"] * (LIMIT - 1) + ["你好"]:  # the last answer offers its choices in Chinese
        await wx.deliver(said(text))
    over = await wx.deliver(said("one more question"))
    assert over.reply == "You're sending messages a little fast — please wait 30 seconds, then I'll carry on."
    # A typed number picks one of the choices offered in Chinese (by itself "2" would read as English).
    chose = await wx.deliver(said("2"))
    assert chose.reply is not None and chose.reply.startswith("您发消息有点快")
    assert len(engine.turns) == LIMIT


async def test_retries_are_answered_from_the_first_delivery_and_not_counted(
    client: Client, wx: WeChatServer, engine: RecordingEngine, still_clock: float
) -> None:
    async def post(envelope: Any) -> str | None:
        response = await client.post("/wechat", params=envelope.params, data=envelope.body)
        assert response.status == 200
        return wx.read_reply(envelope, await response.text())[0]

    first, second, third, fourth = (wx.envelope(said(f"第{n}条")) for n in range(1, LIMIT + 2))
    assert await post(first) == await post(first) == await post(first)  # one message, three deliveries
    assert await post(second) == await post(second)
    answered = await post(third)  # the third message: within the limit only if the retries were not counted
    assert answered is not None and answered.startswith("收到：第3条")
    waited = await post(fourth)
    assert waited is not None and waited.startswith("您发消息有点快")
    assert await post(fourth) == waited  # a retry of the refused message repeats the wait reply
    assert await post(third) == answered  # and an answered one is answered again, not refused
    assert [t.text for t in engine.turns] == ["第1条", "第2条", "第3条"]


async def test_events_are_not_limited(wx: WeChatServer, engine: RecordingEngine, still_clock: float) -> None:
    for _ in range(LIMIT + 1):
        await wx.deliver(said("你好"))
    welcome = await wx.deliver(event_message(ALICE, "subscribe"))
    assert welcome.reply is not None and "知识产权政策助手" in welcome.reply
    clicked = await wx.deliver(event_message(ALICE, "CLICK", "FIND_AGENCY"))
    assert clicked.reply is not None and clicked.reply.startswith("收到：/find_agency")
    assert [t.text for t in engine.turns][-1] == "/find_agency"
    assert len(engine.turns) == LIMIT + 1


@pytest.mark.parametrize("tuning", [{"rate_limit_window_seconds": 2}])
async def test_the_limit_resets_in_the_next_window(wx: WeChatServer, engine: RecordingEngine) -> None:
    # Real time, a 2 s window: a burst of messages is refused within it (a burst may cross one window boundary,
    # hence up to twice the limit), and the wait reply names the seconds to the next window.
    for n in range(2 * LIMIT + 1):
        delivery = await wx.deliver(said(f"快{n}"))
        assert delivery.reply is not None
        if delivery.reply.startswith("您发消息有点快"):
            break
    else:
        pytest.fail("no message of the burst was refused")
    found = re.search(r"请稍等 (\d+) 秒", delivery.reply)
    assert found is not None
    seconds = int(found[1])
    assert 1 <= seconds <= 2
    asked = len(engine.turns)
    await asyncio.sleep(seconds)
    again = await wx.deliver(said("现在可以了吗"))
    assert again.reply is not None and again.reply.startswith("收到：现在可以了吗")
    assert len(engine.turns) == asked + 1


@pytest.mark.parametrize("tuning", [{"rate_limits": False}])
async def test_rate_limits_false_turns_it_off(wx: WeChatServer, engine: RecordingEngine) -> None:
    for n in range(LIMIT + 2):
        delivery = await wx.deliver(said(f"问{n}"))
        assert delivery.reply is not None and delivery.reply.startswith(f"收到：问{n}")
    assert len(engine.turns) == LIMIT + 2


async def test_when_the_cache_cannot_count_the_limit_is_skipped_and_logged(
    app: web.Application,
    wx: WeChatServer,
    engine: RecordingEngine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def cannot_count(key: str, ttl: int) -> int:
        raise CacheUnavailable("redis is down")

    monkeypatch.setattr(app[CACHE], "incr", cannot_count)
    with caplog.at_level(logging.WARNING, logger="core.ratelimit"):
        for n in range(LIMIT + 2):
            delivery = await wx.deliver(said(f"问{n}"))
            assert delivery.reply is not None and delivery.reply.startswith(f"收到：问{n}")
    assert len(engine.turns) == LIMIT + 2
    assert any("the cache cannot count" in r.getMessage() for r in caplog.records)
