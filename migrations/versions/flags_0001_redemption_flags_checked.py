"""Vouchers: a redemption's anti-abuse flags are raised after its commit, by a worker; `flags_checked_at` records it

Redemptions made before this revision had their flags raised inside the redemption's transaction: they are marked
checked (at their creation). The partial index finds what the worker has still to look at without reading the rest.

Revision ID: flags_0001
Revises: fast_track_0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "flags_0001"
down_revision: str | None = "fast_track_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNCHECKED = "flags_checked_at IS NULL"


def upgrade() -> None:
    op.add_column("voucher_redemptions", sa.Column("flags_checked_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE voucher_redemptions SET flags_checked_at = created_at")
    op.create_index(
        "ix_voucher_redemptions_flags_unchecked",
        "voucher_redemptions",
        ["id"],
        postgresql_where=sa.text(UNCHECKED),
        sqlite_where=sa.text(UNCHECKED),
    )


def downgrade() -> None:
    """Flags not raised yet are lost with the column: run the worker to the end (`drain`) first."""
    op.drop_index("ix_voucher_redemptions_flags_unchecked", table_name="voucher_redemptions")
    with op.batch_alter_table("voucher_redemptions", schema=None, reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.drop_column("flags_checked_at")
