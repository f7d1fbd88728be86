"""The protection centres officials keep, and the append-only audit of every change to them.

List-valued columns (regions served, fields, IPC classes, everyday words, application types) are JSON text: a
centre has a handful of each, the planner reads the whole table (a hundred-odd rows) at once, and no query filters
inside them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId, UtcDateTime, utcnow


class ProtectionCentre(Base):
    __tablename__ = "protection_centres"
    __table_args__ = (CheckConstraint("kind IN ('protection','fast_rights')", name="kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    name_en: Mapped[str] = mapped_column(String(200), default="")
    # protection: 知识产权保护中心 (inventions, utility models, designs); fast_rights: 快速维权中心 (mostly designs).
    kind: Mapped[str] = mapped_column(String(12), default="protection")
    # Where the centre sits: the region whose officials keep this row (their jurisdiction).
    seat_region: Mapped[str] = mapped_column(String(6), index=True)
    region_codes: Mapped[str] = mapped_column(Text, default="[]")
    fields: Mapped[str] = mapped_column(Text, default="[]")
    ipc_classes: Mapped[str] = mapped_column(Text, default="[]")
    words: Mapped[str] = mapped_column(Text, default="[]")
    application_types: Mapped[str] = mapped_column(Text, default="[]")
    contact: Mapped[str] = mapped_column(String(200), default="")
    record_url: Mapped[str | None] = mapped_column(String(300))
    # False until an official has checked the fields and area against the centre's own published rules.
    scope_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None] = mapped_column(Integer)


class CentreAudit(Base):
    """One line per change: who, when, what (the changed fields' old and new values, JSON)."""

    __tablename__ = "protection_centre_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # No foreign key: the audit outlives a deleted centre (its last line records what was removed).
    centre_id: Mapped[int] = mapped_column(BigId, index=True)
    action: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str] = mapped_column(String(12), default="")
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    changes: Mapped[str] = mapped_column(Text, default="{}")
