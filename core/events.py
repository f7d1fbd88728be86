"""Domain events delivered inside the publisher's transaction.

A service publishes what happened (`await publish(session, RatingChanged(...))`); subscribers registered by
other domains (the WeChat push outbox, for one) write their own rows in the same session, so the change and
its consequences commit or roll back together. The publisher knows nothing of its subscribers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)
class RatingChanged:
    agency_id: int
    agency_name: str
    old_level: str
    new_level: str
    old_score: int
    new_score: int
    cause: str


@dataclass(frozen=True, slots=True)
class VoucherStateChanged:
    voucher_id: int
    enterprise_id: int
    old_state: str
    new_state: str
    balance_fen: int
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class TicketAnswered:
    """An expert answered a consultation ticket the assistant opened; a channel may deliver the answer.

    `sender_id` is the conversation: "wx:<openid>" (official account) or "u:<user id>" (mini-program).
    """

    ticket_id: int
    sender_id: str
    channel: str
    user_id: int | None
    lang: str
    question: str
    answer: str


E = TypeVar("E")
Subscriber = Callable[[AsyncSession, Any], Awaitable[None]]
_subscribers: defaultdict[type, list[Subscriber]] = defaultdict(list)


def subscribe(event_type: type[E], handler: Callable[[AsyncSession, E], Awaitable[None]]) -> None:
    """Register once per process; registering the same handler again is a no-op (apps are built many times in tests)."""
    if handler not in _subscribers[event_type]:
        _subscribers[event_type].append(handler)


async def publish(session: AsyncSession, event: object) -> None:
    for handler in _subscribers[type(event)]:
        await handler(session, event)
