"""Agency directory and credit ratings

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=True),
        sa.Column("short_name", sa.String(length=60), nullable=True),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("licence_no", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("contact_name", sa.String(length=60), nullable=False),
        sa.Column("contact_phone", sa.String(length=40), nullable=False),
        sa.Column("contact_email", sa.String(length=120), nullable=False),
        sa.Column("website", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("founded_year", sa.Integer(), nullable=False),
        sa.Column("patent_attorneys", sa.Integer(), nullable=False),
        sa.Column("trademark_agents", sa.Integer(), nullable=False),
        sa.Column("accepts_vouchers", sa.Boolean(), nullable=False),
        sa.Column("credit_score", sa.Integer(), nullable=False),
        sa.Column("credit_level", sa.String(length=8), nullable=False),
        sa.Column("credit_baseline", sa.Integer(), nullable=False),
        sa.Column("baseline_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("evaluated_on", sa.Date(), nullable=True),
        sa.Column("rating_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("services_mask", sa.Integer(), nullable=False),
        sa.Column("fields_mask", sa.Integer(), nullable=False),
        sa.Column("min_price_fen", sa.Integer(), nullable=True),
        sa.Column("services_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("credit_level IN ('A_plus','A','B','C','D')", name=op.f("ck_agencies_credit_level")),
        sa.CheckConstraint("kind IN ('patent','trademark','both')", name=op.f("ck_agencies_kind")),
        sa.CheckConstraint("patent_attorneys >= 0 AND trademark_agents >= 0", name=op.f("ck_agencies_staff_counts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
        sa.UniqueConstraint("credit_code", name=op.f("uq_agencies_credit_code")),
        sa.UniqueConstraint("licence_no", name=op.f("uq_agencies_licence_no")),
    )
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agencies_accepts_vouchers"), ["accepts_vouchers"], unique=False)
        batch_op.create_index("ix_agencies_level_score", ["credit_level", "credit_score"], unique=False)
        batch_op.create_index("ix_agencies_score_id", ["credit_score", "id"], unique=False)
        batch_op.create_index(
            "ix_agencies_search_filters",
            ["region_code", "credit_level", "accepts_vouchers", "services_mask", "fields_mask"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_agencies_region_code"), ["region_code"], unique=False)
    # `sort=attorneys` orders by this expression; an index on it lets a LIMIT stop early.
    op.create_index("ix_agencies_staff_total", "agencies", [sa.text("(patent_attorneys + trademark_agents)")])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Name searches (`q`) on PostgreSQL: a trigram index serves LIKE '%…%' on search_text (agencies.service
        # adds the pinyin of Chinese terms, which two-character names need). Without pg_trgm, a scan does it.
        available = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).scalar()
        if available:
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            op.execute("CREATE INDEX ix_agencies_search_text_trgm ON agencies USING gin (search_text gin_trgm_ops)")
    op.create_table(
        "agency_branches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_agency_branches_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_branches")),
    )
    with op.batch_alter_table("agency_branches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agency_branches_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agency_branches_region_code"), ["region_code"], unique=False)
    op.create_table(
        "agency_fields",
        sa.Column("agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("field_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_agency_fields_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agency_id", "field_code", name=op.f("pk_agency_fields")),
    )
    with op.batch_alter_table("agency_fields", schema=None) as batch_op:
        batch_op.create_index("ix_agency_fields_field", ["field_code", "agency_id"], unique=False)
    op.create_table(
        "agency_services",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("service_code", sa.String(length=40), nullable=False),
        sa.Column("price_min_fen", sa.Integer(), nullable=False),
        sa.Column("price_max_fen", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "price_min_fen >= 0 AND price_max_fen >= price_min_fen",
            name=op.f("ck_agency_services_price_range"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_agency_services_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_services")),
        sa.UniqueConstraint("agency_id", "service_code", name=op.f("uq_agency_services_agency_id_service_code")),
    )
    with op.batch_alter_table("agency_services", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agency_services_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index("ix_agency_services_service_price", ["service_code", "price_min_fen"], unique=False)
    op.create_table(
        "credit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reference_doc", sa.String(length=200), nullable=False),
        sa.Column("reverses_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_credit_events_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reverses_event_id"],
            ["credit_events.id"],
            name=op.f("fk_credit_events_reverses_event_id_credit_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_events")),
        sa.UniqueConstraint("reverses_event_id", name=op.f("uq_credit_events_reverses_event_id")),
    )
    with op.batch_alter_table("credit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_events_agency_id"), ["agency_id"], unique=False)
    op.create_table(
        "rating_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("previous_score", sa.Integer(), nullable=True),
        sa.Column("previous_level", sa.String(length=8), nullable=True),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("credit_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_rating_history_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["credit_event_id"],
            ["credit_events.id"],
            name=op.f("fk_rating_history_credit_event_id_credit_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_history")),
    )
    with op.batch_alter_table("rating_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_history_agency_id"), ["agency_id"], unique=False)


def downgrade() -> None:
    op.drop_table("rating_history")
    op.drop_table("credit_events")
    op.drop_table("agency_services")
    op.drop_table("agency_fields")
    op.drop_table("agency_branches")
    op.drop_table("agencies")
