"""`/wechat` against someone who has seen a signed request: plain messages refused in safe mode (unless compatible
mode is chosen), one signed query for one message, constant-time signature checks, no replayable query in the
logs, fixed reasons in refusals, and numbers read as ASCII digits only."""

from __future__ import annotations

import hmac
import logging
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.settings import Settings, SettingsError, load_settings
from core.wechat.signature import sign, timestamp_fresh
from tests.wechat.conftest import AES_KEY, RecordingEngine
from wechat_standin.server import WeChatServer, new_msg_id, text_message

Client = TestClient[Any, Any]
ALICE = "oAlice0000000000000000000000"
BOB = "oBob00000000000000000000000000"
MALLORY = "oMallory000000000000000000000"


@pytest.fixture
def tuning() -> dict[str, Any]:
    """Settings a test changes (parametrize `tuning` to change them)."""
    return {}


@pytest.fixture
async def settings(settings: Settings, tuning: dict[str, Any]) -> Settings:
    return settings.model_copy(update=tuning)


def plain_server(client: Client, settings: Settings) -> WeChatServer:
    """WeChat in plain mode, whatever our app is configured for."""
    return WeChatServer(
        client.session, str(client.make_url("/wechat")), token=settings.wechat_token, appid=settings.wechat_appid
    )


async def test_with_an_aes_key_a_plain_message_is_refused(
    client: Client, settings: Settings, engine: RecordingEngine
) -> None:
    assert settings.wechat_aes_key == AES_KEY and not settings.wechat_compatible_mode
    delivery = await plain_server(client, settings).deliver(text_message(MALLORY, "你好", new_msg_id()))
    assert delivery.status == 403
    assert delivery.reply_xml == "plain messages are refused: safe mode accepts encrypted ones only"
    assert engine.turns == []


@pytest.mark.parametrize("tuning", [{"wechat_compatible_mode": True}])
async def test_compatible_mode_accepts_plain_and_encrypted_messages(
    client: Client, settings: Settings, wx: WeChatServer, engine: RecordingEngine
) -> None:
    plain = await plain_server(client, settings).deliver(text_message(ALICE, "明文", new_msg_id()))
    encrypted = await wx.deliver(text_message(ALICE, "密文", new_msg_id()))
    assert plain.status == encrypted.status == 200
    assert [turn.text for turn in engine.turns] == ["明文", "密文"]


def test_the_timestamp_window_is_bounded() -> None:
    with pytest.raises(SettingsError):
        load_settings(wechat_timestamp_window_seconds=86_400)


async def test_one_signed_query_carries_one_plain_message(
    client: Client, wx_plain: WeChatServer, engine: RecordingEngine
) -> None:
    # The signature covers token, timestamp and nonce only: a captured query could carry any body.
    first = wx_plain.envelope(text_message(ALICE, "我的问题", new_msg_id()))
    answered = await client.post("/wechat", params=first.params, data=first.body)
    retry = await client.post("/wechat", params=first.params, data=first.body)
    assert answered.status == retry.status == 200  # WeChat's retry of the same message passes
    for sender in (BOB, MALLORY):
        forged = await client.post("/wechat", params=first.params, data=text_message(sender, "冒充", new_msg_id()))
        assert forged.status == 403
        assert await forged.text() == "this signed query already carried another message"
    assert [turn.sender_id for turn in engine.turns] == [f"wx:{ALICE}"]


async def test_signatures_are_compared_in_constant_time(
    client: Client, wx: WeChatServer, engine: RecordingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    envelope = wx.envelope(text_message(ALICE, "hi", new_msg_id()))
    response = await client.post("/wechat", params={**envelope.params, "msg_signature": "f" * 40}, data=envelope.body)
    assert response.status == 403
    assert [given for _expected, given in compared] == [envelope.params["signature"].encode(), b"f" * 40]
    assert engine.turns == []


async def test_a_refusal_logs_the_path_and_a_query_without_its_signature(
    client: Client, wx: WeChatServer, caplog: pytest.LogCaptureFixture
) -> None:
    envelope = wx.envelope(text_message(ALICE, "hi", new_msg_id()))
    with caplog.at_level(logging.WARNING, logger="wechat.webhook"):
        response = await client.post("/wechat", params=envelope.params, data="<xml><Encrypt>AAAA</Encrypt></xml>")
    assert response.status == 403  # the msg_signature no longer matches the body
    [record] = [r for r in caplog.records if r.getMessage() == "wechat request refused"]
    logged = vars(record)
    assert logged["path"] == "/wechat"
    assert logged["query"]["timestamp"] == envelope.params["timestamp"]
    for secret in ("signature", "msg_signature", "nonce", "openid"):
        assert logged["query"][secret] != envelope.params[secret]
    assert envelope.params["signature"] not in repr(logged) and envelope.params["msg_signature"] not in repr(logged)


async def test_a_malformed_message_is_refused_with_a_fixed_reason(client: Client, wx_plain: WeChatServer) -> None:
    for body in ("<xml><MsgType>text</MsgType><Content>oops</xml>", "<xml><FromUserName>o</FromUserName></xml"):
        envelope = wx_plain.envelope(body)
        response = await client.post("/wechat", params=envelope.params, data=envelope.body)
        assert (response.status, await response.text()) == (400, "malformed message")


async def test_an_undecryptable_envelope_is_refused_with_a_fixed_reason(client: Client, settings: Settings) -> None:
    timestamp, nonce, encrypt = str(int(time.time())), "n0nce", "not base64 at all!"
    params = {
        "signature": sign(settings.wechat_token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": sign(settings.wechat_token, timestamp, nonce, encrypt),
    }
    response = await client.post("/wechat", params=params, data=f"<xml><Encrypt>{encrypt}</Encrypt></xml>")
    assert (response.status, await response.text()) == (400, "undecryptable envelope")


@pytest.mark.parametrize("stamp", ["²", "١٧٠٠٠٠٠٠٠٠", "9" * 5000])
def test_a_timestamp_in_other_digits_is_not_fresh(stamp: str) -> None:
    assert not timestamp_fresh(stamp, 300)


async def test_a_signed_timestamp_in_other_digits_is_refused(client: Client, settings: Settings) -> None:
    nonce = "n0nce"
    for stamp in ("²", "".join(chr(ord(d) - ord("0") + 0xFF10) for d in str(int(time.time())))):  # ２０２…: fullwidth
        params = {"signature": sign(settings.wechat_token, stamp, nonce), "timestamp": stamp, "nonce": nonce}
        response = await client.get("/wechat", params={**params, "echostr": "x"})
        assert (response.status, await response.text()) == (403, "timestamp outside the accepted window")


async def test_a_typed_superscript_is_text_for_the_engine_not_a_choice(
    wx: WeChatServer, engine: RecordingEngine
) -> None:
    await wx.deliver(text_message(ALICE, "你好", new_msg_id()))  # offers two numbered choices
    delivery = await wx.deliver(text_message(ALICE, "²", new_msg_id()))
    assert delivery.reply is not None and delivery.reply.startswith("收到：²")
    assert [turn.text for turn in engine.turns] == ["你好", "²"]
