"""Every rule and write about agencies. Other domains call the functions under "For other domains"."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from agencies.catalogue import CreditLevel, levels_at_least
from agencies.models import Agency, AgencyService

# ---------------------------------------------------------------- For other domains


@dataclass(frozen=True, slots=True)
class ServicePrice:
    service_code: str
    price_min_fen: int
    price_max_fen: int


@dataclass(frozen=True, slots=True)
class AgencySummary:
    """What vouchers, the assistant and pushes need to know about an agency."""

    id: int
    name_zh: str
    name_en: str | None
    region_code: str
    accepts_vouchers: bool
    credit_level: str
    credit_score: int
    patent_attorneys: int
    services: tuple[ServicePrice, ...]

    def offers(self, service_code: str) -> bool:
        return any(s.service_code == service_code for s in self.services)


def summary_of(agency: Agency) -> AgencySummary:
    return AgencySummary(
        id=agency.id,
        name_zh=agency.name_zh,
        name_en=agency.name_en,
        region_code=agency.region_code,
        accepts_vouchers=agency.accepts_vouchers,
        credit_level=agency.credit_level,
        credit_score=agency.credit_score,
        patent_attorneys=agency.patent_attorneys,
        services=tuple(ServicePrice(s.service_code, s.price_min_fen, s.price_max_fen) for s in agency.services),
    )


async def get_agency_summary(session: AsyncSession, agency_id: int) -> AgencySummary | None:
    agency = await session.scalar(select(Agency).where(Agency.id == agency_id).options(selectinload(Agency.services)))
    return None if agency is None else summary_of(agency)


def region_filter_prefix(region_code: str) -> str:
    """The code prefix a region filter matches: a province (xx0000) its cities, a city (xxxx00) its districts."""
    if region_code.endswith("0000"):
        return region_code[:2]
    if region_code.endswith("00"):
        return region_code[:4]
    return region_code


async def participating_agencies(
    session: AsyncSession,
    *,
    region_code: str,
    service_codes: list[str],
    min_level: CreditLevel | None = None,
    limit: int = 50,
) -> list[AgencySummary]:
    """Agencies that accept vouchers and offer one of `service_codes` within `region_code` (and its sub-regions)."""
    query = (
        select(Agency)
        .where(
            Agency.accepts_vouchers.is_(True),
            Agency.region_code.startswith(region_filter_prefix(region_code)),
            Agency.id.in_(select(AgencyService.agency_id).where(AgencyService.service_code.in_(service_codes))),
        )
        .options(selectinload(Agency.services))
        .order_by(Agency.credit_score.desc(), Agency.id)
        .limit(limit)
    )
    if min_level is not None:
        query = query.where(Agency.credit_level.in_([lvl.value for lvl in levels_at_least(min_level)]))
    return [summary_of(agency) for agency in (await session.scalars(query)).all()]
