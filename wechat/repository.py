"""Queries on the WeChat tables (2.0-style); portable between SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import upsert_insert, utcnow
from wechat.models import CustomMessage, PushOutbox, SubscribeConsent

# ---------------------------------------------------------------- consents


async def consents_of(session: AsyncSession, user_id: int) -> dict[str, SubscribeConsent]:
    rows = await session.scalars(select(SubscribeConsent).where(SubscribeConsent.user_id == user_id))
    return {row.template_id: row for row in rows}


async def grant_consent(session: AsyncSession, user_id: int, template_id: str) -> None:
    """One more allowed send, atomically (concurrent grants all count)."""
    stmt = upsert_insert(session, SubscribeConsent).values(
        user_id=user_id, template_id=template_id, remaining=1, granted_total=1, used_total=0, updated_at=utcnow()
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[SubscribeConsent.user_id, SubscribeConsent.template_id],
        set_={
            "remaining": SubscribeConsent.remaining + 1,
            "granted_total": SubscribeConsent.granted_total + 1,
            "updated_at": utcnow(),
        },
    )
    await session.execute(stmt)


async def users_with_consent(session: AsyncSession, user_ids: Sequence[int], template_id: str) -> set[int]:
    if not user_ids:
        return set()
    rows = await session.scalars(
        select(SubscribeConsent.user_id).where(
            SubscribeConsent.user_id.in_(user_ids),
            SubscribeConsent.template_id == template_id,
            SubscribeConsent.remaining > 0,
        )
    )
    return set(rows)


async def take_consent(session: AsyncSession, user_id: int, template_id: str) -> bool:
    """Use one consent; False when none is left. A conditional UPDATE, so two senders cannot both take the last."""
    result = await session.execute(
        update(SubscribeConsent)
        .where(
            SubscribeConsent.user_id == user_id,
            SubscribeConsent.template_id == template_id,
            SubscribeConsent.remaining > 0,
        )
        .values(remaining=SubscribeConsent.remaining - 1, used_total=SubscribeConsent.used_total + 1)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def return_consent(session: AsyncSession, user_id: int, template_id: str) -> None:
    """The send did not happen (WeChat refused it for another reason, or will be retried): give the consent back."""
    await session.execute(
        update(SubscribeConsent)
        .where(SubscribeConsent.user_id == user_id, SubscribeConsent.template_id == template_id)
        .values(remaining=SubscribeConsent.remaining + 1, used_total=SubscribeConsent.used_total - 1)
    )


async def forget_consents(session: AsyncSession, user_id: int, template_id: str) -> None:
    """WeChat says no consent is left (43101): believe it."""
    await session.execute(
        update(SubscribeConsent)
        .where(SubscribeConsent.user_id == user_id, SubscribeConsent.template_id == template_id)
        .values(remaining=0)
    )


# ---------------------------------------------------------------- outbox


async def enqueue_push(
    session: AsyncSession,
    *,
    user_id: int | None,
    openid: str,
    template_id: str,
    subject: str,
    version: str,
    data: str,
    page: str,
    kind: str = "subscribe",
) -> bool:
    """Queue a push unless the same (openid, template, subject, version) is already queued; True when queued.

    `kind` "subscribe" is a subscribe message (one consent per send); "custom" a customer-service text, whose
    `template_id` is empty and `user_id` may be None (an official-account follower without an account here)."""
    stmt = (
        upsert_insert(session, PushOutbox)
        .values(
            kind=kind,
            user_id=user_id,
            openid=openid,
            template_id=template_id,
            subject=subject,
            version=version,
            data=data,
            page=page,
            state="pending",
            attempts=0,
            next_attempt_at=utcnow(),
            last_error="",
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(
            index_elements=[PushOutbox.openid, PushOutbox.template_id, PushOutbox.subject, PushOutbox.version]
        )
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def claim_due(session: AsyncSession, now: dt.datetime, limit: int) -> list[PushOutbox]:
    """Due pending rows, locked so no other worker claims them (SKIP LOCKED on PostgreSQL; on SQLite the
    write transaction is BEGIN IMMEDIATE, which already makes claimers take turns)."""
    query = (
        select(PushOutbox)
        .where(PushOutbox.state == "pending", PushOutbox.next_attempt_at <= now)
        .order_by(PushOutbox.next_attempt_at, PushOutbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(await session.scalars(query))


async def has_due(session: AsyncSession, now: dt.datetime) -> bool:
    found = await session.scalar(
        select(PushOutbox.id).where(PushOutbox.state == "pending", PushOutbox.next_attempt_at <= now).limit(1)
    )
    return found is not None


async def has_interrupted(session: AsyncSession, claimed_before: dt.datetime) -> bool:
    found = await session.scalar(
        select(PushOutbox.id).where(PushOutbox.state == "sending", PushOutbox.claimed_at < claimed_before).limit(1)
    )
    return found is not None


async def fail_interrupted(session: AsyncSession, claimed_before: dt.datetime) -> int:
    """Rows left in `sending` by a worker that died mid-send. WeChat may have delivered them: never resend."""
    result = await session.execute(
        update(PushOutbox)
        .where(PushOutbox.state == "sending", PushOutbox.claimed_at < claimed_before)
        .values(state="failed", last_error="interrupted while sending; not resent (it may have arrived)")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- customer-service log


async def start_custom_message(
    session: AsyncSession, *, openid: str, inbound_key: str, seq: int, content: str
) -> int | None:
    """Record a piece of an answer before sending it; None when that piece was already recorded (never send twice)."""
    stmt = (
        upsert_insert(session, CustomMessage)
        .values(
            openid=openid,
            inbound_key=inbound_key,
            seq=seq,
            content=content,
            state="sending",
            error="",
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=[CustomMessage.inbound_key, CustomMessage.seq])
        .returning(CustomMessage.id)
    )
    found: int | None = await session.scalar(stmt)
    return found


async def finish_custom_message(
    session: AsyncSession, message_id: int, *, sent: bool, errcode: int | None = None, error: str = ""
) -> None:
    await session.execute(
        update(CustomMessage)
        .where(CustomMessage.id == message_id)
        .values(
            state="sent" if sent else "failed",
            errcode=errcode,
            error=error[:200],
            sent_at=utcnow() if sent else None,
        )
    )
