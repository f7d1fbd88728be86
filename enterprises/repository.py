"""Queries over enterprises."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import Scope
from core.regions import prefix_of
from enterprises.models import Enterprise
from enterprises.schemas import EnterpriseQuery


async def by_id(session: AsyncSession, enterprise_id: int) -> Enterprise | None:
    return await session.get(Enterprise, enterprise_id)


async def by_id_for_update(session: AsyncSession, enterprise_id: int) -> Enterprise | None:
    return await session.scalar(select(Enterprise).where(Enterprise.id == enterprise_id).with_for_update())


async def by_credit_code(session: AsyncSession, credit_code: str) -> Enterprise | None:
    return await session.scalar(select(Enterprise).where(Enterprise.credit_code == credit_code))


async def by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Enterprise]:
    if not ids:
        return []
    return list((await session.scalars(select(Enterprise).where(Enterprise.id.in_(set(ids))))).all())


async def by_credit_codes(session: AsyncSession, codes: Sequence[str]) -> list[Enterprise]:
    if not codes:
        return []
    return list((await session.scalars(select(Enterprise).where(Enterprise.credit_code.in_(set(codes))))).all())


async def search(session: AsyncSession, query: EnterpriseQuery, scope: Scope) -> tuple[list[Enterprise], int]:
    """The enterprises matching `query` within `scope` (an official's jurisdiction)."""
    stmt = select(Enterprise).where(scope.where(enterprise=Enterprise.id, region=Enterprise.region_code))
    if query.q:
        like = f"%{query.q.strip()}%"
        stmt = stmt.where(Enterprise.name.ilike(like) | Enterprise.credit_code.ilike(like))
    if query.region:
        stmt = stmt.where(Enterprise.region_code.startswith(prefix_of(query.region)))
    if query.qualification is not None:
        stmt = stmt.where(Enterprise.qualification == query.qualification.value)
    if query.verification is not None:
        stmt = stmt.where(Enterprise.verification == query.verification)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = await session.scalars(
        stmt.order_by(Enterprise.id).offset((query.page - 1) * query.page_size).limit(query.page_size)
    )
    return list(rows.all()), total
