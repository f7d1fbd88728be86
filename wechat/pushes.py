"""Pushes, queued in the outbox inside the transaction of the change they tell of.

`Pushes` (one per app, `app[PUSHES]`) subscribes to the app's events; its subscribers run in the publisher's
session, so the rows commit or roll back with the change, and the app's waiting worker is woken after the commit.
Subscribe messages go only to users who use WeChat and have a consent left for the template (consent is taken
again, one per send, by the worker). An expert's answer to a ticket opened in the official account goes out as a
customer-service text (no consent, but WeChat's 48-hour window).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from agencies.service import follower_user_ids
from core.db import after_commit
from core.digits import ascii_int
from core.events import ApplicationDecided, EventBus, RatingChanged, TicketAnswered, VoucherStateChanged
from core.settings import Settings
from core.wechat.replies import split_text
from wechat import repository

log = logging.getLogger(__name__)

VOUCHER_STATES_ZH = {  # phrase fields hold at most 5 characters
    "issued": "已发放",
    "partially_redeemed": "部分使用",
    "redeemed": "已使用",
    "delivered": "服务完成",
    "settled": "已结算",
    "expired": "已过期",
    "revoked": "已撤销",
}

APPLICATION_STATES_ZH = {"approved": "已通过", "waitlisted": "候补中", "rejected": "未通过"}

QUESTION_QUOTE = 60  # characters of the question quoted above the answer
ANSWER_HEADINGS = {
    "zh": "【专家答复】您之前的咨询已有专家答复。\n您的问题：“{question}”",
    "en": "[Expert answer] An expert has answered your question.\nYou asked: “{question}”",
}


def _fit(value: str, limit: int) -> str:
    """Template fields have length limits (thing: 20 characters, phrase: 5)."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _now_text() -> str:
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")


