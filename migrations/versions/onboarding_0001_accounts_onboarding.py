"""Onboarding and jurisdictions: officials' regions, administrators, enterprise memberships, agency invitations,
the account audit; enterprises registered by their own staff wait for verification

Revision ID: onboarding_0001
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "onboarding_0001"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFLECT = {"resolve_fks": False}
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OPEN = "status IN ('pending','approved')"


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.add_column(sa.Column("region_code", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=False, server_default=""))
        batch_op.create_index(batch_op.f("ix_users_region_code"), ["region_code"], unique=False)
    # Officials made before jurisdictions acted on every region: they keep doing so, as national officials.
    op.execute("UPDATE users SET region_code = '000000' WHERE role = 'official' AND region_code IS NULL")
    with op.batch_alter_table("users", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_users_official_has_region"), "role <> 'official' OR region_code IS NOT NULL"
        )
    with op.batch_alter_table("enterprises", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.add_column(sa.Column("verification", sa.String(length=10), nullable=False, server_default="verified"))
        batch_op.add_column(sa.Column("registered_by", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_enterprises_verification"), "verification IN ('verified','pending','rejected')"
        )
    op.create_table(
        "enterprise_memberships",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("enterprise_id", ID, nullable=False),
        sa.Column("person_name", sa.String(length=60), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("registered_enterprise", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", ID, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending','approved','rejected','removed')", name=op.f("ck_enterprise_memberships_status")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_enterprise_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_enterprise_memberships_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_enterprise_memberships_decided_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_memberships")),
    )
    with op.batch_alter_table("enterprise_memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enterprise_memberships_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enterprise_memberships_enterprise_id"), ["enterprise_id"], unique=False)
        batch_op.create_index(
            "uq_enterprise_memberships_open_user",
            ["user_id"],
            unique=True,
            sqlite_where=sa.text(OPEN),
            postgresql_where=sa.text(OPEN),
        )
    op.create_table(
        "agency_invitations",
        sa.Column("id", ID, nullable=False),
        sa.Column("agency_id", ID, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("invitee_name", sa.String(length=60), nullable=False),
        sa.Column("created_by", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by", ID, nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_agency_invitations_agency_id_agencies")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_agency_invitations_created_by_users")),
        sa.ForeignKeyConstraint(["accepted_by"], ["users.id"], name=op.f("fk_agency_invitations_accepted_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_invitations")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_agency_invitations_code_hash")),
    )
    with op.batch_alter_table("agency_invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agency_invitations_agency_id"), ["agency_id"], unique=False)
    op.create_table(
        "account_audit",
        sa.Column("id", ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("actor_user_id", ID, nullable=True),
        sa.Column("subject_user_id", ID, nullable=True),
        sa.Column("enterprise_id", ID, nullable=True),
        sa.Column("agency_id", ID, nullable=True),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_audit")),
    )
    with op.batch_alter_table("account_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_audit_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_account_audit_subject_user_id"), ["subject_user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_account_audit_region_code"), ["region_code"], unique=False)


def downgrade() -> None:
    op.drop_table("account_audit")
    op.drop_table("agency_invitations")
    op.drop_table("enterprise_memberships")
    with op.batch_alter_table("enterprises", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.drop_constraint(op.f("ck_enterprises_verification"), type_="check")
        batch_op.drop_column("registered_by")
        batch_op.drop_column("verification")
    with op.batch_alter_table("users", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_official_has_region"), type_="check")
        batch_op.drop_index(batch_op.f("ix_users_region_code"))
        batch_op.drop_column("phone")
        batch_op.drop_column("is_admin")
        batch_op.drop_column("region_code")
