"""Domain events delivered inside the publisher's transaction.

A service publishes what happened (`await publish(session, RatingChanged(...))`); subscribers that other domains
registered on the app's `EventBus` (the WeChat push outbox, for one) write their own rows in the same session, so
the change and its consequences commit or roll back together. The publisher knows nothing of its subscribers; the
session knows its app's bus.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
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
class CreditObjectionDecided:
    """An official decided an agency's objection to a credit event: `outcome` "upheld" (the event stands) or
    "reversed" (it was reversed; a RatingChanged follows when the rating moved). `filed_by` objected."""

    objection_id: int
    agency_id: int
    agency_name: str
    event_id: int
    outcome: str
    reason: str
    filed_by: int | None
    new_level: str
    new_score: int


@dataclass(frozen=True, slots=True)
class VoucherStateChanged:
    voucher_id: int
    enterprise_id: int
    old_state: str
    new_state: str
    balance_fen: int
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class RedemptionMade:
    """A voucher was spent at an agency; the anti-abuse checks of the redemption follow its commit (the vouchers'
    flag worker)."""

    redemption_id: int


@dataclass(frozen=True, slots=True)
class ApplicationDecided:
    """An enterprise's application for a voucher was decided: `state` is approved (with the voucher issued),
    waitlisted or rejected, with the reason."""

    application_id: int
    enterprise_id: int
    program_id: int
    program_name: str
    state: str
    reason: str
    voucher_id: int | None


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


@dataclass(frozen=True, slots=True)
class MembershipDecided:
    """A user's binding to an enterprise was approved, rejected, or ended (`outcome`: approved/rejected/removed)."""

    user_id: int
    enterprise_name: str
    outcome: str
    note: str


@dataclass(frozen=True, slots=True)
class BindingRequested:
    """A user asked to act for an enterprise that is registered already: its administrators decide (the first
    approved staff member of an enterprise is one)."""

    membership_id: int
    enterprise_id: int
    enterprise_name: str
    person_name: str


E = TypeVar("E")
Subscriber = Callable[[AsyncSession, Any], Awaitable[None]]
# Where a session carries its app's bus: `core.db.Database(events=...)` puts it into every session it opens.
SESSION_INFO_KEY = "event_bus"


class EventBus:
    """Who hears which event, for one app: each domain subscribes when the app factory sets it up."""

    def __init__(self) -> None:
        self._subscribers: defaultdict[type, list[Subscriber]] = defaultdict(list)

    def subscribe(self, event_type: type[E], handler: Callable[[AsyncSession, E], Awaitable[None]]) -> None:
        self._subscribers[event_type].append(handler)

    async def publish(self, session: AsyncSession, event: object) -> None:
        for handler in self._subscribers[type(event)]:
            await handler(session, event)


EVENTS: web.AppKey[EventBus] = web.AppKey("events")


async def publish(session: AsyncSession, event: object) -> None:
    """Deliver `event` to the subscribers of the app whose database opened `session`, in that session.

    A session of no app's database (a command such as `seed`) carries no bus: nobody is subscribed there.
    """
    bus: EventBus | None = session.info.get(SESSION_INFO_KEY)
    if bus is not None:
        await bus.publish(session, event)
