"""The assistant's tables: consultation tickets (human handoff) and the questions it could not answer.

Officials' expert group works the tickets through `/api/v1/assistant/tickets`; unanswered questions are kept for
officials to improve the assistant (`/api/v1/assistant/unanswered`). Both are written by custom actions running
in `/bot/actions`, inside that request's unit of work.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId, UtcDateTime, utcnow

TICKET_STATUSES = ("open", "in_progress", "answered", "closed")
UNANSWERED_REASONS = ("out_of_scope", "low_confidence", "handoff")


class ConsultationTicket(Base):
    __tablename__ = "assistant_tickets"
    __table_args__ = (
        CheckConstraint("status IN ('open','in_progress','answered','closed')", name="status"),
        CheckConstraint("lang IN ('zh','en')", name="lang"),
        Index("ix_assistant_tickets_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The conversation ("wx:<openid>", "u:<user id>"): at most one open ticket per conversation.
    sender_id: Mapped[str] = mapped_column(String(100), index=True)
    channel: Mapped[str] = mapped_column(String(16), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="SET NULL"))
    lang: Mapped[str] = mapped_column(String(2), default="zh")
    question: Mapped[str] = mapped_column(Text)
    # The last few user messages before the handoff, newest last, one per line.
    transcript: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="open")
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class UnansweredQuestion(Base):
    __tablename__ = "assistant_unanswered"
    __table_args__ = (
        CheckConstraint("reason IN ('out_of_scope','low_confidence','handoff')", name="reason"),
        Index("ix_assistant_unanswered_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(2), default="zh")
    reason: Mapped[str] = mapped_column(String(20))
    # What the model thought it was, and how sure it was (empty / None when unknown).
    intent: Mapped[str] = mapped_column(String(60), default="")
    confidence: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
