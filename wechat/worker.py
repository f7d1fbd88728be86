"""The outbox sender: claims due pushes, takes one consent each, sends, records; retries with backoff.

Subscribe messages take one consent each. Customer-service texts (an expert's answer) need none, but WeChat
refuses them for good outside the 48-hour window (45015), past its count limit (45047) or without the permission
(48001): such a row is recorded `undeliverable`, never retried, and the ticket's subscribe message is queued
instead when the user consented to it (`Pushes.queue_ticket_fallback`). A text split in several messages keeps
how many went out, so a retry continues after them.

Never twice: a row is claimed (pending → sending) and committed before it is sent, under `FOR UPDATE SKIP LOCKED`
on PostgreSQL (on SQLite write transactions queue), so two workers never hold the same row. A row found still
`sending` after `LEASE` (its worker died mid-send) is marked failed, not resent: WeChat may have delivered it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from core.backoff import Backoff
from core.db import Database, utcnow
from core.wechat.client import WeChatClient
from core.wechat.exceptions import NoConsentLeft, NoPermission, ReplyCountExceeded, ReplyWindowClosed, WeChatError
from vouchers.service import vouchers_expiring_between
from wechat import repository
from wechat.models import PushOutbox
from wechat.pushes import Pushes

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
RETRY_BACKOFF = Backoff(base=5.0, cap=15 * 60.0, jitter=0.2)
LEASE = dt.timedelta(minutes=2)
BATCH = 50
EXPIRY_SCAN_EVERY = dt.timedelta(hours=1)
EXPIRY_WINDOW = dt.timedelta(days=7)
# Customer-service refusals no retry can change: the window is over, the count is used up, no permission.
UNDELIVERABLE = (ReplyWindowClosed, ReplyCountExceeded, NoPermission)


@dataclass
class Report:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    no_consent: int = 0
    interrupted: int = 0
    undeliverable: int = 0
    fell_back: int = 0


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    kind: str
    user_id: int | None
    openid: str
    template_id: str
    subject: str
    version: str
    data: dict[str, Any]
    page: str
    attempts: int


class PushWorker:
    def __init__(self, db: Database, client: WeChatClient, pushes: Pushes, *, poll_seconds: float = 5.0) -> None:
        self.db = db
        self.client = client
        self.pushes = pushes  # queues the fallbacks and reminders, and wakes this worker after a commit
        self.poll_seconds = poll_seconds
        self.wakeup = asyncio.Event()
        self._stopping = False
        # The first expiry scan runs a minute after start, then hourly.
        self._next_expiry_scan = utcnow() + dt.timedelta(minutes=1)

    async def run_once(self, limit: int = BATCH) -> Report:
        """One pass: recover interrupted rows, claim what is due, send it, record the outcome."""
        report = Report()
        now = utcnow()
        async with self.db.reader() as session:
            due = await repository.has_due(session, now)
            stuck = await repository.has_interrupted(session, now - LEASE)
        if stuck:
            async with self.db.transaction() as session:
                report.interrupted = await repository.fail_interrupted(session, now - LEASE)
        if not due:
            return report
        claimed: list[_Claimed] = []
        async with self.db.transaction() as session:
            for row in await repository.claim_due(session, now, limit):
                if row.kind == "subscribe" and (
                    row.user_id is None or not await repository.take_consent(session, row.user_id, row.template_id)
                ):
                    row.state, row.last_error = "failed", "no consent left"
                    report.no_consent += 1
                    continue
                row.state, row.claimed_at, row.attempts = "sending", now, row.attempts + 1
                claimed.append(
                    _Claimed(
                        row.id,
                        row.kind,
                        row.user_id,
                        row.openid,
                        row.template_id,
                        row.subject,
                        row.version,
                        json.loads(row.data),
                        row.page,
                        row.attempts,
                    )
                )
        for item in claimed:
            if item.kind == "custom":
                await self._send_text(item, report)
            else:
                await self._send(item, report)
        return report

    async def _send_text(self, item: _Claimed, report: Report) -> None:
        """A customer-service text, message by message from where an earlier attempt stopped."""
        chunks = [str(chunk) for chunk in item.data.get("chunks", [])]
        done = int(item.data.get("sent", 0))
        error: WeChatError | None = None
        for chunk in chunks[done:]:
            try:
                await self.client.send_custom_text(item.openid, chunk)
            except WeChatError as exc:
                error = exc
                break
            done += 1
        async with self.db.transaction() as session:
            row = await session.get(PushOutbox, item.id)
            assert row is not None
            row.data = json.dumps({**item.data, "sent": done}, ensure_ascii=False)
            if error is None:
                row.state, row.sent_at, row.last_error = "sent", utcnow(), ""
                report.sent += 1
                return
            row.last_error = f"{error.errcode}: {error.errmsg}"[:200]
            fallback = item.data.get("fallback")
            if isinstance(error, UNDELIVERABLE):
                row.state = "undeliverable"
                report.undeliverable += 1
                if (
                    item.user_id is not None
                    and isinstance(fallback, dict)
                    and await self.pushes.queue_ticket_fallback(
                        session, item.user_id, item.subject, item.version, fallback
                    )
                ):
                    report.fell_back += 1
            elif error.final or item.attempts >= MAX_ATTEMPTS:
                row.state = "failed"
                report.failed += 1
            else:
                row.state = "pending"
                row.next_attempt_at = utcnow() + dt.timedelta(seconds=RETRY_BACKOFF.seconds(item.attempts))
                report.retrying += 1
        log.log(
            logging.INFO if row.state in ("undeliverable", "pending") else logging.WARNING,
            "customer-service text not sent",
            extra={"push_id": item.id, "errcode": error.errcode, "state": row.state, "sent": done},
        )

    async def _send(self, item: _Claimed, report: Report) -> None:
        assert item.user_id is not None  # subscribe rows always name their user
        error: WeChatError | None = None
        try:
            await self.client.send_subscribe(item.openid, item.template_id, item.data, item.page or None)
        except WeChatError as exc:
            error = exc
        async with self.db.transaction() as session:
            row = await session.get(PushOutbox, item.id)
            assert row is not None
            if error is None:
                row.state, row.sent_at, row.last_error = "sent", utcnow(), ""
                report.sent += 1
                return
            row.last_error = f"{error.errcode}: {error.errmsg}"[:200]
            if isinstance(error, NoConsentLeft):
                await repository.forget_consents(session, item.user_id, item.template_id)
                row.state = "failed"
                report.failed += 1
            elif error.final or item.attempts >= MAX_ATTEMPTS:
                await repository.return_consent(session, item.user_id, item.template_id)
                row.state = "failed"
                report.failed += 1
            else:
                await repository.return_consent(session, item.user_id, item.template_id)
                row.state = "pending"
                row.next_attempt_at = utcnow() + dt.timedelta(seconds=RETRY_BACKOFF.seconds(item.attempts))
                report.retrying += 1
        log.log(
            logging.WARNING if row.state == "failed" else logging.INFO,
            "subscribe message not sent",
            extra={"push_id": item.id, "errcode": error.errcode, "state": row.state, "attempt": item.attempts},
        )

    async def scan_expiring(self) -> int:
        """Queue reminders for vouchers expiring within a week (one per voucher and expiry date)."""

        now = utcnow()
        async with self.db.reader() as session:
            expiring = await vouchers_expiring_between(session, now, now + EXPIRY_WINDOW)
        if not expiring:
            return 0
        async with self.db.transaction() as session:
            return await self.pushes.queue_expiry_reminders(session, expiring)

    async def run_forever(self) -> None:
        self.pushes.register_wakeup(self.wakeup)
        try:
            while not self._stopping:
                try:
                    if utcnow() >= self._next_expiry_scan:
                        self._next_expiry_scan = utcnow() + EXPIRY_SCAN_EVERY
                        await self.scan_expiring()
                    report = await self.run_once()
                    if report.sent or report.failed or report.retrying or report.undeliverable:
                        log.info("push outbox pass", extra=report.__dict__)
                except Exception:
                    log.exception("push worker pass failed; trying again shortly")
                if self._stopping:
                    break
                self.wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), timeout=self.poll_seconds)
        finally:
            self.pushes.unregister_wakeup(self.wakeup)

    def stop(self) -> None:
        """Finish the current pass, then return from `run_forever`."""
        self._stopping = True
        self.wakeup.set()
