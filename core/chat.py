"""The seam between channels (WeChat webhook, `/api/v1/chat`) and the assistant.

A channel turns its input into a `ChatTurn` and calls the `ChatEngine` on the app (`app[CHAT_ENGINE]`); the
engine (the Rasa gateway in `bot/`) answers with channel-neutral `ChatReply`s, which the channel renders.
Until an engine is installed, channels use `MenuEngine`, which answers with what the service offers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from aiohttp import web
from pydantic import BaseModel, Field

from core.auth import Principal

Channel = Literal["wechat", "miniprogram", "web"]


class ChatButton(BaseModel):
    title: str
    payload: str


class ChatCard(BaseModel):
    """A result card (an agency, a voucher): a title, a few lines, and an optional link into the mini-program."""

    title: str
    subtitle: str = ""
    lines: list[str] = Field(default_factory=list)
    link: str | None = None


class ChatReply(BaseModel):
    text: str
    buttons: list[ChatButton] = Field(default_factory=list)
    cards: list[ChatCard] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ChatTurn:
    # Stable per conversation: "wx:<openid>" for the official account, "u:<user id>" for the mini-program.
    sender_id: str
    text: str
    channel: Channel
    principal: Principal | None = None
    wechat_openid: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    # When the channel needs the replies, on `time.monotonic()`'s clock: WeChat's passive-reply deadline (4.5 s
    # after the delivery arrived). None: the channel waits; the engine keeps to its own deadlines.
    reply_by: float | None = None


class ChatEngine(Protocol):
    async def reply(self, turn: ChatTurn) -> list[ChatReply]: ...


# The assistant behind every chat channel; channels fall back to `MenuEngine` when absent.
CHAT_ENGINE: web.AppKey[ChatEngine] = web.AppKey("chat_engine")


def detect_language(text: str) -> Literal["zh", "en"]:
    """Chinese when the text has any CJK ideograph, else English (mixed text is Chinese users typing Latin terms)."""
    return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en"


MENU = {
    "zh": ChatReply(
        text="您好！我是知识产权政策助手，可以帮您：\n1. 了解专利优先审查、PPH、商标快速审查等政策\n"
        "2. 查找信用良好的专利/商标代理机构\n3. 查看和使用知识产权服务券",
        buttons=[
            ChatButton(title="优先审查条件", payload="/ask_priority_exam_conditions"),
            ChatButton(title="找代理机构", payload="/find_agency"),
            ChatButton(title="我的服务券", payload="/my_vouchers"),
        ],
    ),
    "en": ChatReply(
        text="Hello! I'm the IP policy assistant. I can help you:\n1. understand priority examination, PPH and "
        "trademark fast examination\n2. find well-rated patent and trademark agencies\n"
        "3. see and use IP service vouchers",
        buttons=[
            ChatButton(title="Priority exam conditions", payload="/ask_priority_exam_conditions"),
            ChatButton(title="Find an agency", payload="/find_agency"),
            ChatButton(title="My vouchers", payload="/my_vouchers"),
        ],
    ),
}


class MenuEngine:
    """The answer when the assistant is not installed or not reachable: what the service offers."""

    async def reply(self, turn: ChatTurn) -> list[ChatReply]:
        return [MENU[detect_language(turn.text)]]
