"""The assistant's tables: consultation tickets (human handoff) and the questions it could not answer.

Officials' expert group works the tickets through `/api/v1/assistant/tickets`; unanswered questions are kept for
officials to improve the assistant (`/api/v1/assistant/unanswered`). Both are written by custom actions running
in `/bot/actions`, inside that request's unit of work.

The knowledge loop (`bot/knowledge.py`): an official answers a group of alike unanswered questions once, with its
source and an optional expiry (`KnowledgeAnswer`); the questions point at it (labelled examples for the next
training), the assistant serves it to similar questions while it is active and not expired, and every publish,
edit and withdrawal is appended to `KnowledgeAudit`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId, UtcDateTime, utcnow

TICKET_STATUSES = ("open", "in_progress", "answered", "closed")
UNANSWERED_REASONS = ("out_of_scope", "low_confidence", "handoff")
SOURCE_STATUSES = ("draft", "in_force", "superseded")
KNOWLEDGE_STATUSES = ("active", "withdrawn")
KNOWLEDGE_AUDIT_ACTIONS = ("published", "edited", "withdrawn")


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
    # Set on the answered ticket that tells an asker an official's answer to their question (the knowledge loop).
    knowledge_answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("assistant_knowledge.id", ondelete="SET NULL"), index=True
    )
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
    # The official answer that answers it (then it is a labelled example, no longer in the queue).
    knowledge_answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("assistant_knowledge.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class KnowledgeAnswer(Base):
    """An official's answer to a group of questions, served by the assistant to similar ones."""

    __tablename__ = "assistant_knowledge"
    __table_args__ = (
        CheckConstraint("status IN ('active','withdrawn')", name="status"),
        CheckConstraint("lang IN ('zh','en')", name="lang"),
        CheckConstraint("source_status IN ('draft','in_force','superseded')", name="source_status"),
        Index("ix_assistant_knowledge_status", "status", "expires_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The question as the official puts it (shown in the console, and one more example when matching).
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(2), default="zh")
    # The intent the questions belong to when the model has one for them; "" for a topic the model lacks.
    intent: Mapped[str] = mapped_column(String(60), default="")
    source_document: Mapped[str] = mapped_column(String(300))
    source_article: Mapped[str] = mapped_column(String(200), default="")
    source_date: Mapped[dt.date] = mapped_column(Date)
    source_status: Mapped[str] = mapped_column(String(12))
    # The last day (China time) the answer is served; None: until withdrawn.
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    # Where it is served: the publishing official's jurisdiction ("000000": everywhere).
    region_code: Mapped[str] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(12), default="active")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class KnowledgeAudit(Base):
    """Append-only: who published, edited or withdrew an official answer, when, and what changed."""

    __tablename__ = "assistant_knowledge_audit"
    __table_args__ = (CheckConstraint("action IN ('published','edited','withdrawn')", name="action"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("assistant_knowledge.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(12))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # How many queued questions the action answered (publishing); 0 otherwise.
    questions: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
