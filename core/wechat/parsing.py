"""Inbound XML → a small typed message we act on; wechatpy's parser underneath."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal
from xml.parsers.expat import ExpatError

from wechatpy import parse_message

from core.digits import ascii_int

Kind = Literal["text", "event", "other"]


class MalformedMessage(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Inbound:
    kind: Kind
    msg_type: str  # WeChat's MsgType, lower case: text, image, voice, event, …
    openid: str  # FromUserName: the user
    account: str  # ToUserName: our official account
    create_time: int
    msg_id: int  # 0 for events
    content: str = ""  # text, or a voice message's speech recognition
    event: str = ""  # subscribe, unsubscribe, click, view, …
    event_key: str = ""
    menu_id: str = ""  # bizmsgmenuid when the user tapped a choice link in our text

    @property
    def dedup_key(self) -> str:
        """Messages by FromUserName + MsgId (MsgIds collide across users); events by sender + CreateTime + Event."""
        if self.kind == "event" or not self.msg_id:
            return f"e:{self.openid}:{self.create_time}:{self.event}"
        return f"m:{self.openid}:{self.msg_id}"


def parse_inbound(xml: str) -> Inbound:
    try:
        message = parse_message(xml)
    except (ExpatError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedMessage(f"{type(exc).__name__}: {exc}") from None
    if message is None:
        raise MalformedMessage("empty body")
    raw: dict[str, object] = message._data
    openid = _s(raw.get("FromUserName"))
    if not openid:
        raise MalformedMessage("missing FromUserName")
    msg_type = _s(raw.get("MsgType")).lower()
    create_time = _number(raw.get("CreateTime"), max_digits=12)
    msg_id = _number(raw.get("MsgId"), max_digits=20)  # a 64-bit unsigned id
    if create_time is None or msg_id is None:
        raise MalformedMessage("CreateTime and MsgId must be numbers")
    base = Inbound(
        kind="other",
        msg_type=msg_type,
        openid=openid,
        account=_s(raw.get("ToUserName")),
        create_time=create_time,
        msg_id=msg_id,
    )
    if msg_type == "text":
        return replace(base, kind="text", content=_s(raw.get("Content")), menu_id=_s(raw.get("bizmsgmenuid")))
    if msg_type == "event":
        return replace(base, kind="event", event=_s(raw.get("Event")).lower(), event_key=_s(raw.get("EventKey")))
    if msg_type == "voice" and _s(raw.get("Recognition")):
        # Speech recognition turned on for the account: treat it as what the user said.
        return replace(base, kind="text", content=_s(raw.get("Recognition")))
    return base


def _number(value: object, *, max_digits: int) -> int | None:
    """An element's whole number (ASCII digits, bounded); 0 when absent, None when it is something else."""
    text = _s(value)
    return ascii_int(text, max_digits=max_digits) if text else 0


def _s(value: object) -> str:
    """An element's text; empty or nested elements (xmltodict gives None or a dict) count as absent."""
    return value.strip() if isinstance(value, str) else ""
