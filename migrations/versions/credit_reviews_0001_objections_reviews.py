"""Agencies: credit objections, an audit of credit and review actions, review replies and hiding, and the card
columns search shows (objections open, review count and sum)

Revision ID: credit_reviews_0001
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "credit_reviews_0001"
down_revision: str | None = "onboarding_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Plain ADD COLUMN with a constant default: no table rebuild on SQLite (the agencies table has an expression
    # index a batch rebuild could not reflect), a metadata-only change on PostgreSQL.
    for name in ("objections_open", "review_count", "review_total"):
        op.add_column("agencies", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    # Reviews written before this revision are all visible: their count and sum start the card columns.
    op.execute(
        "UPDATE agencies SET review_count = (SELECT count(*) FROM agency_reviews r WHERE r.agency_id = agencies.id),"
        " review_total = (SELECT coalesce(sum(r.rating), 0) FROM agency_reviews r WHERE r.agency_id = agencies.id)"
    )

    op.add_column("agency_reviews", sa.Column("reply", sa.Text(), nullable=True))
    op.add_column("agency_reviews", sa.Column("replied_by", sa.Integer(), nullable=True))
    op.add_column("agency_reviews", sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("agency_reviews", sa.Column("hidden_reason", sa.Text(), nullable=True))
    op.add_column("agency_reviews", sa.Column("hidden_by", sa.Integer(), nullable=True))
    op.add_column("agency_reviews", sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "credit_objections",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("agency_id", BIG_ID, nullable=False),
        sa.Column("event_id", BIG_ID, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("filed_by", sa.Integer(), nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decision_reference_doc", sa.String(length=200), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reversal_event_id", BIG_ID, nullable=True),
        sa.CheckConstraint("state IN ('pending','upheld','reversed')", name=op.f("ck_credit_objections_state")),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_credit_objections_agency_id_agencies"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["credit_events.id"], name=op.f("fk_credit_objections_event_id_credit_events")
        ),
        sa.ForeignKeyConstraint(
            ["reversal_event_id"],
            ["credit_events.id"],
            name=op.f("fk_credit_objections_reversal_event_id_credit_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_objections")),
        sa.UniqueConstraint("event_id", name=op.f("uq_credit_objections_event_id")),
    )
    with op.batch_alter_table("credit_objections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_objections_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index("ix_credit_objections_state_id", ["state", "id"], unique=False)

    op.create_table(
        "agency_audit",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("agency_id", BIG_ID, nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("subject_id", BIG_ID, nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_agency_audit_agency_id_agencies"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_audit")),
    )
    with op.batch_alter_table("agency_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agency_audit_agency_id"), ["agency_id"], unique=False)


def downgrade() -> None:
    op.drop_table("agency_audit")
    op.drop_table("credit_objections")
    for name in ("hidden_at", "hidden_by", "hidden_reason", "replied_at", "replied_by", "reply"):
        op.drop_column("agency_reviews", name)
    for name in ("review_total", "review_count", "objections_open"):
        op.drop_column("agencies", name)
