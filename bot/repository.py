"""Queries over the assistant's tables (2.0-style): consultation tickets and unanswered questions."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import ConsultationTicket, UnansweredQuestion
from bot.schemas import TicketQuery, UnansweredQuery

# A ticket in one of these is still being handled: the conversation reuses it rather than opening another.
OPEN_STATUSES = ("open", "in_progress")


async def open_ticket_of_conversation(session: AsyncSession, sender_id: str) -> ConsultationTicket | None:
    """The conversation's newest ticket that is still open or in progress."""
    return await session.scalar(
        select(ConsultationTicket)
        .where(ConsultationTicket.sender_id == sender_id, ConsultationTicket.status.in_(OPEN_STATUSES))
        .order_by(ConsultationTicket.id.desc())
        .limit(1)
    )


async def lock_ticket(session: AsyncSession, ticket_id: int) -> ConsultationTicket | None:
    return await session.scalar(select(ConsultationTicket).where(ConsultationTicket.id == ticket_id).with_for_update())


async def ticket_of_user(session: AsyncSession, ticket_id: int, user_id: int) -> ConsultationTicket | None:
    return await session.scalar(
        select(ConsultationTicket).where(ConsultationTicket.id == ticket_id, ConsultationTicket.user_id == user_id)
    )


async def ticket_page(
    session: AsyncSession, query: TicketQuery, *, user_id: int | None = None
) -> tuple[list[ConsultationTicket], int]:
    """One page of tickets (of `user_id`, when given) in the query's status, newest first, and their total."""
    where = []
    if user_id is not None:
        where.append(ConsultationTicket.user_id == user_id)
    if query.status is not None:
        where.append(ConsultationTicket.status == query.status)
    total = await session.scalar(select(func.count()).select_from(ConsultationTicket).where(*where)) or 0
    rows = await session.scalars(
        select(ConsultationTicket)
        .where(*where)
        .order_by(ConsultationTicket.created_at.desc(), ConsultationTicket.id.desc())
        .limit(query.page_size)
        .offset((query.page - 1) * query.page_size)
    )
    return list(rows), total


async def unanswered_page(session: AsyncSession, query: UnansweredQuery) -> tuple[list[UnansweredQuestion], int]:
    """One page of unanswered questions (for the query's reason, when given), newest first, and their total."""
    where = [] if query.reason is None else [UnansweredQuestion.reason == query.reason]
    total = await session.scalar(select(func.count()).select_from(UnansweredQuestion).where(*where)) or 0
    rows = await session.scalars(
        select(UnansweredQuestion)
        .where(*where)
        .order_by(UnansweredQuestion.created_at.desc(), UnansweredQuestion.id.desc())
        .limit(query.page_size)
        .offset((query.page - 1) * query.page_size)
    )
    return list(rows), total
