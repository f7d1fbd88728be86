"""Voucher tables: programs, vouchers, redemptions, the append-only audit ledger, flags, idempotency keys, and the
enterprises' applications for a voucher with their decision history.

Money is integer fen. Other domains use vouchers through `vouchers.service`, never these tables.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId, UtcDateTime, utcnow


class VoucherProgram(Base):
    """A program: who pays (the budget), for what (covered services), for whom (eligibility), how much, when."""

    __tablename__ = "voucher_programs"
    __table_args__ = (
        CheckConstraint("budget_fen > 0", name="budget_positive"),
        CheckConstraint("face_value_fen > 0 AND face_value_fen <= budget_fen", name="face_value"),
        CheckConstraint("share_bp > 0 AND share_bp <= 10000", name="share_bp"),
        CheckConstraint("committed_fen >= 0 AND committed_fen <= budget_fen", name="committed_within_budget"),
        CheckConstraint("valid_until > valid_from", name="window"),
        CheckConstraint(
            "min_qualification IN ('none','provincial_specialized','national_little_giant')", name="min_qualification"
        ),
        CheckConstraint("application_review IN ('official','fcfs')", name="application_review"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    budget_fen: Mapped[int] = mapped_column(BigId)
    # What vouchers issued and not given back hold or have spent: face values issued, minus what revocations and
    # rejected redemptions returned. `committed_fen <= budget_fen` is the budget rule, also a CHECK constraint.
    committed_fen: Mapped[int] = mapped_column(BigId, default=0)
    face_value_fen: Mapped[int] = mapped_column(BigId)
    # The share of a service's price the voucher pays, in basis points (6000 = 60 %); the enterprise pays the rest.
    share_bp: Mapped[int] = mapped_column(Integer)
    # Most face value one enterprise may receive from this program per calendar year; None = no cap.
    per_enterprise_year_cap_fen: Mapped[int | None] = mapped_column(BigId)
    min_qualification: Mapped[str] = mapped_column(String(30), default="none")
    # Only agencies rated at least this may take vouchers (None = any rating).
    min_agency_level: Mapped[str | None] = mapped_column(String(8))
    valid_from: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # A voucher expires this many days after issue, or at `valid_until`, whichever is first (None: at valid_until).
    voucher_validity_days: Mapped[int | None] = mapped_column(Integer)
    settlement_cycle: Mapped[str] = mapped_column(String(20), default="monthly")
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Applications (申领): None = the programme takes none (officials issue). Otherwise enterprises may apply from
    # `applications_open_at` until `applications_close_at` (None: until `valid_until`), attaching the documents named
    # in `application_documents` (a JSON list of names), decided by an official (`official`) or automatically, first
    # come first served within the budget (`fcfs`).
    applications_open_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    applications_close_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    application_documents: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    application_review: Mapped[str] = mapped_column(String(10), default="official", server_default="official")


class ProgramService(Base):
    __tablename__ = "voucher_program_services"

    program_id: Mapped[int] = mapped_column(ForeignKey("voucher_programs.id", ondelete="CASCADE"), primary_key=True)
    service_code: Mapped[str] = mapped_column(String(40), primary_key=True)


class Voucher(Base):
    __tablename__ = "vouchers"
    __table_args__ = (
        CheckConstraint("balance_fen >= 0 AND balance_fen <= face_value_fen", name="balance_range"),
        CheckConstraint(
            "state IN ('issued','partially_redeemed','redeemed','delivered','settled','expired','revoked')",
            name="state",
        ),
        Index("ix_vouchers_enterprise_state", "enterprise_id", "state"),
        Index("ix_vouchers_state_expires", "state", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("voucher_programs.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    face_value_fen: Mapped[int] = mapped_column(BigId)
    balance_fen: Mapped[int] = mapped_column(BigId)
    state: Mapped[str] = mapped_column(String(20), default="issued")
    state_reason: Mapped[str] = mapped_column(Text, default="")
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    issued_by: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Redemption(Base):
    """Spending part of a voucher at an agency for one service; the voucher pays `amount_fen` of `price_fen`."""

    __tablename__ = "voucher_redemptions"
    __table_args__ = (
        CheckConstraint("price_fen > 0", name="price_positive"),
        CheckConstraint("amount_fen > 0 AND amount_fen <= price_fen", name="amount_range"),
        CheckConstraint("enterprise_share_fen = price_fen - amount_fen", name="enterprise_share"),
        CheckConstraint("state IN ('pending','delivered','settled','rejected','cancelled')", name="state"),
        Index("ix_voucher_redemptions_agency_state", "agency_id", "state"),
        Index("ix_voucher_redemptions_program_state", "program_id", "state"),
        Index(
            "ix_voucher_redemptions_flags_unchecked",
            "id",
            postgresql_where=text("flags_checked_at IS NULL"),
            sqlite_where=text("flags_checked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("vouchers.id"), index=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("voucher_programs.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    service_code: Mapped[str] = mapped_column(String(40))
    price_fen: Mapped[int] = mapped_column(BigId)
    amount_fen: Mapped[int] = mapped_column(BigId)
    enterprise_share_fen: Mapped[int] = mapped_column(BigId)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The agency's evidence that the service was delivered.
    contract_no: Mapped[str | None] = mapped_column(String(80))
    invoice_no: Mapped[str | None] = mapped_column(String(80))
    payment_proof: Mapped[str | None] = mapped_column(String(300))
    deliverable: Mapped[str | None] = mapped_column(String(300))
    confirmed_by: Mapped[int | None] = mapped_column(Integer)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # The official's settlement: approve (paid) or reject, with the reason.
    decision_reason: Mapped[str | None] = mapped_column(Text)
    settled_by: Mapped[int | None] = mapped_column(Integer)
    settled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # Withdrawn while still pending (by the enterprise's staff or an official), and why (may be empty).
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_by: Mapped[int | None] = mapped_column(Integer)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # When the worker looked at it for anti-abuse flags (`vouchers.flags`); NULL until then.
    flags_checked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class VoucherAudit(Base):
    """Append-only: one row per change to a voucher, a redemption or a program's committed money.

    `balance_delta_fen` summed over a voucher's rows is its balance; `program_delta_fen` summed over a program's
    rows is its `committed_fen`. `python server.py vouchers check` recomputes both (and the last state) from here.
    Updates are refused by a trigger on both databases.
    """

    __tablename__ = "voucher_audit"
    __table_args__ = (Index("ix_voucher_audit_voucher", "voucher_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("voucher_programs.id"), index=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("vouchers.id"))
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey("voucher_redemptions.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    redemption_from: Mapped[str | None] = mapped_column(String(20))
    redemption_to: Mapped[str | None] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(BigId, default=0)
    balance_delta_fen: Mapped[int] = mapped_column(BigId, default=0)
    balance_after_fen: Mapped[int] = mapped_column(BigId)
    program_delta_fen: Mapped[int] = mapped_column(BigId, default=0)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class VoucherFlag(Base):
    """An anti-abuse signal on a redemption, with its evidence; settling a flagged redemption needs a decision."""

    __tablename__ = "voucher_flags"
    __table_args__ = (
        UniqueConstraint("redemption_id", "kind"),
        CheckConstraint("status IN ('open','approved','rejected')", name="status"),
        Index("ix_voucher_flags_program_status", "program_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("voucher_programs.id"))
    redemption_id: Mapped[int] = mapped_column(ForeignKey("voucher_redemptions.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    kind: Mapped[str] = mapped_column(String(30))
    evidence: Mapped[str] = mapped_column(Text)  # JSON object
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_by: Mapped[int | None] = mapped_column(Integer)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    resolution_reason: Mapped[str | None] = mapped_column(Text)


class IdempotencyRecord(Base):
    """The first answer to a request sent with an `Idempotency-Key`, replayed for repeats of the same request."""

    __tablename__ = "voucher_idempotency"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class VoucherApplication(Base):
    """An enterprise's application for a voucher of a program: one per enterprise and program (the unique constraint),
    decided once into a voucher (`approved`, `voucher_id` set, through the issuing path), a waiting list or a
    rejection with its reason."""

    __tablename__ = "voucher_applications"
    __table_args__ = (
        UniqueConstraint("program_id", "enterprise_id"),
        UniqueConstraint("voucher_id"),
        CheckConstraint("state IN ('submitted','approved','waitlisted','rejected')", name="state"),
        CheckConstraint("(state = 'approved') = (voucher_id IS NOT NULL)", name="approved_has_voucher"),
        Index("ix_voucher_applications_program_state", "program_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("voucher_programs.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    # The enterprise as it applied (name, credit code, region): what officials filter and search the list by.
    enterprise_name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(30))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    applicant_user_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), default="submitted")
    documents: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of {"name", "reference"}
    note: Mapped[str] = mapped_column(Text, default="")
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id"))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class ApplicationEvent(Base):
    """Append-only: each state an application entered, who moved it (a user, or `system` for first come first
    served), when and why."""

    __tablename__ = "voucher_application_events"
    __table_args__ = (Index("ix_voucher_application_events_application", "application_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("voucher_applications.id"))
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
