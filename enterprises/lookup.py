"""Finding enterprises: by id (or 404) for this package's operations, and as the summary other domains read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ScalarSelect, SQLColumnExpression, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from enterprises import repository
from enterprises.catalogue import Qualification
from enterprises.models import Enterprise


async def existing_enterprise(session: AsyncSession, enterprise_id: int) -> Enterprise:
    enterprise = await repository.by_id(session, enterprise_id)
    if enterprise is None:
        raise NotFound(f"no enterprise {enterprise_id}")
    return enterprise


# ---------------------------------------------------------------- summaries for other domains


@dataclass(frozen=True, slots=True)
class EnterpriseSummary:
    """What vouchers (eligibility, anti-abuse checks) and the assistant need to know about an enterprise."""

    id: int
    name: str
    credit_code: str
    region_code: str
    qualification: Qualification
    qualification_expires_on: dt.date | None
    legal_representative: str
    address: str
    phone: str
    # `verified` (registered by an official, or verified since), `pending` or `rejected` (registered by staff).
    verification: str = "verified"

    def qualification_on(self, day: dt.date) -> Qualification:
        """The qualification that counts on `day`: a certification past its expiry counts as none."""
        if self.qualification_expires_on is not None and self.qualification_expires_on < day:
            return Qualification.NONE
        return self.qualification


def summary_of(enterprise: Enterprise) -> EnterpriseSummary:
    return EnterpriseSummary(
        id=enterprise.id,
        name=enterprise.name,
        credit_code=enterprise.credit_code,
        region_code=enterprise.region_code,
        qualification=Qualification(enterprise.qualification),
        qualification_expires_on=enterprise.qualification_expires_on,
        legal_representative=enterprise.legal_representative,
        address=enterprise.address,
        phone=enterprise.phone,
        verification=enterprise.verification,
    )


async def get_enterprise_summary(session: AsyncSession, enterprise_id: int) -> EnterpriseSummary | None:
    enterprise = await repository.by_id(session, enterprise_id)
    return None if enterprise is None else summary_of(enterprise)


async def enterprise_summaries(session: AsyncSession, ids: Sequence[int]) -> dict[int, EnterpriseSummary]:
    return {e.id: summary_of(e) for e in await repository.by_ids(session, ids)}


async def enterprises_by_credit_code(session: AsyncSession, codes: Sequence[str]) -> dict[str, EnterpriseSummary]:
    return {e.credit_code: summary_of(e) for e in await repository.by_credit_codes(session, codes)}


async def enterprise_by_credit_code(session: AsyncSession, credit_code: str) -> EnterpriseSummary | None:
    enterprise = await repository.by_credit_code(session, credit_code)
    return None if enterprise is None else summary_of(enterprise)


def region_of(enterprise_id: SQLColumnExpression[int]) -> ScalarSelect[str]:
    """The region code of the enterprise `enterprise_id` names, as an expression other domains' queries filter by
    (`Scope.where(region=...)`)."""
    return select(Enterprise.region_code).where(Enterprise.id == enterprise_id).scalar_subquery()
