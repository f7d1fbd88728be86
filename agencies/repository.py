"""Agency queries (SQLAlchemy 2 `select()`); every rule and write decision lives in the package's service modules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, case, exists, func, literal_column, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from agencies.credit import ScoredEvent
from agencies.models import (
    Agency,
    AgencyAudit,
    AgencyService,
    CreditEvent,
    CreditObjection,
    Follow,
    RatingHistory,
    Review,
)

# A row of CARD_COLUMNS (Row is variadic in SQLAlchemy 2.1).
CardRow = Row[*tuple[Any, ...]]

# Ids or codes per IN list: a whole import file (20,000 rows) would exceed the drivers' bound-parameter limits.
IN_CHUNK = 1000


async def get(session: AsyncSession, agency_id: int, *, for_update: bool = False) -> Agency | None:
    query = select(Agency).where(Agency.id == agency_id)
    if for_update:
        # Serialises rating changes of one agency: two concurrent credit events both count.
        query = query.with_for_update()
    return await session.scalar(query)


async def get_full(session: AsyncSession, agency_id: int, *, for_update: bool = False) -> Agency | None:
    query = (
        select(Agency)
        .where(Agency.id == agency_id)
        .options(selectinload(Agency.services), selectinload(Agency.fields), selectinload(Agency.branches))
    )
    if for_update:
        query = query.with_for_update(of=Agency)
    return await session.scalar(query)


async def id_by_credit_code(session: AsyncSession, credit_code: str) -> int | None:
    return await session.scalar(select(Agency.id).where(Agency.credit_code == credit_code))


async def id_by_licence(session: AsyncSession, licence_no: str) -> int | None:
    return await session.scalar(select(Agency.id).where(Agency.licence_no == licence_no))


async def by_credit_codes(session: AsyncSession, codes: Sequence[str], *, for_update: bool = False) -> list[Agency]:
    """The agencies with these codes, IN_CHUNK codes per query (each chunk in id order)."""
    found: list[Agency] = []
    for start in range(0, len(codes), IN_CHUNK):
        query = select(Agency).where(Agency.credit_code.in_(list(codes[start : start + IN_CHUNK]))).order_by(Agency.id)
        if for_update:
            query = query.with_for_update()
        found.extend((await session.scalars(query)).all())
    return found


async def with_services(session: AsyncSession, agency_id: int) -> Agency | None:
    """The agency and its services in one statement (a join: one agency has a handful of services)."""
    query = select(Agency).where(Agency.id == agency_id).options(joinedload(Agency.services))
    return (await session.scalars(query)).unique().first()


async def participating(
    session: AsyncSession, *, region_prefix: str, service_codes: Sequence[str], levels: Sequence[str] | None, limit: int
) -> list[Agency]:
    """Agencies accepting vouchers under `region_prefix` that offer one of `service_codes`, best rated first."""
    query = (
        select(Agency)
        .where(
            Agency.accepts_vouchers.is_(True),
            Agency.region_code.startswith(region_prefix),
            Agency.id.in_(select(AgencyService.agency_id).where(AgencyService.service_code.in_(list(service_codes)))),
        )
        .options(selectinload(Agency.services))
        .order_by(Agency.credit_score.desc(), Agency.id)
        .limit(limit)
    )
    if levels is not None:
        query = query.where(Agency.credit_level.in_(list(levels)))
    return list((await session.scalars(query)).all())


# ---------------------------------------------------------------- search


@dataclass(frozen=True, slots=True)
class SearchFilters:
    terms: tuple[str, ...] = ()  # lower-cased; each must occur in search_text
    # Per term: pinyin readings of which one must occur too (narrows through the trigram index on PostgreSQL).
    pinyin_hints: tuple[tuple[str, ...], ...] = ()
    exact: str | None = None  # the whole query, for relevance ranking
    code_range: tuple[str, str] | None = None
    service: str | None = None
    service_bit: int = 0
    field_bit: int = 0
    levels: tuple[str, ...] | None = None
    accepts_vouchers: bool | None = None


CARD_COLUMNS = (
    Agency.id,
    Agency.name_zh,
    Agency.name_en,
    Agency.short_name,
    Agency.kind,
    Agency.region_code,
    Agency.credit_level,
    Agency.credit_score,
    Agency.patent_attorneys,
    Agency.trademark_agents,
    Agency.accepts_vouchers,
    Agency.services_json,
    Agency.fields_mask,
    Agency.objections_open,
    Agency.review_count,
    Agency.review_total,
)


def _conditions(filters: SearchFilters) -> list[ColumnElement[bool]]:
    """Every filter is a condition on the agencies row itself (services and fields by bit), so the page and the
    count read one table."""
    conditions: list[ColumnElement[bool]] = []
    for term in filters.terms:
        conditions.append(Agency.search_text.contains(term, autoescape=True))
    for readings in filters.pinyin_hints:
        if readings:
            conditions.append(or_(*(Agency.search_text.contains(r, autoescape=True) for r in readings)))
    if filters.code_range is not None:
        conditions.append(_region_condition(*filters.code_range))
    if filters.service_bit:
        conditions.append(Agency.services_mask.op("&")(filters.service_bit) != 0)
    if filters.field_bit:
        conditions.append(Agency.fields_mask.op("&")(filters.field_bit) != 0)
    if filters.levels is not None:
        conditions.append(Agency.credit_level.in_(filters.levels))
    if filters.accepts_vouchers is not None:
        conditions.append(Agency.accepts_vouchers.is_(filters.accepts_vouchers))
    return conditions


def _region_condition(low: str, high: str) -> ColumnElement[bool]:
    """A range of region codes; a province's or a city's also as the prefix the indexes of migration search_0001 are
    on (the numbers are written into the SQL: an expression index serves only the same expression).

    Both, because each serves another query: a page in rating order walks the prefix index and stops after the
    page, while a count is an index-only scan of `ix_agencies_search_filters` over the range (with the prefix alone
    the count read the table's rows: 2.7 times the buffers across the bench's search mix)."""
    in_range = and_(Agency.region_code >= low, Agency.region_code < high)
    if len(low) in (2, 4) and high == str(int(low) + 1).zfill(len(low)):
        prefix = func.substr(Agency.region_code, literal_column("1"), literal_column(str(len(low))))
        return and_(prefix == low, in_range)
    return in_range


def _page_query(filters: SearchFilters, sort: str) -> Select[*tuple[Any, ...]]:
    by_rating: list[ColumnElement[Any]] = [Agency.credit_score.desc(), Agency.id.asc()]
    query = select(*CARD_COLUMNS).where(*_conditions(filters))
    if sort == "rating":
        return query.order_by(*by_rating)
    if sort == "attorneys":
        return query.order_by((Agency.patent_attorneys + Agency.trademark_agents).desc(), *by_rating)
    if sort == "price":
        if filters.service is not None:
            # The requested service's own price: walk that service's prices in order (index on service, price).
            return query.join(
                AgencyService,
                and_(AgencyService.agency_id == Agency.id, AgencyService.service_code == filters.service),
            ).order_by(AgencyService.price_min_fen.asc(), *by_rating)
        return query.order_by(Agency.min_price_fen.asc().nulls_last(), *by_rating)
    # relevance: with a query, exact names first, then names starting with it, then the rest; all by rating.
    if filters.exact:
        exact = filters.exact
        rank = case(
            (or_(Agency.name_zh == exact, Agency.short_name == exact, func.lower(Agency.name_en) == exact), 0),
            (
                or_(
                    Agency.name_zh.startswith(exact, autoescape=True),
                    Agency.short_name.startswith(exact, autoescape=True),
                ),
                1,
            ),
            else_=2,
        )
        return query.order_by(rank.asc(), *by_rating)
    return query.order_by(*by_rating)


async def search(
    session: AsyncSession, filters: SearchFilters, *, sort: str, limit: int, offset: int
) -> tuple[list[CardRow], int]:
    """One page of matching agencies and the total.

    The page query stops after `limit` rows (no window count, which would visit every match); the total is a
    separate count over the same conditions, skipped when the first page already shows everything.
    """
    rows = list((await session.execute(_page_query(filters, sort).limit(limit).offset(offset))).all())
    if offset == 0 and len(rows) < limit:
        return rows, len(rows)
    total = await session.scalar(select(func.count()).select_from(Agency).where(*_conditions(filters)))
    return rows, int(total or 0)


async def cards_by_ids(session: AsyncSession, agency_ids: Sequence[int]) -> list[CardRow]:
    if not agency_ids:
        return []
    rows = await session.execute(select(*CARD_COLUMNS).where(Agency.id.in_(list(agency_ids))))
    by_id = {row.id: row for row in rows.all()}
    return [by_id[i] for i in agency_ids if i in by_id]


# ---------------------------------------------------------------- credit record


async def counted_events(session: AsyncSession, agency_id: int, after_event_id: int | None) -> list[ScoredEvent]:
    """Live events (not reversed, not reversals) recorded after the baseline."""
    reversal = CreditEvent.__table__.alias("reversal")
    query = select(CreditEvent.category, CreditEvent.points).where(
        CreditEvent.agency_id == agency_id,
        CreditEvent.reverses_event_id.is_(None),
        ~exists().where(reversal.c.reverses_event_id == CreditEvent.id),
    )
    if after_event_id is not None:
        query = query.where(CreditEvent.id > after_event_id)
    return [ScoredEvent(category, points) for category, points in (await session.execute(query)).all()]


async def events_of(session: AsyncSession, agency_id: int) -> list[CreditEvent]:
    query = select(CreditEvent).where(CreditEvent.agency_id == agency_id).order_by(CreditEvent.id.desc())
    return list((await session.scalars(query)).all())


async def event(session: AsyncSession, agency_id: int, event_id: int) -> CreditEvent | None:
    return await session.scalar(
        select(CreditEvent).where(CreditEvent.id == event_id, CreditEvent.agency_id == agency_id)
    )


async def reversal_of(session: AsyncSession, event_id: int) -> int | None:
    return await session.scalar(select(CreditEvent.id).where(CreditEvent.reverses_event_id == event_id))


async def last_event_ids(session: AsyncSession, agency_ids: Sequence[int]) -> dict[int, int]:
    """Each agency's newest credit event id (agencies without events are absent)."""
    last: dict[int, int] = {}
    for start in range(0, len(agency_ids), IN_CHUNK):
        result = await session.execute(
            select(CreditEvent.agency_id, func.max(CreditEvent.id))
            .where(CreditEvent.agency_id.in_(list(agency_ids[start : start + IN_CHUNK])))
            .group_by(CreditEvent.agency_id)
        )
        last.update({agency_id: event_id for agency_id, event_id in result.all()})
    return last


