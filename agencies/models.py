"""Agency tables. Other domains use agencies through `agencies.service`, never these tables directly."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, BigId, UtcDateTime, utcnow


class Agency(Base):
    __tablename__ = "agencies"
    __table_args__ = (
        CheckConstraint("kind IN ('patent','trademark','both')", name="kind"),
        CheckConstraint("credit_level IN ('A_plus','A','B','C','D')", name="credit_level"),
        CheckConstraint("patent_attorneys >= 0 AND trademark_agents >= 0", name="staff_counts"),
        Index("ix_agencies_level_score", "credit_level", "credit_score"),
        Index("ix_agencies_score_id", "credit_score", "id"),
        # Migration 0001 also creates an index on (patent_attorneys + trademark_agents) for `sort=attorneys`, and on
        # PostgreSQL a pg_trgm GIN index on search_text for `q`; search_0001 the region-prefix indexes in rating
        # order (`substr(region_code, 1, 2 or 4)`, credit_score DESC, id) and (min_price_fen, credit_score DESC, id).
        # Covers every search filter but `q`: counting a result set is an index-only scan on PostgreSQL.
        Index(
            "ix_agencies_search_filters",
            "region_code",
            "credit_level",
            "accepts_vouchers",
            "services_mask",
            "fields_mask",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(300))
    short_name: Mapped[str | None] = mapped_column(String(60))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    licence_no: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    # GB/T 2260 six-digit code of the city or district; the province is its first two digits + "0000".
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    contact_name: Mapped[str] = mapped_column(String(60), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    contact_email: Mapped[str] = mapped_column(String(120), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    founded_year: Mapped[int] = mapped_column(Integer)
    patent_attorneys: Mapped[int] = mapped_column(Integer, default=0)
    trademark_agents: Mapped[int] = mapped_column(Integer, default=0)
    accepts_vouchers: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # Whole points: 100 is full marks, deductions lower it, bonus points above 100 only for A+.
    credit_score: Mapped[int] = mapped_column(Integer, default=100)
    credit_level: Mapped[str] = mapped_column(String(8), default="A")
    # The score of the latest imported official evaluation (100 before any), and the last credit event it already
    # includes: the score is recomputed from this baseline plus the live events after it (agencies.credit).
    credit_baseline: Mapped[int] = mapped_column(Integer, default=100)
    baseline_event_id: Mapped[int | None] = mapped_column(BigId)
    evaluated_on: Mapped[dt.date | None] = mapped_column(Date)
    rating_updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Lower-cased names, abbreviation and pinyin, so `q` matches Chinese, English or pinyin alike.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # Search columns derived from services and fields (agencies.search.card_columns keeps them in step), so a
    # result page is one query on this table: filters by bit, the lowest price for sorting, the services as shown.
    services_mask: Mapped[int] = mapped_column(Integer, default=0)
    fields_mask: Mapped[int] = mapped_column(Integer, default=0)
    min_price_fen: Mapped[int | None] = mapped_column(Integer)
    services_json: Mapped[str] = mapped_column(Text, default="[]")
    # Shown on every result card, kept in step by the writes that change them (agencies.objections, .reviews):
    # credit objections awaiting a decision ("under objection" when any), and the visible reviews' count and sum.
    objections_open: Mapped[int] = mapped_column(Integer, default=0)
    review_count: Mapped[int] = mapped_column(Integer, default=0)
    review_total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    services: Mapped[list[AgencyService]] = relationship(
        back_populates="agency",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="AgencyService.service_code",
    )
    fields: Mapped[list[AgencyField]] = relationship(lazy="raise", cascade="all, delete-orphan")
    branches: Mapped[list[AgencyBranch]] = relationship(lazy="raise", cascade="all, delete-orphan")


class AgencyService(Base):
    __tablename__ = "agency_services"
    __table_args__ = (
        UniqueConstraint("agency_id", "service_code"),
        CheckConstraint("price_min_fen >= 0 AND price_max_fen >= price_min_fen", name="price_range"),
        Index("ix_agency_services_service_price", "service_code", "price_min_fen"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    service_code: Mapped[str] = mapped_column(String(40))
    price_min_fen: Mapped[int] = mapped_column(Integer)
    price_max_fen: Mapped[int] = mapped_column(Integer)

    agency: Mapped[Agency] = relationship(back_populates="services", lazy="raise")


class AgencyField(Base):
    __tablename__ = "agency_fields"
    __table_args__ = (Index("ix_agency_fields_field", "field_code", "agency_id"),)

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True)
    field_code: Mapped[str] = mapped_column(String(40), primary_key=True)


class AgencyBranch(Base):
    __tablename__ = "agency_branches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")


class CreditEvent(Base):
    """A deduction (negative points) or bonus (positive) with its reason. Never deleted: reversed by a new event."""

    __tablename__ = "credit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    points: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    reference_doc: Mapped[str] = mapped_column(String(200), default="")
    reverses_event_id: Mapped[int | None] = mapped_column(ForeignKey("credit_events.id"), unique=True)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class RatingHistory(Base):
    """Every change of an agency's score or level, with what caused it."""

    __tablename__ = "rating_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(8))
    previous_score: Mapped[int | None] = mapped_column(Integer)
    previous_level: Mapped[str | None] = mapped_column(String(8))
    cause: Mapped[str] = mapped_column(String(20))  # "event", "reversal", "import", "initial"
    credit_event_id: Mapped[int | None] = mapped_column(ForeignKey("credit_events.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    changed_by: Mapped[int | None] = mapped_column(Integer)
    changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Follow(Base):
    """An enterprise user following an agency, to be told when its rating changes."""

    __tablename__ = "agency_follows"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Review(Base):
    """An enterprise's review of an agency after a voucher-paid service there was delivered: one per redemption.

    `redemption_id` names a row of the vouchers domain (checked by `vouchers.reviews` before the review is
    recorded); it has no foreign key because the vouchers tables come later in the migration chain.
    """

    __tablename__ = "agency_reviews"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    redemption_id: Mapped[int] = mapped_column(BigId, unique=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The agency's one answer.
    reply: Mapped[str | None] = mapped_column(Text)
    replied_by: Mapped[int | None] = mapped_column(Integer)
    replied_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # Hidden by an official (abusive): kept, shown only to the official, the agency and the enterprise that wrote it.
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    hidden_by: Mapped[int | None] = mapped_column(Integer)
    hidden_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class CreditObjection(Base):
    """An agency's objection to a deduction: its reason and evidence, and the official's decision with its reason.

    One per event. `state` is pending until decided: `upheld` (the event stands) or `reversed` (the event was
    reversed by `reversal_event_id`, and the score recomputed).
    """

    __tablename__ = "credit_objections"
    __table_args__ = (
        CheckConstraint("state IN ('pending','upheld','reversed')", name="state"),
        Index("ix_credit_objections_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("credit_events.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    filed_by: Mapped[int | None] = mapped_column(Integer)
    filed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decision_reference_doc: Mapped[str | None] = mapped_column(String(200))
    decided_by: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    reversal_event_id: Mapped[int | None] = mapped_column(ForeignKey("credit_events.id"))


class AgencyAudit(Base):
    """Append-only: who did what to an agency's credit record and reviews, when, and why."""

    __tablename__ = "agency_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    # "credit_event", "objection" or "review", and its id.
    subject: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(BigId)
    action: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
