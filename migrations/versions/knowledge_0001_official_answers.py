"""Assistant: officials' answers to groups of unanswered questions (the knowledge loop), their audit, and the links
from the questions and the asker's tickets to them

Revision ID: knowledge_0001
Revises: wechat_auth_0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "knowledge_0001"
down_revision: str | None = "search_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REFLECT = {"resolve_fks": False}


def upgrade() -> None:
    op.create_table(
        "assistant_knowledge",
        sa.Column("id", ID, nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("intent", sa.String(length=60), nullable=False),
        sa.Column("source_document", sa.String(length=300), nullable=False),
        sa.Column("source_article", sa.String(length=200), nullable=False),
        sa.Column("source_date", sa.Date(), nullable=False),
        sa.Column("source_status", sa.String(length=12), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("updated_by", ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active','withdrawn')", name=op.f("ck_assistant_knowledge_status")),
        sa.CheckConstraint("lang IN ('zh','en')", name=op.f("ck_assistant_knowledge_lang")),
        sa.CheckConstraint(
            "source_status IN ('draft','in_force','superseded')", name=op.f("ck_assistant_knowledge_source_status")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_assistant_knowledge_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_assistant_knowledge_updated_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_knowledge")),
    )
    with op.batch_alter_table("assistant_knowledge", schema=None) as batch_op:
        batch_op.create_index("ix_assistant_knowledge_status", ["status", "expires_on"], unique=False)

    op.create_table(
        "assistant_knowledge_audit",
        sa.Column("id", ID, nullable=False),
        sa.Column("answer_id", ID, nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("actor_user_id", ID, nullable=True),
        sa.Column("questions", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action IN ('published','edited','withdrawn')", name=op.f("ck_assistant_knowledge_audit_action")
        ),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["assistant_knowledge.id"],
            name=op.f("fk_assistant_knowledge_audit_answer_id_assistant_knowledge"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name=op.f("fk_assistant_knowledge_audit_actor_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_knowledge_audit")),
    )
    with op.batch_alter_table("assistant_knowledge_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assistant_knowledge_audit_answer_id"), ["answer_id"], unique=False)

    for table in ("assistant_unanswered", "assistant_tickets"):
        with op.batch_alter_table(table, schema=None, reflect_kwargs=REFLECT) as batch_op:
            batch_op.add_column(sa.Column("knowledge_answer_id", ID, nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_knowledge_answer_id"), ["knowledge_answer_id"], unique=False)
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_knowledge_answer_id_assistant_knowledge"),
                "assistant_knowledge",
                ["knowledge_answer_id"],
                ["id"],
                ondelete="SET NULL",
            )


def downgrade() -> None:
    for table in ("assistant_tickets", "assistant_unanswered"):
        with op.batch_alter_table(table, schema=None, reflect_kwargs=REFLECT) as batch_op:
            batch_op.drop_constraint(
                batch_op.f(f"fk_{table}_knowledge_answer_id_assistant_knowledge"), type_="foreignkey"
            )
            batch_op.drop_index(batch_op.f(f"ix_{table}_knowledge_answer_id"))
            batch_op.drop_column("knowledge_answer_id")
    with op.batch_alter_table("assistant_knowledge_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assistant_knowledge_audit_answer_id"))
    op.drop_table("assistant_knowledge_audit")
    with op.batch_alter_table("assistant_knowledge", schema=None) as batch_op:
        batch_op.drop_index("ix_assistant_knowledge_status")
    op.drop_table("assistant_knowledge")
