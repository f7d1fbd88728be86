"""Rendering channel-neutral `ChatReply`s as WeChat text, and the passive-reply XML.

Buttons become numbered choices, each a `weixin://bizmsgmenu` link the user can tap (WeChat then sends the title
back with a `bizmsgmenuid`); typing the number works too. Cards become short lines. A text message may hold at most
2048 UTF-8 bytes, so long answers are split at paragraph, line and sentence boundaries, links kept whole.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from wechatpy.replies import TextReply

from core.chat import ChatButton, ChatReply
from core.wechat.links import chat_link

MAX_TEXT_BYTES = 2048

_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|(?<=[.](?=\s))")
_ATOM = re.compile(r"<a\s[^>]*>.*?</a>", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Rendered:
    chunks: list[str]  # each within MAX_TEXT_BYTES
    choices: list[ChatButton]  # numbered 1..n in the text, for mapping the user's answer back


def _choice_line(number: int, button: ChatButton) -> str:
    title = re.sub(r'[&"<>]', " ", button.title)
    link = f"weixin://bizmsgmenu?msgmenucontent={title}&msgmenuid={number}"
    return f'{number}. <a href="{link}">{button.title}</a>'


def render_text(replies: list[ChatReply], language: str = "zh", public_base: str | None = None) -> Rendered:
    """All replies of one turn as WeChat text, split into messages of at most 2048 bytes. With `public_base`, card
    links to mini-program pages become links into the phone view (`core.wechat.links`)."""
    blocks: list[str] = []
    choices: list[ChatButton] = []
    for reply in replies:
        lines = [reply.text.strip()] if reply.text.strip() else []
        for card in reply.cards:
            head = f"▪ {card.title}" + (f" — {card.subtitle}" if card.subtitle else "")
            card_lines = [head, *(f"  {line}" for line in card.lines)]
            link = chat_link(public_base, card.link) if public_base else card.link
            if link and link.startswith(("http://", "https://")):
                card_lines.append(f'  <a href="{link}">{"查看详情" if language == "zh" else "Details"}</a>')
            lines.append("\n".join(card_lines))
        if reply.buttons:
            start = len(choices)
            choices.extend(reply.buttons)
            hint = "回复数字或点击选择：" if language == "zh" else "Reply with a number or tap:"
            lines.append("\n".join([hint, *(_choice_line(start + i + 1, b) for i, b in enumerate(reply.buttons))]))
        if lines:
            blocks.append("\n\n".join(lines))
    return Rendered(chunks=split_text("\n\n".join(blocks)), choices=choices)


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _pieces(text: str) -> list[str]:
    """Paragraphs, then lines, then sentences: the boundaries we may split at, in order of preference."""
    out: list[str] = []
    for paragraph in re.split(r"(\n\n+)", text):
        if _size(paragraph) <= MAX_TEXT_BYTES:
            out.append(paragraph)
            continue
        for line in re.split(r"(\n)", paragraph):
            if _size(line) <= MAX_TEXT_BYTES:
                out.append(line)
                continue
            out.extend(_sentences(line))
    return out


def _sentences(line: str) -> list[str]:
    parts: list[str] = []
    position = 0
    for match in _ATOM.finditer(line):  # links stay whole
        parts.extend(_SENTENCE_END.split(line[position : match.start()]))
        parts.append(match.group(0))
        position = match.end()
    parts.extend(_SENTENCE_END.split(line[position:]))
    out: list[str] = []
    for part in parts:
        while _size(part) > MAX_TEXT_BYTES:  # one "sentence" over the limit: cut at a character boundary
            cut = part.encode("utf-8")[:MAX_TEXT_BYTES].decode("utf-8", errors="ignore")
            out.append(cut)
            part = part[len(cut) :]
        if part:
            out.append(part)
    return out


def split_text(text: str) -> list[str]:
    """`text` in messages of at most 2048 UTF-8 bytes, split at the largest boundary that fits."""
    text = text.strip()
    if _size(text) <= MAX_TEXT_BYTES:
        return [text] if text else []
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text):
        if _size(current + piece) <= MAX_TEXT_BYTES:
            current += piece
            continue
        if current.strip():
            chunks.append(current.strip())
        current = piece.lstrip("\n")
    if current.strip():
        chunks.append(current.strip())
    return chunks


def text_reply_xml(text: str, *, to_user: str, from_account: str) -> str:
    """A passive text reply. CreateTime set here: wechatpy's default is frozen at import time."""
    reply = TextReply(source=from_account, target=to_user, content=text, time=int(time.time()))
    return str(reply.render())
