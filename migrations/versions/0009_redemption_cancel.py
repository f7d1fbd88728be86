"""Vouchers: a pending redemption can be cancelled (state `cancelled`, who, when and why)

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = "'pending','delivered','settled','rejected'"
# SQLite rebuilds the table from its reflection; the tables its foreign keys name need not be reflected too (the
# agencies table has an expression index SQLAlchemy cannot reflect, and says so in a warning).
REFLECT = {"resolve_fks": False}


def upgrade() -> None:
    with op.batch_alter_table("voucher_redemptions", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("cancelled_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f("ck_voucher_redemptions_state"), type_="check")
        batch_op.create_check_constraint(op.f("ck_voucher_redemptions_state"), f"state IN ({STATES},'cancelled')")


def downgrade() -> None:
    """Refused by the database while a cancelled redemption exists (the old constraint does not allow it)."""
    with op.batch_alter_table("voucher_redemptions", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.drop_constraint(op.f("ck_voucher_redemptions_state"), type_="check")
        batch_op.create_check_constraint(op.f("ck_voucher_redemptions_state"), f"state IN ({STATES})")
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("cancelled_by")
        batch_op.drop_column("cancel_reason")
