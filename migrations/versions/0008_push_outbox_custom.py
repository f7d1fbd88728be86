"""WeChat push outbox: customer-service texts beside subscribe messages (expert answers to tickets)

A row is now a subscribe message (`kind='subscribe'`, as before) or a customer-service text (`kind='custom'`) to an
official-account follower, who may have no account here: `user_id` becomes nullable, and the row's identity is
(openid, template, subject, version) instead of (user, …) — the same for subscribe rows, where a user has one openid.
`undeliverable` records a final WeChat refusal of a customer-service text (45015 window over, 45047, 48001).

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OLD_STATES = "state IN ('pending','sending','sent','failed')"
NEW_STATES = "state IN ('pending','sending','sent','failed','undeliverable')"
# SQLite recreates the table from its reflection; the tables it refers to need not be reflected (users → agencies
# has an expression index SQLAlchemy warns it cannot reflect).
BATCH = {"reflect_kwargs": {"resolve_fks": False}}


def upgrade() -> None:
    with op.batch_alter_table("wechat_push_outbox", schema=None, **BATCH) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="subscribe"))
        batch_op.alter_column("user_id", existing_type=ID, nullable=True)
        batch_op.drop_constraint(op.f("uq_wechat_push_outbox_user_id_template_id_subject_version"), type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_wechat_push_outbox_openid_template_id_subject_version"),
            ["openid", "template_id", "subject", "version"],
        )
        batch_op.drop_constraint(op.f("ck_wechat_push_outbox_state"), type_="check")
        batch_op.create_check_constraint(op.f("ck_wechat_push_outbox_state"), NEW_STATES)
        batch_op.create_check_constraint(op.f("ck_wechat_push_outbox_kind"), "kind IN ('subscribe','custom')")


def downgrade() -> None:
    op.execute("DELETE FROM wechat_push_outbox WHERE kind = 'custom' OR user_id IS NULL")
    op.execute("UPDATE wechat_push_outbox SET state = 'failed' WHERE state = 'undeliverable'")
    with op.batch_alter_table("wechat_push_outbox", schema=None, **BATCH) as batch_op:
        batch_op.drop_constraint(op.f("ck_wechat_push_outbox_kind"), type_="check")
        batch_op.drop_constraint(op.f("ck_wechat_push_outbox_state"), type_="check")
        batch_op.create_check_constraint(op.f("ck_wechat_push_outbox_state"), OLD_STATES)
        batch_op.drop_constraint(op.f("uq_wechat_push_outbox_openid_template_id_subject_version"), type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_wechat_push_outbox_user_id_template_id_subject_version"),
            ["user_id", "template_id", "subject", "version"],
        )
        batch_op.alter_column("user_id", existing_type=ID, nullable=False)
        batch_op.drop_column("kind")
