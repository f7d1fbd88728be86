"""The assistant's rules: who may chat, and every rule and write about consultation tickets and unanswered
questions.

`chat` hands an enterprise user's message to the chat engine. Custom actions open tickets and record questions on
behalf of whoever is chatting (`open_ticket`, `record_unanswered`); officials list and work them (`list_tickets`,
`update_ticket`, `list_unanswered`); the person who asked reads their own (`my_tickets`, `my_ticket`).
Queries are in `bot.repository`. Services `flush()`; the request's unit of work commits.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot import repository
from bot.errors import TicketClosed, TicketNotFound
from bot.models import ConsultationTicket, UnansweredQuestion
from bot.permissions import PERMISSIONS, Action
from bot.schemas import (
    ChatOut,
    MyTicketOut,
    MyTicketPage,
    TicketOut,
    TicketPage,
    TicketPatch,
    TicketQuery,
    UnansweredOut,
    UnansweredPage,
    UnansweredQuery,
)
from core.auth import Principal
from core.chat import ChatEngine, ChatTurn
from core.db import utcnow
from core.errors import field_error
from core.events import TicketAnswered, publish

TRANSCRIPT_LINES = 6


async def chat(engine: ChatEngine, principal: Principal | None, text: str) -> ChatOut:
    """The assistant's replies to a mini-program user's message; the conversation is the user's own."""
    acting = PERMISSIONS.check(principal, Action.CHAT)
    turn = ChatTurn(sender_id=f"u:{acting.user_id}", text=text, channel="miniprogram", principal=acting)
    return ChatOut(replies=await engine.reply(turn))


def ticket_out(ticket: ConsultationTicket) -> TicketOut:
    """The ticket as officials see it; its transcript is stored one message a line and answered as a list."""
    return TicketOut(
        id=ticket.id,
        sender_id=ticket.sender_id,
        channel=ticket.channel,
        user_id=ticket.user_id,
        enterprise_id=ticket.enterprise_id,
        lang=ticket.lang,
        question=ticket.question,
        transcript=[line for line in ticket.transcript.split("\n") if line],
        status=ticket.status,
        answer=ticket.answer,
        answered_by=ticket.answered_by,
        answered_at=ticket.answered_at,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
    )


async def open_ticket(
    session: AsyncSession,
    *,
    sender_id: str,
    channel: str,
    principal: Principal | None,
    lang: str,
    question: str,
    transcript: list[str],
) -> tuple[ConsultationTicket, bool]:
    """The conversation's open ticket, or a new one. Returns (ticket, created): asking twice opens one ticket."""
    existing = await repository.open_ticket_of_conversation(session, sender_id)
    lines = [line.replace("\n", " ")[:500] for line in transcript if line.strip()][-TRANSCRIPT_LINES:]
    if existing is not None:
        existing.transcript = "\n".join(lines) or existing.transcript
        existing.updated_at = utcnow()
        await session.flush()
        return existing, False
    ticket = ConsultationTicket(
        sender_id=sender_id[:100],
        channel=channel[:16],
        user_id=principal.user_id if principal else None,
        enterprise_id=principal.enterprise_id if principal else None,
        lang=lang if lang in ("zh", "en") else "zh",
        question=(question.strip() or "(no question)")[:2000],
        transcript="\n".join(lines),
        status="open",
        answer="",
    )
    session.add(ticket)
    await session.flush()
    return ticket, True


async def record_unanswered(
    session: AsyncSession,
    *,
    sender_id: str,
    principal: Principal | None,
    text: str,
    lang: str,
    reason: str,
    intent: str = "",
    confidence: float | None = None,
) -> UnansweredQuestion:
    row = UnansweredQuestion(
        sender_id=sender_id[:100],
        user_id=principal.user_id if principal else None,
        text=text.strip()[:2000],
        lang=lang if lang in ("zh", "en") else "zh",
        reason=reason,
        intent=intent[:60],
        confidence=confidence,
    )
    session.add(row)
    await session.flush()
    return row


async def list_tickets(session: AsyncSession, principal: Principal | None, query: TicketQuery) -> TicketPage:
    PERMISSIONS.check(principal, Action.WORK_TICKETS)
    rows, total = await repository.ticket_page(session, query)
    return TicketPage(items=[ticket_out(t) for t in rows], total=total, page=query.page, page_size=query.page_size)


async def update_ticket(
    session: AsyncSession, principal: Principal | None, ticket_id: int, patch: TicketPatch
) -> TicketOut:
    actor = PERMISSIONS.check(principal, Action.WORK_TICKETS)
    ticket = await repository.lock_ticket(session, ticket_id)
    if ticket is None:
        raise TicketNotFound(ticket_id)
    if ticket.status == "closed":
        raise TicketClosed(ticket_id)
    now = utcnow()
    previous_answer = ticket.answer if ticket.status == "answered" else None
    if patch.answer is not None:
        ticket.answer = patch.answer
    status = patch.status
    if status is None and patch.answer:
        status = "answered"
    if status == "answered":
        if not ticket.answer:
            raise field_error("answer", "an answered ticket needs its answer")
        ticket.answered_by = actor.user_id
        ticket.answered_at = now
    if status is not None:
        ticket.status = status
    ticket.updated_at = now
    await session.flush()
    if ticket.status == "answered" and ticket.answer != previous_answer:
        # A new or corrected answer: channels subscribed to this deliver it to the user, in this transaction.
        await publish(
            session,
            TicketAnswered(
                ticket_id=ticket.id,
                sender_id=ticket.sender_id,
                channel=ticket.channel,
                user_id=ticket.user_id,
                lang=ticket.lang,
                question=ticket.question,
                answer=ticket.answer,
            ),
        )
    return ticket_out(ticket)


def my_ticket_out(ticket: ConsultationTicket) -> MyTicketOut:
    return MyTicketOut(
        id=ticket.id,
        channel=ticket.channel,
        lang=ticket.lang,
        question=ticket.question,
        status=ticket.status,
        # A draft stored while the ticket is being worked is not an answer yet.
        answer=ticket.answer if ticket.answered_at is not None and ticket.status in ("answered", "closed") else "",
        answered_at=ticket.answered_at,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
    )


async def my_tickets(session: AsyncSession, principal: Principal | None, query: TicketQuery) -> MyTicketPage:
    """The tickets opened for this user (in the mini-program, or in the official account once linked), newest
    first: where the answer to a question the assistant handed to the experts can always be found."""
    me = PERMISSIONS.check(principal, Action.READ_OWN_TICKETS)
    rows, total = await repository.ticket_page(session, query, user_id=me.user_id)
    return MyTicketPage(items=[my_ticket_out(t) for t in rows], total=total, page=query.page, page_size=query.page_size)


async def my_ticket(session: AsyncSession, principal: Principal | None, ticket_id: int) -> MyTicketOut:
    """One of the user's own tickets; someone else's is "not found", like one that does not exist."""
    me = PERMISSIONS.check(principal, Action.READ_OWN_TICKETS)
    ticket = await repository.ticket_of_user(session, ticket_id, me.user_id)
    if ticket is None:
        raise TicketNotFound(ticket_id)
    return my_ticket_out(ticket)


async def list_unanswered(session: AsyncSession, principal: Principal | None, query: UnansweredQuery) -> UnansweredPage:
    PERMISSIONS.check(principal, Action.READ_UNANSWERED)
    rows, total = await repository.unanswered_page(session, query)
    items = [UnansweredOut.model_validate(row) for row in rows]
    return UnansweredPage(items=items, total=total, page=query.page, page_size=query.page_size)
