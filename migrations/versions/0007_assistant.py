"""Assistant: consultation tickets and unanswered questions

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "assistant_tickets",
        sa.Column("id", ID, nullable=False),
        sa.Column("sender_id", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("enterprise_id", ID, nullable=True),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_by", ID, nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open','in_progress','answered','closed')", name=op.f("ck_assistant_tickets_status")
        ),
        sa.CheckConstraint("lang IN ('zh','en')", name=op.f("ck_assistant_tickets_lang")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_assistant_tickets_user_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_assistant_tickets_enterprise_id_enterprises"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["answered_by"], ["users.id"], name=op.f("fk_assistant_tickets_answered_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_tickets")),
    )
    with op.batch_alter_table("assistant_tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assistant_tickets_sender_id"), ["sender_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assistant_tickets_user_id"), ["user_id"], unique=False)
        batch_op.create_index("ix_assistant_tickets_status_created", ["status", "created_at"], unique=False)

    op.create_table(
        "assistant_unanswered",
        sa.Column("id", ID, nullable=False),
        sa.Column("sender_id", sa.String(length=100), nullable=False),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("intent", sa.String(length=60), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "reason IN ('out_of_scope','low_confidence','handoff')", name=op.f("ck_assistant_unanswered_reason")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_assistant_unanswered_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_unanswered")),
    )
    with op.batch_alter_table("assistant_unanswered", schema=None) as batch_op:
        batch_op.create_index("ix_assistant_unanswered_created", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("assistant_unanswered")
    op.drop_table("assistant_tickets")
