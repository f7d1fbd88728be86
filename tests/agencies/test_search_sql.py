"""The search's region filter is written the way the indexes are built: a province or a city as
`substr(region_code, 1, n) = prefix` with n in the SQL text (the rating-order indexes of migration search_0001 are on
that expression, and an expression index serves only the same expression: a bound parameter for n would not match)
and as a range of codes (what the count's index-only scan of `ix_agencies_search_filters` needs); a district as the
range alone."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from agencies.models import Agency
from agencies.repository import SearchFilters, _conditions


def sql(filters: SearchFilters, dialect: object) -> str:
    statement = select(Agency.id).where(*_conditions(filters))
    return " ".join(str(statement.compile(dialect=dialect)).split())  # type: ignore[arg-type]


def test_a_province_or_a_city_is_the_indexed_prefix_expression() -> None:
    for dialect in (postgresql.dialect(), sqlite.dialect()):  # type: ignore[no-untyped-call]
        province = sql(SearchFilters(code_range=("12", "13")), dialect)
        assert "substr(agencies.region_code, 1, 2) = " in province and "agencies.region_code >= " in province
        city = sql(SearchFilters(code_range=("3205", "3206")), dialect)
        assert "substr(agencies.region_code, 1, 4) = " in city and "agencies.region_code < " in city


def test_a_district_and_a_range_that_is_no_prefix_stay_ranges() -> None:
    district = sql(SearchFilters(code_range=("330106", "330107")), postgresql.dialect())  # type: ignore[no-untyped-call]
    assert "substr" not in district and "agencies.region_code >= " in district
    odd = sql(SearchFilters(code_range=("12", "14")), postgresql.dialect())  # type: ignore[no-untyped-call]
    assert "substr" not in odd and "agencies.region_code < " in odd