async def history_of(session: AsyncSession, agency_id: int, limit: int = 50) -> list[RatingHistory]:
    query = (
        select(RatingHistory).where(RatingHistory.agency_id == agency_id).order_by(RatingHistory.id.desc()).limit(limit)
    )
    return list((await session.scalars(query)).all())


# ---------------------------------------------------------------- follows


async def follower_count(session: AsyncSession, agency_id: int) -> int:
    return int(await session.scalar(select(func.count()).where(Follow.agency_id == agency_id)) or 0)


async def is_following(session: AsyncSession, user_id: int, agency_id: int) -> bool:
    found = await session.scalar(select(Follow.user_id).where(Follow.user_id == user_id, Follow.agency_id == agency_id))
    return found is not None


async def add_follow(session: AsyncSession, user_id: int, agency_id: int) -> None:
    """Insert unless present; a concurrent duplicate is absorbed by the primary key."""
    if await is_following(session, user_id, agency_id):
        return
    try:
        async with session.begin_nested():
            session.add(Follow(user_id=user_id, agency_id=agency_id))
            await session.flush()
    except IntegrityError:
        pass


async def remove_follow(session: AsyncSession, user_id: int, agency_id: int) -> None:
    follow = await session.get(Follow, (user_id, agency_id))
    if follow is not None:
        await session.delete(follow)
        await session.flush()


