"""WeChat's tables: the push outbox, subscribe consents counted per user and template, the customer-service log.

The webhook's dedup / in-flight records live in the cache (shared by every process, minutes of life); nothing
about them needs to outlast that.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId, UtcDateTime, utcnow

PUSH_STATES = ("pending", "sending", "sent", "failed", "undeliverable")
PUSH_KINDS = ("subscribe", "custom")


class PushOutbox(Base):
    """A message to send, written in the same transaction as the change it tells of.

    `kind` says what it is: a mini-program subscribe message (`template_id`, `data` = the template's fields, `page`;
    the worker takes one consent per send) or an official-account customer-service text (`template_id` empty,
    `data` = `{"chunks": [...], "sent": n, "fallback": ...}`; no consent, but WeChat's 48-hour window).
    (openid, template, subject, version) is unique, so the same news is never queued twice; the worker moves a row
    pending → sending → sent | failed | undeliverable and never sends a row twice. `user_id` is empty for an
    official-account follower who has no account here.
    """

    __tablename__ = "wechat_push_outbox"
    __table_args__ = (
        UniqueConstraint("openid", "template_id", "subject", "version"),
        CheckConstraint("state IN ('pending','sending','sent','failed','undeliverable')", name="state"),
        CheckConstraint("kind IN ('subscribe','custom')", name="kind"),
        Index("ix_wechat_push_outbox_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="subscribe", server_default="subscribe")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    openid: Mapped[str] = mapped_column(String(64))
    template_id: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))  # "agency:12", "voucher:7", "ticket:3"
    version: Mapped[str] = mapped_column(String(80))  # which change of the subject
    data: Mapped[str] = mapped_column(Text)  # JSON: template field -> value, or the text's chunks
    page: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class SubscribeConsent(Base):
    """How many sends a user has allowed for a template. One consent allows one send; WeChat cannot be asked."""

    __tablename__ = "wechat_subscribe_consents"
    __table_args__ = (CheckConstraint("remaining >= 0", name="remaining_not_negative"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    template_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    remaining: Mapped[int] = mapped_column(Integer, default=0)
    granted_total: Mapped[int] = mapped_column(Integer, default=0)
    used_total: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class CustomMessage(Base):
    """A customer-service message (an answer that missed the 5 s deadline, or the rest of a long one).

    (inbound_key, seq) is unique: a piece of an answer is written before it is sent, so it goes out once.
    """

    __tablename__ = "wechat_custom_messages"
    __table_args__ = (
        UniqueConstraint("inbound_key", "seq"),
        CheckConstraint("state IN ('sending','sent','failed')", name="state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    inbound_key: Mapped[str] = mapped_column(String(160))
    seq: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="sending")
    errcode: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class QrCode(Base):
    """A poster QR code (`qrcode/create`, permanent, with a scene string) and how often it was scanned.

    `scene` is `agency:<id>` or `program:<id>`. Scans are counted by the webhook, once per scan event (its dedup):
    `subscribe_scans` by people who followed through it, `scan_scans` by followers who already were.
    """

    __tablename__ = "wechat_qr_codes"
    __table_args__ = (CheckConstraint("kind IN ('agency','program')", name="kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scene: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int] = mapped_column(BigId)
    ticket: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    subscribe_scans: Mapped[int] = mapped_column(Integer, default=0)
    scan_scans: Mapped[int] = mapped_column(Integer, default=0)
    last_scan_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
