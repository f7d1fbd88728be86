"""Hostile XML at `/wechat`: malformed, oversized, deeply nested, entity-laden (billion laughs, quadratic blow-up,
external entities / XXE). Every one is refused (or read as plain text) quickly, with a plain status, no stack trace,
nothing read from disk or the network, and the worker keeps serving.

The parser is wechatpy's `parse_message` → xmltodict → the standard library's expat. xmltodict passes
`disable_entities=True`: a document declaring entities is rejected, external entities are never fetched, and
libexpat (≥ 2.4) also caps entity amplification. These tests pin that behaviour, so an upgrade that loosens it
fails here.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from app.factory import create_app
from core.settings import Settings
from tests.support.instruments import wechat_query, wechat_text_xml

Client = TestClient[Any, Any]

LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">' for n in range(1, 10))
    + "]><xml><ToUserName>gh</ToUserName><FromUserName>o-attacker</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"
)
QUADRATIC = (
    f'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "{"x" * 20_000}">]>'
    "<xml><ToUserName>gh</ToUserName><FromUserName>o-attacker</FromUserName><CreateTime>1</CreateTime>"
    f"<MsgType>text</MsgType><Content>{'&a;' * 3000}</Content><MsgId>2</MsgId></xml>"
)
XXE_FILE = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<xml><ToUserName>gh</ToUserName><FromUserName>o-attacker</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>3</MsgId></xml>"
)
XXE_PARAMETER = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>'
    "<xml><ToUserName>gh</ToUserName><FromUserName>o-attacker</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>hi</Content><MsgId>4</MsgId></xml>"
)
EXTERNAL_DTD = (
    '<?xml version="1.0"?><!DOCTYPE xml SYSTEM "file:///etc/passwd">'
    "<xml><ToUserName>gh</ToUserName><FromUserName>o-attacker</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>hi</Content><MsgId>5</MsgId></xml>"
)
DEEP = "<xml>" + "<a>" * 7000 + "x" + "</a>" * 7000 + "</xml>"
WIDE = "<xml>" + "<FromUserName>o</FromUserName>" * 1500 + "</xml>"

HOSTILE: dict[str, bytes] = {
    "empty": b"",
    "not xml": b"hello there",
    "unclosed": b"<xml><ToUserName>gh</ToUserName><FromUserName>o",
    "no sender": b"<xml><MsgType>text</MsgType><Content>hi</Content></xml>",
    "not utf-8": "<xml><Content>你好</Content></xml>".encode("gbk"),
    "binary": bytes(range(256)) * 8,
    "nul in text": b"<xml><FromUserName>o\x00</FromUserName></xml>",
    "text in MsgId": wechat_text_xml("o-x", "hi", 1).replace("<MsgId>1</MsgId>", "<MsgId>abc</MsgId>").encode(),
    "nested sender": b"<xml><FromUserName><a>o</a></FromUserName><MsgType>text</MsgType></xml>",
    "billion laughs": LAUGHS.encode(),
    "quadratic blow-up": QUADRATIC.encode(),
    "xxe file": XXE_FILE.encode(),
    "xxe parameter entity": XXE_PARAMETER.encode(),
    "external dtd": EXTERNAL_DTD.encode(),
    "deeply nested": DEEP.encode(),
    "repeated elements": WIDE.encode(),
}


@pytest.fixture
async def webhook(settings: Settings, clean: None, aiohttp_client: Callable[..., Awaitable[Client]]) -> Client:
    # Rasa on a closed port: a message that does get through is answered with the fallback menu at once.
    return await aiohttp_client(create_app(settings.model_copy(update={"rasa_url": "http://127.0.0.1:9"})))


async def post(client: Client, body: bytes, query: dict[str, str] | None = None) -> tuple[int, str, float]:
    started = time.monotonic()
    response = await client.post("/wechat", params=query or wechat_query(), data=body)
    return response.status, await response.text(), time.monotonic() - started


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_hostile_xml_is_refused_quickly_and_leaks_nothing(webhook: Client, name: str) -> None:
    status, text, took = await post(webhook, HOSTILE[name])
    assert status in (200, 400), (status, text[:300])
    assert took < 2.0, f"{name} took {took:.2f} s"
    assert "Traceback" not in text and "root:" not in text and "lol" not in text
    assert len(text) < 4096
    if status == 200:  # read as an ordinary message (the fallback reply) or an empty acknowledgement
        assert text == "" or text.startswith("<xml>")
    healthy = await webhook.get("/healthz")
    assert healthy.status == 200


async def test_an_oversized_body_is_refused_before_parsing(webhook: Client) -> None:
    big = wechat_text_xml("o-big", "长" * 40_000, 9).encode()
    status, _text, took = await post(webhook, big)
    assert status == 413 and took < 2.0


async def test_hostile_xml_with_a_bad_signature_is_refused_before_parsing(webhook: Client) -> None:
    query = {**wechat_query(), "signature": "0" * 40}
    status, text, _ = await post(webhook, LAUGHS.encode(), query)
    assert status == 403, text


async def test_entities_are_never_expanded_into_a_reply(webhook: Client) -> None:
    """The assistant never sees entity text: a document with a DOCTYPE is not a message."""
    for body in (LAUGHS, XXE_FILE, QUADRATIC):
        status, text, _ = await post(webhook, body.encode())
        assert status == 400, text[:200]