async def followed_ids(session: AsyncSession, user_id: int) -> list[int]:
    query = (
        select(Follow.agency_id).where(Follow.user_id == user_id).order_by(Follow.created_at.desc(), Follow.agency_id)
    )
    return list((await session.scalars(query)).all())


async def follower_user_ids(session: AsyncSession, agency_id: int) -> list[int]:
    return list((await session.scalars(select(Follow.user_id).where(Follow.agency_id == agency_id))).all())


# ---------------------------------------------------------------- reviews

VISIBLE = Review.hidden_at.is_(None)


async def review_summary(session: AsyncSession, agency_id: int) -> tuple[int, float | None]:
    """Count and average of the agency's visible reviews."""
    count, average = (
        await session.execute(
            select(func.count(Review.id), func.avg(Review.rating)).where(Review.agency_id == agency_id, VISIBLE)
        )
    ).one()
    return int(count), None if average is None else float(average)


async def reviews_of(
    session: AsyncSession, agency_id: int, shown: ColumnElement[bool] = VISIBLE, limit: int = 50
) -> list[Review]:
    """The agency's reviews the `shown` condition lets through (visible ones by default), newest first."""
    query = select(Review).where(Review.agency_id == agency_id, shown).order_by(Review.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def review(session: AsyncSession, agency_id: int, review_id: int) -> Review | None:
    return await session.scalar(select(Review).where(Review.id == review_id, Review.agency_id == agency_id))


async def review_for_redemption(session: AsyncSession, redemption_id: int) -> int | None:
    return await session.scalar(select(Review.id).where(Review.redemption_id == redemption_id))


async def claim_review_change(session: AsyncSession, review_id: int, *, unset: Any, values: dict[str, Any]) -> bool:
    """Set `values` on the review only if the column `unset` is still NULL: of two concurrent replies (or hides)
    exactly one wins. Whether this one did."""
    result = await session.execute(
        update(Review)
        .where(Review.id == review_id, unset.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release_hidden_review(session: AsyncSession, review_id: int) -> bool:
    """Show a hidden review again, only if it is still hidden: of two concurrent restores exactly one wins."""
    result = await session.execute(
        update(Review)
        .where(Review.id == review_id, Review.hidden_at.is_not(None))
        .values(hidden_at=None, hidden_by=None, hidden_reason=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def add_to_review_totals(session: AsyncSession, agency_id: int, *, count: int, total: int) -> None:
    """The visible reviews' count and sum on the agency row (what result cards show), in one atomic UPDATE."""
    await session.execute(
        update(Agency)
        .where(Agency.id == agency_id)
        .values(review_count=Agency.review_count + count, review_total=Agency.review_total + total)
        .execution_options(synchronize_session=False)
    )


# ---------------------------------------------------------------- objections and audit


async def objection(
    session: AsyncSession, agency_id: int, objection_id: int, *, for_update: bool = False
) -> CreditObjection | None:
    query = select(CreditObjection).where(CreditObjection.id == objection_id, CreditObjection.agency_id == agency_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def objection_for_event(
    session: AsyncSession, event_id: int, *, for_update: bool = False
) -> CreditObjection | None:
    query = select(CreditObjection).where(CreditObjection.event_id == event_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def objections_of_agency(session: AsyncSession, agency_id: int) -> list[CreditObjection]:
    query = select(CreditObjection).where(CreditObjection.agency_id == agency_id).order_by(CreditObjection.id.desc())
    return list((await session.scalars(query)).all())


async def objections(
    session: AsyncSession, within: ColumnElement[bool], *, state: str | None, agency_id: int | None, limit: int
) -> list[tuple[CreditObjection, CreditEvent, str, int | None]]:
    """Objections `within` allows, with their event, the agency's name and its baseline event, pending first,
    oldest first."""
    query = (
        select(CreditObjection, CreditEvent, Agency.name_zh, Agency.baseline_event_id)
        .join(CreditEvent, CreditEvent.id == CreditObjection.event_id)
        .join(Agency, Agency.id == CreditObjection.agency_id)
        .where(within)
        .order_by(case((CreditObjection.state == "pending", 0), else_=1), CreditObjection.id)
        .limit(limit)
    )
    if state is not None:
        query = query.where(CreditObjection.state == state)
    if agency_id is not None:
        query = query.where(CreditObjection.agency_id == agency_id)
    return [(o, e, name, baseline) for o, e, name, baseline in (await session.execute(query)).all()]


async def audit_of(session: AsyncSession, agency_id: int, limit: int = 500) -> list[AgencyAudit]:
    query = select(AgencyAudit).where(AgencyAudit.agency_id == agency_id).order_by(AgencyAudit.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())
