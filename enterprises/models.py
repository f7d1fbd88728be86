"""Enterprise tables. Other domains use enterprises through `enterprises.service`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId, UtcDateTime, utcnow


class Enterprise(Base):
    __tablename__ = "enterprises"
    __table_args__ = (
        CheckConstraint(
            "qualification IN ('none','provincial_specialized','national_little_giant')", name="qualification"
        ),
        CheckConstraint("verification IN ('verified','pending','rejected')", name="verification"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    industry: Mapped[str] = mapped_column(String(60), default="")
    qualification: Mapped[str] = mapped_column(String(30), default="none")
    certificate_no: Mapped[str | None] = mapped_column(String(60))
    qualification_expires_on: Mapped[dt.date | None] = mapped_column(Date)
    qualification_verified_by: Mapped[int | None] = mapped_column()
    legal_representative: Mapped[str] = mapped_column(String(60), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    # Registered by an official: verified. Registered by its own staff in the mini-program: pending until an
    # official verifies it (`accounts.memberships`).
    verification: Mapped[str] = mapped_column(String(10), default="verified")
    registered_by: Mapped[int | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
