"""WeChat: push outbox, subscribe consents, customer-service message log

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wechat_custom_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("inbound_key", sa.String(length=160), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("errcode", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('sending','sent','failed')", name=op.f("ck_wechat_custom_messages_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_custom_messages")),
        sa.UniqueConstraint("inbound_key", "seq", name=op.f("uq_wechat_custom_messages_inbound_key_seq")),
    )
    with op.batch_alter_table("wechat_custom_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wechat_custom_messages_openid"), ["openid"], unique=False)

    op.create_table(
        "wechat_push_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("page", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('pending','sending','sent','failed')", name=op.f("ck_wechat_push_outbox_state")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_wechat_push_outbox_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_push_outbox")),
        sa.UniqueConstraint(
            "user_id",
            "template_id",
            "subject",
            "version",
            name=op.f("uq_wechat_push_outbox_user_id_template_id_subject_version"),
        ),
    )
    with op.batch_alter_table("wechat_push_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_wechat_push_outbox_due", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_wechat_push_outbox_user_id"), ["user_id"], unique=False)

    op.create_table(
        "wechat_subscribe_consents",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("granted_total", sa.Integer(), nullable=False),
        sa.Column("used_total", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("remaining >= 0", name=op.f("ck_wechat_subscribe_consents_remaining_not_negative")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_wechat_subscribe_consents_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "template_id", name=op.f("pk_wechat_subscribe_consents")),
    )


def downgrade() -> None:
    op.drop_table("wechat_subscribe_consents")
    op.drop_table("wechat_push_outbox")
    op.drop_table("wechat_custom_messages")
