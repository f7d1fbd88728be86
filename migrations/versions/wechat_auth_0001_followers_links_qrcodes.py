"""WeChat sign-in: official-account followers linked to users, one-time sign-in / link links, poster QR codes

`wechat_followers` holds each official-account openid and its user (the mini-program openid stays in `users`);
`sign_in_links` the one-time links the chat sends (and the hand-over after web authorization), as hashes;
`wechat_qr_codes` the poster QR codes with a scene and their scan counts.

Revision ID: wechat_auth_0001
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "wechat_auth_0001"
down_revision: str | None = "applications_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wechat_qr_codes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("scene", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("ticket", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subscribe_scans", sa.Integer(), nullable=False),
        sa.Column("scan_scans", sa.Integer(), nullable=False),
        sa.Column("last_scan_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('agency','program')", name=op.f("ck_wechat_qr_codes_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_qr_codes")),
        sa.UniqueConstraint("scene", name=op.f("uq_wechat_qr_codes_scene")),
    )
    op.create_table(
        "sign_in_links",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("openid", sa.String(length=64), nullable=True),
        sa.Column("next_path", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "purpose <> 'link_wechat' OR openid IS NOT NULL", name=op.f("ck_sign_in_links_link_has_openid")
        ),
        sa.CheckConstraint(
            "purpose <> 'sign_in' OR user_id IS NOT NULL", name=op.f("ck_sign_in_links_sign_in_has_user")
        ),
        sa.CheckConstraint("purpose IN ('sign_in','link_wechat')", name=op.f("ck_sign_in_links_purpose")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sign_in_links_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sign_in_links_token_hash")),
    )
    with op.batch_alter_table("sign_in_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_links_user_id"), ["user_id"], unique=False)

    op.create_table(
        "wechat_followers",
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_wechat_followers_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("openid", name=op.f("pk_wechat_followers")),
        sa.UniqueConstraint("user_id", name=op.f("uq_wechat_followers_user_id")),
    )


def downgrade() -> None:
    op.drop_table("wechat_followers")
    with op.batch_alter_table("sign_in_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_links_user_id"))

    op.drop_table("sign_in_links")
    op.drop_table("wechat_qr_codes")
