"""Agency search: indexes that walk one province or one city in rating order, and all agencies in price order

A region filter is a province (`substr(region_code, 1, 2)`) or a city (`substr(region_code, 1, 4)`); with an index
on (that prefix, credit_score DESC, id) a page sorted by rating reads the region's best rows and stops, where the
planner walked the whole rating index backwards and filtered (300 ms for Tianjin with a service and a field on 50,000
agencies). `sort=price` without a service orders by (min_price_fen, credit_score DESC, id), which had no index (a
sort of every match). Expression indexes: the same on PostgreSQL and SQLite.

Revision ID: search_0001
Revises: wechat_auth_0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "search_0001"
down_revision: str | None = "wechat_auth_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_agencies_province_score",
        "agencies",
        [sa.text("substr(region_code, 1, 2)"), sa.text("credit_score DESC"), "id"],
    )
    op.create_index(
        "ix_agencies_city_score",
        "agencies",
        [sa.text("substr(region_code, 1, 4)"), sa.text("credit_score DESC"), "id"],
    )
    op.create_index("ix_agencies_min_price_score", "agencies", ["min_price_fen", sa.text("credit_score DESC"), "id"])


def downgrade() -> None:
    op.drop_index("ix_agencies_min_price_score", table_name="agencies")
    op.drop_index("ix_agencies_city_score", table_name="agencies")
    op.drop_index("ix_agencies_province_score", table_name="agencies")
