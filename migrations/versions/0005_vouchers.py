"""Vouchers: programmes, vouchers, redemptions, the append-only audit ledger, flags, idempotency keys

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voucher_idempotency",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_idempotency")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_voucher_idempotency_user_id_key")),
    )
    op.create_table(
        "voucher_programs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("budget_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("committed_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("face_value_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("share_bp", sa.Integer(), nullable=False),
        sa.Column("per_enterprise_year_cap_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("min_qualification", sa.String(length=30), nullable=False),
        sa.Column("min_agency_level", sa.String(length=8), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voucher_validity_days", sa.Integer(), nullable=True),
        sa.Column("settlement_cycle", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "min_qualification IN ('none','provincial_specialized','national_little_giant')",
            name=op.f("ck_voucher_programs_min_qualification"),
        ),
        sa.CheckConstraint("budget_fen > 0", name=op.f("ck_voucher_programs_budget_positive")),
        sa.CheckConstraint(
            "committed_fen >= 0 AND committed_fen <= budget_fen",
            name=op.f("ck_voucher_programs_committed_within_budget"),
        ),
        sa.CheckConstraint(
            "face_value_fen > 0 AND face_value_fen <= budget_fen", name=op.f("ck_voucher_programs_face_value")
        ),
        sa.CheckConstraint("share_bp > 0 AND share_bp <= 10000", name=op.f("ck_voucher_programs_share_bp")),
        sa.CheckConstraint("valid_until > valid_from", name=op.f("ck_voucher_programs_window")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_programs")),
    )
    with op.batch_alter_table("voucher_programs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voucher_programs_region_code"), ["region_code"], unique=False)

    op.create_table(
        "voucher_program_services",
        sa.Column("program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("service_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["voucher_programs.id"],
            name=op.f("fk_voucher_program_services_program_id_voucher_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("program_id", "service_code", name=op.f("pk_voucher_program_services")),
    )
    op.create_table(
        "vouchers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("enterprise_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("face_value_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("balance_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('issued','partially_redeemed','redeemed','delivered','settled','expired','revoked')",
            name=op.f("ck_vouchers_state"),
        ),
        sa.CheckConstraint(
            "balance_fen >= 0 AND balance_fen <= face_value_fen", name=op.f("ck_vouchers_balance_range")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_vouchers_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["voucher_programs.id"], name=op.f("fk_vouchers_program_id_voucher_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouchers")),
    )
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vouchers_enterprise_id"), ["enterprise_id"], unique=False)
        batch_op.create_index("ix_vouchers_enterprise_state", ["enterprise_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_vouchers_program_id"), ["program_id"], unique=False)
        batch_op.create_index("ix_vouchers_state_expires", ["state", "expires_at"], unique=False)

    op.create_table(
        "voucher_redemptions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("voucher_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("enterprise_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("service_code", sa.String(length=40), nullable=False),
        sa.Column("price_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("amount_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("enterprise_share_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("contract_no", sa.String(length=80), nullable=True),
        sa.Column("invoice_no", sa.String(length=80), nullable=True),
        sa.Column("payment_proof", sa.String(length=300), nullable=True),
        sa.Column("deliverable", sa.String(length=300), nullable=True),
        sa.Column("confirmed_by", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("settled_by", sa.Integer(), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending','delivered','settled','rejected')", name=op.f("ck_voucher_redemptions_state")
        ),
        sa.CheckConstraint(
            "amount_fen > 0 AND amount_fen <= price_fen", name=op.f("ck_voucher_redemptions_amount_range")
        ),
        sa.CheckConstraint(
            "enterprise_share_fen = price_fen - amount_fen", name=op.f("ck_voucher_redemptions_enterprise_share")
        ),
        sa.CheckConstraint("price_fen > 0", name=op.f("ck_voucher_redemptions_price_positive")),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_voucher_redemptions_agency_id_agencies")),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_voucher_redemptions_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["voucher_programs.id"], name=op.f("fk_voucher_redemptions_program_id_voucher_programs")
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["vouchers.id"], name=op.f("fk_voucher_redemptions_voucher_id_vouchers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_redemptions")),
    )
    with op.batch_alter_table("voucher_redemptions", schema=None) as batch_op:
        batch_op.create_index("ix_voucher_redemptions_agency_state", ["agency_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_voucher_redemptions_enterprise_id"), ["enterprise_id"], unique=False)
        batch_op.create_index("ix_voucher_redemptions_program_state", ["program_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_voucher_redemptions_voucher_id"), ["voucher_id"], unique=False)

    op.create_table(
        "voucher_audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("voucher_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("redemption_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("redemption_from", sa.String(length=20), nullable=True),
        sa.Column("redemption_to", sa.String(length=20), nullable=True),
        sa.Column("amount_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("balance_delta_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("balance_after_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("program_delta_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["voucher_programs.id"], name=op.f("fk_voucher_audit_program_id_voucher_programs")
        ),
        sa.ForeignKeyConstraint(
            ["redemption_id"],
            ["voucher_redemptions.id"],
            name=op.f("fk_voucher_audit_redemption_id_voucher_redemptions"),
        ),
        sa.ForeignKeyConstraint(["voucher_id"], ["vouchers.id"], name=op.f("fk_voucher_audit_voucher_id_vouchers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_audit")),
    )
    with op.batch_alter_table("voucher_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voucher_audit_program_id"), ["program_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_voucher_audit_redemption_id"), ["redemption_id"], unique=False)
        batch_op.create_index("ix_voucher_audit_voucher", ["voucher_id", "id"], unique=False)

    op.create_table(
        "voucher_flags",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("redemption_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("enterprise_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('open','approved','rejected')", name=op.f("ck_voucher_flags_status")),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_voucher_flags_agency_id_agencies")),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_voucher_flags_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["voucher_programs.id"], name=op.f("fk_voucher_flags_program_id_voucher_programs")
        ),
        sa.ForeignKeyConstraint(
            ["redemption_id"],
            ["voucher_redemptions.id"],
            name=op.f("fk_voucher_flags_redemption_id_voucher_redemptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_flags")),
        sa.UniqueConstraint("redemption_id", "kind", name=op.f("uq_voucher_flags_redemption_id_kind")),
    )
    with op.batch_alter_table("voucher_flags", schema=None) as batch_op:
        batch_op.create_index("ix_voucher_flags_program_status", ["program_id", "status"], unique=False)
    _append_only_audit()


def _append_only_audit() -> None:
    """The audit ledger is append-only: the database itself refuses UPDATE (and, on PostgreSQL, DELETE).

    TRUNCATE (how the test suite empties PostgreSQL) fires no row triggers; SQLite keeps DELETE so tests can empty it.
    """
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION voucher_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'voucher_audit is append-only';
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER voucher_audit_append_only BEFORE UPDATE OR DELETE ON voucher_audit "
            "FOR EACH ROW EXECUTE FUNCTION voucher_audit_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER voucher_audit_append_only BEFORE UPDATE ON voucher_audit "
            "BEGIN SELECT RAISE(ABORT, 'voucher_audit is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS voucher_audit_append_only ON voucher_audit")
        op.execute("DROP FUNCTION IF EXISTS voucher_audit_append_only()")
    op.drop_table("voucher_flags")
    op.drop_table("voucher_audit")
    op.drop_table("voucher_redemptions")
    op.drop_table("vouchers")
    op.drop_table("voucher_program_services")
    op.drop_table("voucher_programs")
    op.drop_table("voucher_idempotency")
