"""Playing WeChat's server towards our webhook: sign (and in safe mode encrypt) a user's message, post it to
`/wechat`, retry like WeChat when no answer comes within 5 s (same MsgId, same signature, timestamp and nonce;
three deliveries in all), and decrypt the reply, checking its signature with wechatpy's crypto.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from xml.etree import ElementTree

import aiohttp
from wechatpy import parse_message
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.utils import WeChatSigner

WECHAT_WAIT_SECONDS = 5.0
DELIVERIES = 3


def _sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_message(openid: str, content: str, msg_id: int, account: str = "gh_standin") -> str:
    return (
        f"<xml><ToUserName>{_cdata(account)}</ToUserName><FromUserName>{_cdata(openid)}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{_cdata(content)}</Content><MsgId>{msg_id}</MsgId></xml>"
    )


def event_message(openid: str, event: str, key: str = "", account: str = "gh_standin") -> str:
    return (
        f"<xml><ToUserName>{_cdata(account)}</ToUserName><FromUserName>{_cdata(openid)}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event>{_cdata(event)}</Event><EventKey>{_cdata(key)}</EventKey></xml>"
    )


def media_message(openid: str, msg_type: str, msg_id: int, account: str = "gh_standin") -> str:
    return (
        f"<xml><ToUserName>{_cdata(account)}</ToUserName><FromUserName>{_cdata(openid)}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType>{_cdata(msg_type)}</MsgType>"
        f"<MediaId><![CDATA[media-1]]></MediaId><MsgId>{msg_id}</MsgId></xml>"
    )


@dataclass(frozen=True, slots=True)
class Envelope:
    params: dict[str, str]
    body: str


@dataclass(frozen=True, slots=True)
class Delivery:
    status: int  # the last HTTP status; 0 when every delivery timed out
    reply: str | None  # the reply's text content; None for an empty / "success" answer
    reply_xml: str  # the decrypted reply XML, "" when none
    deliveries: int
    seconds: float


class WeChatServer:
    """Posts to our webhook the way WeChat's servers do. `aes_key` set means safe mode."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        webhook_url: str,
        *,
        token: str,
        appid: str,
        aes_key: str | None = None,
        wait_seconds: float = WECHAT_WAIT_SECONDS,
        deliveries: int = DELIVERIES,
    ) -> None:
        self.http = http
        self.url = webhook_url
        self.token = token
        self.appid = appid
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None
        self.wait_seconds = wait_seconds
        self.deliveries = deliveries

    def envelope(self, xml: str, *, timestamp: str | None = None, nonce: str | None = None) -> Envelope:
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or secrets.token_hex(8)
        params = {"signature": _sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
        if self.crypto is None:
            return Envelope(params=params, body=xml)
        message = parse_message(xml)
        encrypt = PrpCrypto(self.crypto.key).encrypt(xml, self.appid).decode()
        params.update(
            encrypt_type="aes",
            msg_signature=_sign(self.token, timestamp, nonce, encrypt),
            openid=str(message.source),
        )
        body = f"<xml><ToUserName>{_cdata(str(message.target))}</ToUserName><Encrypt>{_cdata(encrypt)}</Encrypt></xml>"
        return Envelope(params=params, body=body)

    def read_reply(self, envelope: Envelope, body: str) -> tuple[str | None, str]:
        """The reply's text and XML; in safe mode decrypted, with its MsgSignature checked by wechatpy."""
        if body.strip() in ("", "success"):
            return None, ""
        xml = body
        if self.crypto is not None:
            outer = ElementTree.fromstring(body)  # noqa: S314 - our own service's reply, in a test tool
            xml = self.crypto.decrypt_message(
                body, outer.findtext("MsgSignature"), outer.findtext("TimeStamp"), outer.findtext("Nonce")
            )
        reply = parse_message(xml)
        content = getattr(reply, "content", None)
        return (str(content) if content is not None else None), xml

    async def deliver(self, xml: str) -> Delivery:
        """Post `xml`; when no answer comes within the wait, deliver the very same request again (3 in all)."""
        envelope = self.envelope(xml)
        start = time.perf_counter()
        status = 0
        for attempt in range(1, self.deliveries + 1):
            try:
                async with self.http.post(
                    self.url,
                    params=envelope.params,
                    data=envelope.body.encode("utf-8"),
                    headers={"Content-Type": "text/xml"},
                    timeout=aiohttp.ClientTimeout(total=self.wait_seconds),
                ) as response:
                    status = response.status
                    body = await response.text()
            except TimeoutError:
                continue
            if status != 200:
                return Delivery(status, None, body, attempt, time.perf_counter() - start)
            reply, reply_xml = self.read_reply(envelope, body)
            return Delivery(status, reply, reply_xml, attempt, time.perf_counter() - start)
        return Delivery(status, None, "", self.deliveries, time.perf_counter() - start)

    async def verify_url(self, echostr: str = "echo-123") -> str:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        params = {
            "signature": _sign(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": echostr,
        }
        async with self.http.get(self.url, params=params) as response:
            return await response.text()


def new_msg_id() -> int:
    return secrets.randbits(62)