def _quote(text: str, limit: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def answer_text(event: TicketAnswered) -> str:
    """The customer-service text: a heading in the user's language, the question quoted briefly, the answer."""
    heading = ANSWER_HEADINGS.get(event.lang, ANSWER_HEADINGS["zh"])
    return heading.format(question=_quote(event.question, QUESTION_QUOTE)) + "\n\n" + event.answer.strip()


def _ticket_template(event: TicketAnswered) -> tuple[dict[str, str], str]:
    """The subscribe message's fields and the mini-program page that shows the ticket."""
    data = {
        "thing1": _fit(_quote(event.question, 20), 20),
        "thing2": _fit(_quote(event.answer, 20), 20),
        "time3": _now_text(),
    }
    return data, f"pages/assistant/ticket?id={event.ticket_id}"


def _answer_version(answer: str) -> str:
    """A corrected answer is new news; the same answer published again is not."""
    return "answer:" + hashlib.sha256(answer.encode("utf-8")).hexdigest()[:16]


class Expiring(Protocol):
    """What `vouchers.service.vouchers_expiring_between` gives for each voucher."""

    @property
    def voucher_id(self) -> int: ...
    @property
    def enterprise_id(self) -> int: ...
    @property
    def program_name(self) -> str: ...
    @property
    def balance_fen(self) -> int: ...
    @property
    def expires_at(self) -> dt.datetime: ...


class Pushes:
    """The outbox's producer for one app: the template id of each purpose, and the workers to wake after a commit.

    Its `on_*` methods are the subscribers (`subscribe_to` registers them on the app's event bus).
    """

    def __init__(self, settings: Settings) -> None:
        self.templates = {
            "rating_changed": settings.wechat_template_rating_changed,
            "voucher_changed": settings.wechat_template_voucher_changed,
            "voucher_expiring": settings.wechat_template_voucher_expiring,
            "ticket_answered": settings.wechat_template_ticket_answered,
            "application_decided": settings.wechat_template_application_decided,
        }
        self._wakeups: set[asyncio.Event] = set()

    def subscribe_to(self, events: EventBus) -> None:
        events.subscribe(RatingChanged, self.on_rating_changed)
        events.subscribe(VoucherStateChanged, self.on_voucher_state_changed)
        events.subscribe(TicketAnswered, self.on_ticket_answered)
        events.subscribe(ApplicationDecided, self.on_application_decided)

    def register_wakeup(self, event: asyncio.Event) -> None:
        self._wakeups.add(event)

    def unregister_wakeup(self, event: asyncio.Event) -> None:
        self._wakeups.discard(event)

    async def _wake(self) -> None:
        for event in list(self._wakeups):
            event.set()

    async def _queue(
        self,
        session: AsyncSession,
        recipients: Mapping[int, str],
        *,
        purpose: str,
        subject: str,
        version: str,
        data: dict[str, str],
        page: str,
    ) -> int:
        template_id = self.templates[purpose]
        allowed = await repository.users_with_consent(session, list(recipients), template_id)
        queued = 0
        for user_id in sorted(allowed):
            queued += await repository.enqueue_push(
                session,
                user_id=user_id,
                openid=recipients[user_id],
                template_id=template_id,
                subject=subject,
                version=version,
                data=json.dumps(data, ensure_ascii=False),
                page=page,
            )
        if queued:
            after_commit(session, self._wake)
        return queued

    async def on_rating_changed(self, session: AsyncSession, event: RatingChanged) -> None:
        """Followers of the agency who use WeChat and consented hear of the new rating."""

        recipients = await accounts.wechat_openids(session, list(await follower_user_ids(session, event.agency_id)))
        if not recipients:
            return
        await self._queue(
            session,
            recipients,
            purpose="rating_changed",
            subject=f"agency:{event.agency_id}",
            # The event carries no id of its own; the change plus the second it happened names it.
            version=f"{event.old_level}{event.old_score}>{event.new_level}{event.new_score}@{int(time.time())}",
            data={
                "thing1": _fit(event.agency_name, 20),
                "phrase2": _fit(f"{event.new_level}级", 5),
                "thing3": _fit(
                    f"由{event.old_level}级({event.old_score}分)变为{event.new_level}级({event.new_score}分)", 20
                ),
                "time4": _now_text(),
            },
            page=f"pages/agency/detail?id={event.agency_id}",
        )

    async def on_voucher_state_changed(self, session: AsyncSession, event: VoucherStateChanged) -> None:
        """The enterprise's WeChat users hear when one of its vouchers changes state."""
        recipients = await accounts.wechat_openids_of_enterprise(session, event.enterprise_id)
        if not recipients:
            return
        await self._queue(
            session,
            recipients,
            purpose="voucher_changed",
            subject=f"voucher:{event.voucher_id}",
            version=f"{event.old_state}>{event.new_state}@{int(time.time())}",
            data={
                "thing1": "知识产权服务券",
                "phrase2": _fit(VOUCHER_STATES_ZH.get(event.new_state, event.new_state), 5),
                "amount3": f"{event.balance_fen / 100:.2f}元",
                "date4": event.expires_at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d"),
            },
            page=f"pages/voucher/detail?id={event.voucher_id}",
        )

    async def on_application_decided(self, session: AsyncSession, event: ApplicationDecided) -> None:
        """The enterprise's WeChat users hear the decision on its application for a voucher (approved, waitlisted or
        rejected, with the reason)."""
        recipients = await accounts.wechat_openids_of_enterprise(session, event.enterprise_id)
        if not recipients:
            return
        await self._queue(
            session,
            recipients,
            purpose="application_decided",
            subject=f"application:{event.application_id}",
            version=event.state,
            data={
                "thing1": _fit(event.program_name or "知识产权服务券", 20),
                "phrase2": _fit(APPLICATION_STATES_ZH.get(event.state, event.state), 5),
                "thing3": _fit(_quote(event.reason, 20) or "-", 20),
                "time4": _now_text(),
            },
            page=f"pages/voucher/apply?program={event.program_id}",
        )

    async def queue_expiry_reminders(self, session: AsyncSession, expiring: Iterable[Expiring]) -> int:
        """Reminders for vouchers nearing expiry, to the enterprise's WeChat users who consented.

        One reminder per voucher and expiry date (the version), so scanning again never sends it twice.
        """
        queued = 0
        for voucher in expiring:
            recipients = await accounts.wechat_openids_of_enterprise(session, voucher.enterprise_id)
            if not recipients:
                continue
            local = voucher.expires_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
            queued += await self._queue(
                session,
                recipients,
                purpose="voucher_expiring",
                subject=f"voucher:{voucher.voucher_id}",
                version=f"expiring:{local.date().isoformat()}",
                data={
                    "thing1": _fit(voucher.program_name or "知识产权服务券", 20),
                    "amount2": f"{voucher.balance_fen / 100:.2f}元",
                    "date3": local.strftime("%Y-%m-%d"),
                    "thing4": "服务券即将到期，请尽快使用",
                },
                page=f"pages/voucher/detail?id={voucher.voucher_id}",
            )
        return queued

    async def on_ticket_answered(self, session: AsyncSession, event: TicketAnswered) -> None:
        """Deliver an expert's answer to whoever asked, in the transaction that stores the answer.

        "wx:<openid>" (official account): a customer-service text, split like every long text. If WeChat refuses it
        for good (the 48-hour window is over: 45015), the worker records the row `undeliverable` and, when the asker
        has an account with a mini-program openid and a consent for the ticket template, queues that subscribe
        message instead; otherwise the answer waits in `GET /api/v1/me/tickets` (or with the officials, for a
        follower with no account). "u:<user id>" (mini-program): a subscribe message when the user consented; the
        answer is in `GET /api/v1/me/tickets` either way.
        """
        channel, _, who = event.sender_id.partition(":")
        subject, version = f"ticket:{event.ticket_id}", _answer_version(event.answer)
        data, page = _ticket_template(event)
        if channel == "wx" and who:
            fallback: dict[str, Any] | None = None
            if event.user_id is not None:
                openids = await accounts.wechat_openids(session, [event.user_id])
                if event.user_id in openids:
                    fallback = {"openid": openids[event.user_id], "data": data, "page": page}
            queued = await repository.enqueue_push(
                session,
                kind="custom",
                user_id=event.user_id,
                openid=who[:64],
                template_id="",
                subject=subject,
                version=version,
                data=json.dumps(
                    {"chunks": split_text(answer_text(event)), "sent": 0, "fallback": fallback}, ensure_ascii=False
                ),
                page="",
            )
            if queued:
                after_commit(session, self._wake)
            return
        user_id = event.user_id
        if user_id is None and channel == "u":
            user_id = ascii_int(who, max_digits=18)
        if channel != "u" or user_id is None:
            log.warning("answered ticket from an unknown channel: not pushed", extra={"ticket_id": event.ticket_id})
            return
        recipients = await accounts.wechat_openids(session, [user_id])
        if recipients:
            await self._queue(
                session, recipients, purpose="ticket_answered", subject=subject, version=version, data=data, page=page
            )

    async def queue_ticket_fallback(
        self, session: AsyncSession, user_id: int, subject: str, version: str, fallback: Mapping[str, Any]
    ) -> bool:
        """The customer-service text could not be delivered: the subscribe message instead, if the user consented."""
        return bool(
            await self._queue(
                session,
                {user_id: str(fallback["openid"])},
                purpose="ticket_answered",
                subject=subject,
                version=version,
                data={str(k): str(v) for k, v in dict(fallback["data"]).items()},
                page=str(fallback["page"]),
            )
        )


PUSHES: web.AppKey[Pushes] = web.AppKey("wechat_pushes", Pushes)
