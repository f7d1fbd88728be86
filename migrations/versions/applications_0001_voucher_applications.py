"""Vouchers: programmes may take applications (opening and closing time, documents asked for, review by an official
or first come first served); enterprises' applications and their decision history

Revision ID: applications_0001
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "applications_0001"
down_revision: str | None = "credit_reviews_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFLECT = {"resolve_fks": False}
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("voucher_programs", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.add_column(sa.Column("applications_open_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("applications_close_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("application_documents", sa.Text(), server_default="[]", nullable=False))
        batch_op.add_column(
            sa.Column("application_review", sa.String(length=10), server_default="official", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_voucher_programs_application_review"), "application_review IN ('official','fcfs')"
        )
    op.create_table(
        "voucher_applications",
        sa.Column("id", ID, nullable=False),
        sa.Column("program_id", ID, nullable=False),
        sa.Column("enterprise_id", ID, nullable=False),
        sa.Column("enterprise_name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=30), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("applicant_user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("documents", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("voucher_id", ID, nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('submitted','approved','waitlisted','rejected')", name=op.f("ck_voucher_applications_state")
        ),
        sa.CheckConstraint(
            "(state = 'approved') = (voucher_id IS NOT NULL)",
            name=op.f("ck_voucher_applications_approved_has_voucher"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_voucher_applications_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["voucher_programs.id"], name=op.f("fk_voucher_applications_program_id_voucher_programs")
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["vouchers.id"], name=op.f("fk_voucher_applications_voucher_id_vouchers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_applications")),
        sa.UniqueConstraint(
            "program_id", "enterprise_id", name=op.f("uq_voucher_applications_program_id_enterprise_id")
        ),
        sa.UniqueConstraint("voucher_id", name=op.f("uq_voucher_applications_voucher_id")),
    )
    op.create_index(
        op.f("ix_voucher_applications_enterprise_id"), "voucher_applications", ["enterprise_id"], unique=False
    )
    op.create_index(op.f("ix_voucher_applications_region_code"), "voucher_applications", ["region_code"], unique=False)
    op.create_index(
        "ix_voucher_applications_program_state", "voucher_applications", ["program_id", "state", "id"], unique=False
    )
    op.create_table(
        "voucher_application_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("application_id", ID, nullable=False),
        sa.Column("from_state", sa.String(length=12), nullable=True),
        sa.Column("to_state", sa.String(length=12), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["voucher_applications.id"],
            name=op.f("fk_voucher_application_events_application_id_voucher_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_application_events")),
    )
    op.create_index(
        "ix_voucher_application_events_application",
        "voucher_application_events",
        ["application_id", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_voucher_application_events_application", table_name="voucher_application_events")
    op.drop_table("voucher_application_events")
    op.drop_index("ix_voucher_applications_program_state", table_name="voucher_applications")
    op.drop_index(op.f("ix_voucher_applications_region_code"), table_name="voucher_applications")
    op.drop_index(op.f("ix_voucher_applications_enterprise_id"), table_name="voucher_applications")
    op.drop_table("voucher_applications")
    with op.batch_alter_table("voucher_programs", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.drop_constraint(op.f("ck_voucher_programs_application_review"), type_="check")
        batch_op.drop_column("application_review")
        batch_op.drop_column("application_documents")
        batch_op.drop_column("applications_close_at")
        batch_op.drop_column("applications_open_at")
