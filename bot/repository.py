"""Queries over the assistant's tables (2.0-style): consultation tickets, unanswered questions, official answers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import ConsultationTicket, KnowledgeAnswer, UnansweredQuestion
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


# ---------------------------------------------------------------- the knowledge loop


async def queued_questions(session: AsyncSession, reason: str | None, limit: int) -> list[UnansweredQuestion]:
    """The newest `limit` questions no official answer covers yet (of `reason`, when given), oldest first."""
    where: list[ColumnElement[bool]] = [UnansweredQuestion.knowledge_answer_id.is_(None)]
    if reason is not None:
        where.append(UnansweredQuestion.reason == reason)
    rows = await session.scalars(
        select(UnansweredQuestion)
        .where(*where)
        .order_by(UnansweredQuestion.created_at.desc(), UnansweredQuestion.id.desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))


async def lock_questions(session: AsyncSession, ids: Sequence[int]) -> list[UnansweredQuestion]:
    rows = await session.scalars(
        select(UnansweredQuestion)
        .where(UnansweredQuestion.id.in_(list(ids)))
        .order_by(UnansweredQuestion.id)
        .with_for_update()
    )
    return list(rows)


async def lock_answer(session: AsyncSession, answer_id: int) -> KnowledgeAnswer | None:
    return await session.scalar(select(KnowledgeAnswer).where(KnowledgeAnswer.id == answer_id).with_for_update())


async def answer_page(
    session: AsyncSession, where: Sequence[ColumnElement[bool]], page: int, page_size: int
) -> tuple[list[KnowledgeAnswer], int]:
    total = await session.scalar(select(func.count()).select_from(KnowledgeAnswer).where(*where)) or 0
    rows = await session.scalars(
        select(KnowledgeAnswer)
        .where(*where)
        .order_by(KnowledgeAnswer.updated_at.desc(), KnowledgeAnswer.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    return list(rows), total


async def answers(session: AsyncSession, where: Sequence[ColumnElement[bool]]) -> list[KnowledgeAnswer]:
    rows = await session.scalars(select(KnowledgeAnswer).where(*where).order_by(KnowledgeAnswer.id))
    return list(rows)


async def example_texts(session: AsyncSession, answer_ids: Sequence[int]) -> dict[int, list[str]]:
    """The questions each answer answered (its labelled examples), oldest first."""
    out: dict[int, list[str]] = {i: [] for i in answer_ids}
    if not answer_ids:
        return out
    rows = await session.execute(
        select(UnansweredQuestion.knowledge_answer_id, UnansweredQuestion.text)
        .where(UnansweredQuestion.knowledge_answer_id.in_(list(answer_ids)))
        .order_by(UnansweredQuestion.id)
    )
    for answer_id, text in rows:
        if answer_id is not None:
            out[answer_id].append(text)
    return out


async def tickets_of_answer(session: AsyncSession, answer_id: int) -> list[ConsultationTicket]:
    rows = await session.scalars(
        select(ConsultationTicket)
        .where(ConsultationTicket.knowledge_answer_id == answer_id)
        .order_by(ConsultationTicket.id)
        .with_for_update()
    )
    return list(rows)
