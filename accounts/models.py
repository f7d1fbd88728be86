from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId, UtcDateTime, utcnow


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('official','agency','enterprise')", name="role"),
        CheckConstraint("role <> 'agency' OR agency_id IS NOT NULL", name="agency_staff_has_agency"),
        CheckConstraint("role <> 'official' OR region_code IS NOT NULL", name="official_has_region"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Password users have a username; mini-program users may have only a WeChat openid.
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    wechat_openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    wechat_unionid: Mapped[str | None] = mapped_column(String(64), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Officials: their jurisdiction (a province, city or district code; 000000 for the whole country).
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    # Administrator of their enterprise or agency, or (officials) of the officials of their region.
    is_admin: Mapped[bool] = mapped_column(default=False)
    phone: Mapped[str] = mapped_column(String(20), default="")


class AuthToken(Base):
    """A bearer token, stored as its SHA-256 only, so a database leak does not leak sessions."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    client: Mapped[str] = mapped_column(String(20), default="password")  # "password" or "wechat"


MEMBERSHIP_STATES = ("pending", "approved", "rejected", "removed")


class EnterpriseMembership(Base):
    """A user's request to act for an enterprise, and what became of it (`accounts.memberships`).

    At most one open (pending or approved) membership per user: a partial unique index holds that even when two
    requests race.
    """

    __tablename__ = "enterprise_memberships"
    __table_args__ = (
        CheckConstraint("status IN ('pending','approved','rejected','removed')", name="status"),
        Index(
            "uq_enterprise_memberships_open_user",
            "user_id",
            unique=True,
            sqlite_where=text("status IN ('pending','approved')"),
            postgresql_where=text("status IN ('pending','approved')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    person_name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    # The user registered the enterprise with this request: an official's verification approves it.
    registered_enterprise: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")


class AgencyInvitation(Base):
    """A one-time, expiring invitation to join an agency's staff; only the code's SHA-256 is stored."""

    __tablename__ = "agency_invitations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invitee_name: Mapped[str] = mapped_column(String(60), default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class AccountAudit(Base):
    """Append-only: every binding, approval, invitation, deactivation and password reset, who did it and when.

    `region_code` is where the record belongs (the enterprise's, the agency's, the official's region), so an
    official reads the entries of their jurisdiction.
    """

    __tablename__ = "account_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(40))
    actor_user_id: Mapped[int | None] = mapped_column(BigId)
    subject_user_id: Mapped[int | None] = mapped_column(BigId, index=True)
    enterprise_id: Mapped[int | None] = mapped_column(BigId)
    agency_id: Mapped[int | None] = mapped_column(BigId)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
