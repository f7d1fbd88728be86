"""`/wechat`: verification, plain and AES round trips, refusals, events, retries and the reply deadline."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession
from wechatpy.crypto import WeChatCrypto

from core.cache import CacheUnavailable
from core.chat import ChatReply
from core.db import Database
from core.settings import Settings
from core.state import CACHE
from core.wechat.replies import MAX_TEXT_BYTES
from tests.wechat.conftest import AES_KEY, DEADLINE, RecordingEngine
from wechat.models import CustomMessage
from wechat.state import WECHAT
from wechat.webhook import DB_WRITE_ATTEMPTS, send_custom
from wechat_standin.app import StandIn, official_openid_for
from wechat_standin.server import WeChatServer, event_message, media_message, new_msg_id, text_message

Client = TestClient[Any, Any]
ALICE = "oAlice0000000000000000000000"


async def wait_for_sent(standin: StandIn, count: int) -> list[dict[str, Any]]:
    for _ in range(100):  # up to 5 s
        if len(standin.sent) >= count:
            break
        await asyncio.sleep(0.05)
    return standin.sent


async def test_url_verification_echoes_echostr(wx: WeChatServer) -> None:
    assert await wx.verify_url("hello-123") == "hello-123"


async def test_url_verification_with_a_bad_signature_is_refused(client: Client) -> None:
    now = str(int(time.time()))
    response = await client.get(
        "/wechat", params={"signature": "0" * 40, "timestamp": now, "nonce": "n", "echostr": "x"}
    )
    assert response.status == 403
    assert "x" not in await response.text()


async def test_plain_text_message_is_answered_by_the_engine(wx_plain: WeChatServer, engine: RecordingEngine) -> None:
    delivery = await wx_plain.deliver(text_message(ALICE, "优先审查需要什么条件？", new_msg_id()))
    assert delivery.status == 200
    assert delivery.reply is not None and delivery.reply.startswith("收到：优先审查需要什么条件？")
    assert "1. <a href=" in delivery.reply
    [turn] = engine.turns
    assert (turn.sender_id, turn.channel, turn.wechat_openid) == (f"wx:{ALICE}", "wechat", ALICE)
    assert turn.principal is None


async def test_the_engine_is_told_the_passive_replys_deadline(
    wx: WeChatServer, engine: RecordingEngine, settings: Settings
) -> None:
    before = time.monotonic()
    await wx.deliver(text_message(ALICE, "优先审查需要什么条件？", new_msg_id()))
    after = time.monotonic()
    [turn] = engine.turns
    # The webhook's own deadline, counted from the delivery's arrival: the engine's fallback keeps to it.
    assert turn.reply_by is not None
    assert (
        before + settings.wechat_reply_deadline_seconds
        <= turn.reply_by
        <= after + settings.wechat_reply_deadline_seconds
    )


async def test_safe_mode_round_trip_checked_with_wechatpys_crypto(
    client: Client, wx: WeChatServer, settings: Settings, engine: RecordingEngine
) -> None:
    xml = text_message(ALICE, "hello", new_msg_id())
    envelope = wx.envelope(xml)
    assert "hello" not in envelope.body
    response = await client.post("/wechat", params=envelope.params, data=envelope.body)
    body = await response.text()
    assert response.status == 200
    assert "<Encrypt>" in body and "<MsgSignature>" in body and "收到" not in body
    crypto = WeChatCrypto(settings.wechat_token, AES_KEY, settings.wechat_appid)
    signature = body.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    timestamp = body.split("<TimeStamp>")[1].split("</TimeStamp>")[0]
    decrypted = crypto.decrypt_message(body, signature, timestamp, envelope.params["nonce"])
    assert "<Content><![CDATA[收到：hello" in decrypted
    assert f"<ToUserName><![CDATA[{ALICE}]]></ToUserName>" in decrypted
    assert len(engine.turns) == 1


async def test_safe_mode_message_for_another_appid_is_refused(
    client: Client, settings: Settings, engine: RecordingEngine
) -> None:
    other = WeChatServer(
        client.session,
        str(client.make_url("/wechat")),
        token=settings.wechat_token,
        appid="wxOTHERAPP",
        aes_key=AES_KEY,
    )
    delivery = await other.deliver(text_message(ALICE, "hi", new_msg_id()))
    assert delivery.status == 403
    assert engine.turns == []


async def test_bad_msg_signature_is_refused(client: Client, wx: WeChatServer, engine: RecordingEngine) -> None:
    envelope = wx.envelope(text_message(ALICE, "hi", new_msg_id()))
    params = {**envelope.params, "msg_signature": "f" * 40}
    response = await client.post("/wechat", params=params, data=envelope.body)
    assert response.status == 403
    assert engine.turns == []


async def test_refusals_never_reach_the_engine(client: Client, wx_plain: WeChatServer, engine: RecordingEngine) -> None:
    good = wx_plain.envelope(text_message(ALICE, "hi", new_msg_id()))

    bad_signature = {**good.params, "signature": "0" * 40}
    assert (await client.post("/wechat", params=bad_signature, data=good.body)).status == 403

    stale = wx_plain.envelope(text_message(ALICE, "hi", new_msg_id()), timestamp=str(int(time.time()) - 3600))
    response = await client.post("/wechat", params=stale.params, data=stale.body)
    assert response.status == 403
    assert "timestamp" in await response.text()

    huge = wx_plain.envelope(text_message(ALICE, "长" * 40_000, new_msg_id()))
    assert (await client.post("/wechat", params=huge.params, data=huge.body)).status == 413

    malformed = wx_plain.envelope("<xml><MsgType>text</MsgType><Content>oops</xml>")
    response = await client.post("/wechat", params=malformed.params, data=malformed.body)
    assert response.status == 400
    assert "Traceback" not in await response.text()

    no_type = wx_plain.envelope(f"<xml><FromUserName>{ALICE}</FromUserName><Content>x</Content></xml>")
    assert (await client.post("/wechat", params=no_type.params, data=no_type.body)).status == 400

    assert (await client.post("/wechat", data=good.body)).status == 403  # unsigned
    assert engine.turns == []


async def test_a_retry_within_the_window_is_accepted_and_answered_from_the_first_delivery(
    client: Client, wx: WeChatServer, engine: RecordingEngine
) -> None:
    # WeChat's retries reuse the first delivery's timestamp, so they arrive ~15 s "old": still inside the window.
    envelope = wx.envelope(text_message(ALICE, "重复", new_msg_id()), timestamp=str(int(time.time()) - 15))
    first = await client.post("/wechat", params=envelope.params, data=envelope.body)
    again = await client.post("/wechat", params=envelope.params, data=envelope.body)
    assert first.status == again.status == 200
    assert wx.read_reply(envelope, await first.text())[0] == wx.read_reply(envelope, await again.text())[0]
    assert len(engine.turns) == 1


async def test_concurrent_deliveries_of_one_message_run_the_work_once(
    client: Client, wx: WeChatServer, engine: RecordingEngine
) -> None:
    engine.delay = 0.2
    envelope = wx.envelope(text_message(ALICE, "并发", new_msg_id()))
    responses = await asyncio.gather(
        *(client.post("/wechat", params=envelope.params, data=envelope.body) for _ in range(3))
    )
    assert [r.status for r in responses] == [200, 200, 200]
    assert len(engine.turns) == 1


@pytest.mark.short_reply_deadline
async def test_a_slow_answer_is_acknowledged_in_time_and_follows_via_custom_send(
    client: Client, wx: WeChatServer, engine: RecordingEngine, standin: StandIn, db: Database
) -> None:
    engine.delay = DEADLINE * 2
    envelope = wx.envelope(text_message(ALICE, "慢一点", new_msg_id()))
    started = time.monotonic()
    first = await client.post("/wechat", params=envelope.params, data=envelope.body)
    assert time.monotonic() - started < DEADLINE + 0.4
    assert first.status == 200 and await first.text() == ""
    # WeChat's retries of the same message: answered empty, the work is not run again.
    for _ in range(2):
        retry = await client.post("/wechat", params=envelope.params, data=envelope.body)
        assert retry.status == 200 and await retry.text() == ""
    [sent] = await wait_for_sent(standin, 1)
    assert sent["api"] == "custom/send" and sent["touser"] == ALICE
    assert sent["body"]["text"]["content"].startswith("收到：慢一点")
    assert len(engine.turns) == 1
    await asyncio.sleep(0.2)
    assert len(standin.sent) == 1
    async with db.transaction() as session:
        [logged] = (await session.scalars(select(CustomMessage))).all()
    assert logged.state == "sent" and logged.openid == ALICE


@pytest.mark.short_reply_deadline
async def test_custom_send_window_closed_is_recorded_not_retried(
    client: Client, wx: WeChatServer, engine: RecordingEngine, standin: StandIn, db: Database
) -> None:
    standin.failures["custom/send"].append(45015)
    engine.delay = DEADLINE * 2
    await wx.deliver(text_message(ALICE, "too late", new_msg_id()))
    for _ in range(60):
        async with db.transaction() as session:
            logged = (await session.scalars(select(CustomMessage))).all()
        if logged and logged[0].state != "sending":
            break
        await asyncio.sleep(0.05)
    assert [(m.state, m.errcode) for m in logged] == [("failed", 45015)]
    assert standin.calls["custom/send"] == 1
    assert standin.sent == []


async def test_a_long_answer_is_split_at_2048_bytes(
    wx: WeChatServer, engine: RecordingEngine, standin: StandIn
) -> None:
    paragraph = "知识产权质押融资是指企业以合法拥有的专利权、商标权经评估后作为质押物向银行申请融资。" * 12
    engine.answer = [ChatReply(text="\n\n".join([paragraph] * 4))]
    delivery = await wx.deliver(text_message(ALICE, "质押融资", new_msg_id()))
    assert delivery.reply is not None
    sent = await wait_for_sent(standin, 1)
    await asyncio.sleep(0.3)
    pieces = [delivery.reply] + [item["body"]["text"]["content"] for item in standin.sent]
    assert len(pieces) >= 3
    assert all(len(p.encode()) <= MAX_TEXT_BYTES for p in pieces)
    assert all(p.endswith("。") for p in pieces)
    assert "".join(pieces).replace("\n", "") == (paragraph * 4)
    assert sent[0]["touser"] == ALICE


async def test_subscribe_event_gets_the_welcome_menu(wx: WeChatServer, engine: RecordingEngine) -> None:
    delivery = await wx.deliver(event_message(ALICE, "subscribe"))
    assert delivery.reply is not None and "知识产权政策助手" in delivery.reply
    assert engine.turns == []
    unsubscribe = await wx.deliver(event_message(ALICE, "unsubscribe"))
    assert unsubscribe.status == 200 and unsubscribe.reply is None


async def test_events_of_different_users_at_the_same_second_are_not_merged(wx: WeChatServer) -> None:
    first = await wx.deliver(event_message(ALICE, "subscribe"))
    second = await wx.deliver(event_message("oBob", "subscribe"))
    assert first.reply is not None and second.reply is not None


async def test_menu_click_sends_its_payload_to_the_engine(wx: WeChatServer, engine: RecordingEngine) -> None:
    await wx.deliver(event_message(ALICE, "CLICK", "FIND_AGENCY"))
    assert [t.text for t in engine.turns] == ["/find_agency"]


async def test_a_typed_number_picks_the_offered_choice(wx: WeChatServer, engine: RecordingEngine) -> None:
    await wx.deliver(text_message(ALICE, "你好", new_msg_id()))
    await wx.deliver(text_message(ALICE, "2", new_msg_id()))
    assert [t.text for t in engine.turns] == ["你好", "/my_vouchers"]
    assert engine.turns[1].metadata["language"] == "zh"


async def test_images_and_voice_get_a_text_please_answer(wx: WeChatServer, engine: RecordingEngine) -> None:
    for kind in ("image", "voice"):
        delivery = await wx.deliver(media_message(ALICE, kind, new_msg_id()))
        assert delivery.reply is not None and "文字" in delivery.reply
    assert engine.turns == []


async def test_a_mini_program_user_is_recognised_in_the_official_account_by_unionid(
    client: Client, wx: WeChatServer, engine: RecordingEngine, settings: Settings, standin: StandIn
) -> None:
    # The same person has another openid in the official account; only the unionid (cgi-bin/user/info) links them.
    official = official_openid_for(settings.wechat_appid, "june")
    standin.followers[official] = "june"
    await wx.deliver(text_message(official, "你好", new_msg_id()))
    assert engine.turns[-1].principal is None  # not logged in yet
    login = await client.post("/api/v1/auth/wechat-login", json={"code": "june.1"})
    assert login.status == 200
    await wx.deliver(text_message(official, "我的服务券", new_msg_id()))
    principal = engine.turns[-1].principal
    assert principal is not None and principal.user_id == (await login.json())["user"]["user_id"]
    assert engine.turns[-1].wechat_openid == official


async def test_without_a_unionid_the_official_account_user_stays_a_stranger(
    client: Client, wx: WeChatServer, engine: RecordingEngine, settings: Settings, standin: StandIn
) -> None:
    official = official_openid_for(settings.wechat_appid, "nounion-kay")
    standin.followers[official] = "nounion-kay"
    assert (await client.post("/api/v1/auth/wechat-login", json={"code": "nounion-kay.1"})).status == 200
    await wx.deliver(text_message(official, "你好", new_msg_id()))
    assert engine.turns[-1].principal is None


@pytest.mark.short_reply_deadline
async def test_wechats_own_retries_after_timeouts_run_the_work_once_and_the_answer_follows(
    client: Client, settings: Settings, engine: RecordingEngine, standin: StandIn
) -> None:
    # WeChat gives up on a delivery after its wait and sends the very same request again (three in all).
    impatient = WeChatServer(
        client.session,
        str(client.make_url("/wechat")),
        token=settings.wechat_token,
        appid=settings.wechat_appid,
        aes_key=AES_KEY,
        wait_seconds=DEADLINE / 2,
    )
    engine.delay = DEADLINE * 1.5
    delivery = await impatient.deliver(text_message(ALICE, "慢", new_msg_id()))
    # The first delivery timed out; the second is answered empty at once (the answer is on its way), ending retries.
    assert (delivery.status, delivery.reply, delivery.deliveries) == (200, None, 2)
    [sent] = await wait_for_sent(standin, 1)
    assert sent["body"]["text"]["content"].startswith("收到：慢")
    assert len(engine.turns) == 1


class BusyPool:
    """The real database, whose next `failures` transactions fail at check-out the way an exhausted pool does
    (SQLAlchemy's `TimeoutError`, after `pool_timeout`): what 256 followers at once did to the deferred answers."""

    def __init__(self, db: Database, failures: int) -> None:
        self.db = db
        self.failures = failures
        self.refused = 0

    @contextlib.asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        if self.failures > 0:
            self.failures -= 1
            self.refused += 1
            raise PoolTimeout("QueuePool limit of size 10 overflow 10 reached, connection timed out, timeout 5.00")
        async with self.db.transaction(write=write) as session:
            yield session


async def test_a_deferred_answer_survives_a_busy_database_and_goes_out_once(
    client: Client, standin: StandIn, db: Database
) -> None:
    busy = BusyPool(db, failures=2)
    wechat = client.app[WECHAT].client
    await send_custom(cast(Database, busy), wechat, ALICE, f"{ALICE}:busy-1", ["答案"], first_seq=0)
    assert busy.refused == 2
    [sent] = standin.sent
    assert sent["touser"] == ALICE and sent["body"]["text"]["content"] == "答案"
    async with db.transaction() as session:
        [logged] = (await session.scalars(select(CustomMessage))).all()
    assert logged.state == "sent"
    # Delivered again (a retry of the whole answer): recorded already, so not sent twice.
    await send_custom(db, wechat, ALICE, f"{ALICE}:busy-1", ["答案"], first_seq=0)
    assert len(standin.sent) == 1


async def test_a_database_that_stays_down_ends_the_answer_with_the_error(
    client: Client, standin: StandIn, db: Database
) -> None:
    busy = BusyPool(db, failures=DB_WRITE_ATTEMPTS)
    with pytest.raises(PoolTimeout):
        await send_custom(cast(Database, busy), client.app[WECHAT].client, ALICE, f"{ALICE}:busy-2", ["x"], first_seq=0)
    assert busy.refused == DB_WRITE_ATTEMPTS
    assert standin.sent == []


async def test_a_retry_meeting_a_busy_cache_is_still_told_apart_from_a_new_message(
    client: Client, wx: WeChatServer, engine: RecordingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under load Redis answers late: the claim of WeChat's retry is refused by Redis (the first delivery holds it),
    # but the answer saying so times out. Before, a cache error meant "answer this delivery too": answered twice.
    cache = client.app[CACHE]
    real_add = cache.add
    calls: dict[str, int] = {}

    async def add_answer_lost_on_retry(key: str, value: str, ttl: int) -> bool:
        done: bool = await real_add(key, value, ttl)
        calls[key] = calls.get(key, 0) + 1
        if calls[key] == 2:
            raise CacheUnavailable("Timeout reading from 127.0.0.1:6379")
        return done

    monkeypatch.setattr(cache, "add", add_answer_lost_on_retry)
    envelope = wx.envelope(text_message(ALICE, "慢慢来", new_msg_id()))
    first = await client.post("/wechat", params=envelope.params, data=envelope.body)
    retry = await client.post("/wechat", params=envelope.params, data=envelope.body)
    assert first.status == retry.status == 200
    assert wx.read_reply(envelope, await first.text())[0] == wx.read_reply(envelope, await retry.text())[0]
    for _ in range(100):  # the first delivery's work may still be running (a cold first request is slow)
        if engine.turns:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    assert [turn.text for turn in engine.turns] == ["慢慢来"]


async def test_a_retry_repeats_the_answer_when_its_shared_copy_could_not_be_written(
    client: Client, wx: WeChatServer, engine: RecordingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Redis timing out under load: the stored copy of the passive reply is not written (RedisCache.set logs and
    # drops the error). WeChat's retry means the first reply never reached it; before, the retry found nothing to
    # repeat and answered empty — a lost answer. The process that answered still knows it.
    cache = client.app[CACHE]
    real_set = cache.set

    async def set_dropping_replies(key: str, value: str, ttl: int) -> None:
        if not key.startswith("wechat:reply:"):
            await real_set(key, value, ttl)

    await wx.deliver(text_message(ALICE, "你好", new_msg_id()))  # warm: token and follower look-ups cached
    monkeypatch.setattr(cache, "set", set_dropping_replies)
    envelope = wx.envelope(text_message(ALICE, "再说一遍", new_msg_id()))
    first = await client.post("/wechat", params=envelope.params, data=envelope.body)
    retry = await client.post("/wechat", params=envelope.params, data=envelope.body)
    answered = wx.read_reply(envelope, await first.text())[0]
    assert answered is not None and answered.startswith("收到：再说一遍")
    assert wx.read_reply(envelope, await retry.text())[0] == answered
    assert [turn.text for turn in engine.turns] == ["你好", "再说一遍"]
