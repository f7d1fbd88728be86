"""Agency queries (SQLAlchemy 2 `select()`); every rule and write decision lives in `agencies.service`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, case, exists, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from agencies.credit import ScoredEvent
from agencies.models import Agency, AgencyBranch, AgencyField, AgencyService, CreditEvent, Follow, RatingHistory

# A row of CARD_COLUMNS (Row is variadic in SQLAlchemy 2.1).
CardRow = Row[*tuple[Any, ...]]


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
    if not codes:
        return []
    query = select(Agency).where(Agency.credit_code.in_(list(codes))).order_by(Agency.id)
    if for_update:
        query = query.with_for_update()
    return list((await session.scalars(query)).all())


# ---------------------------------------------------------------- search


@dataclass(frozen=True, slots=True)
class SearchFilters:
    terms: tuple[str, ...] = ()  # lower-cased; each must occur in search_text
    exact: str | None = None  # the whole query, for relevance ranking
    code_range: tuple[str, str] | None = None
    service: str | None = None
    field: str | None = None
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
)


def _conditions(filters: SearchFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for term in filters.terms:
        conditions.append(Agency.search_text.contains(term, autoescape=True))
    if filters.code_range is not None:
        low, high = filters.code_range
        conditions.append(and_(Agency.region_code >= low, Agency.region_code < high))
    if filters.service is not None:
        conditions.append(
            exists().where(AgencyService.agency_id == Agency.id, AgencyService.service_code == filters.service)
        )
    if filters.field is not None:
        conditions.append(exists().where(AgencyField.agency_id == Agency.id, AgencyField.field_code == filters.field))
    if filters.levels is not None:
        conditions.append(Agency.credit_level.in_(filters.levels))
    if filters.accepts_vouchers is not None:
        conditions.append(Agency.accepts_vouchers.is_(filters.accepts_vouchers))
    return conditions


def _order(filters: SearchFilters, sort: str) -> list[ColumnElement[Any]]:
    by_rating: list[ColumnElement[Any]] = [Agency.credit_score.desc(), Agency.id.asc()]
    if sort == "rating":
        return by_rating
    if sort == "attorneys":
        return [(Agency.patent_attorneys + Agency.trademark_agents).desc(), *by_rating]
    if sort == "price":
        price = select(func.min(AgencyService.price_min_fen)).where(AgencyService.agency_id == Agency.id)
        if filters.service is not None:
            price = price.where(AgencyService.service_code == filters.service)
        return [price.scalar_subquery().asc().nulls_last(), *by_rating]
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
        return [rank.asc(), *by_rating]
    return by_rating


async def search(
    session: AsyncSession, filters: SearchFilters, *, sort: str, limit: int, offset: int
) -> tuple[list[CardRow], int]:
    """One page of matching agencies and the total; the total rides on the page query as a window count."""
    conditions = _conditions(filters)
    total_col = func.count(literal(1)).over().label("total")
    query = select(*CARD_COLUMNS, total_col).where(*conditions).order_by(*_order(filters, sort))
    rows = list((await session.execute(query.limit(limit).offset(offset))).all())
    if rows:
        return rows, int(rows[0].total)
    if offset == 0:
        return [], 0
    total = await session.scalar(select(func.count()).select_from(Agency).where(*conditions))
    return [], int(total or 0)


async def services_of(session: AsyncSession, agency_ids: Sequence[int]) -> dict[int, list[tuple[str, int, int]]]:
    result: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
    if not agency_ids:
        return result
    rows = await session.execute(
        select(
            AgencyService.agency_id,
            AgencyService.service_code,
            AgencyService.price_min_fen,
            AgencyService.price_max_fen,
        )
        .where(AgencyService.agency_id.in_(list(agency_ids)))
        .order_by(AgencyService.agency_id, AgencyService.service_code)
    )
    for agency_id, code, low, high in rows.all():
        result[agency_id].append((code, low, high))
    return result


async def fields_of(session: AsyncSession, agency_ids: Sequence[int]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = defaultdict(list)
    if not agency_ids:
        return result
    rows = await session.execute(
        select(AgencyField.agency_id, AgencyField.field_code)
        .where(AgencyField.agency_id.in_(list(agency_ids)))
        .order_by(AgencyField.agency_id, AgencyField.field_code)
    )
    for agency_id, code in rows.all():
        result[agency_id].append(code)
    return result


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


async def last_event_id(session: AsyncSession, agency_id: int) -> int | None:
    return await session.scalar(select(func.max(CreditEvent.id)).where(CreditEvent.agency_id == agency_id))


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


async def branches_of(session: AsyncSession, agency_id: int) -> list[AgencyBranch]:
    return list((await session.scalars(select(AgencyBranch).where(AgencyBranch.agency_id == agency_id))).all())
