"""Fast-track planner: the IP protection centres officials keep, and the audit of their changes

Revision ID: fast_track_0001
Revises: wechat_auth_0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "fast_track_0001"
down_revision: str | None = "knowledge_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "protection_centres",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("seat_region", sa.String(length=6), nullable=False),
        sa.Column("region_codes", sa.Text(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("ipc_classes", sa.Text(), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("application_types", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("record_url", sa.String(length=300), nullable=True),
        sa.Column("scope_confirmed", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('protection','fast_rights')", name=op.f("ck_protection_centres_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protection_centres")),
        sa.UniqueConstraint("name", name=op.f("uq_protection_centres_name")),
    )
    op.create_index(op.f("ix_protection_centres_seat_region"), "protection_centres", ["seat_region"])
    op.create_table(
        "protection_centre_audit",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("centre_id", BIG_ID, nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=12), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protection_centre_audit")),
    )
    op.create_index(op.f("ix_protection_centre_audit_centre_id"), "protection_centre_audit", ["centre_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_protection_centre_audit_centre_id"), table_name="protection_centre_audit")
    op.drop_table("protection_centre_audit")
    op.drop_index(op.f("ix_protection_centres_seat_region"), table_name="protection_centres")
    op.drop_table("protection_centres")
