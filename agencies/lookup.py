"""Finding agencies: by id (or 404) for this package's operations, and as the summary other domains read."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from agencies import repository
from agencies.catalogue import CreditLevel, levels_at_least
from agencies.errors import AgencyNotFound
from agencies.models import Agency
from core.regions import prefix_of


async def existing_agency(session: AsyncSession, agency_id: int, *, for_update: bool = False) -> Agency:
    agency = await repository.get(session, agency_id, for_update=for_update)
    if agency is None:
        raise AgencyNotFound(agency_id)
    return agency


async def ensure_agency(session: AsyncSession, agency_id: int) -> None:
    """AgencyNotFound (404) unless the agency exists."""
    await existing_agency(session, agency_id)


# ---------------------------------------------------------------- summaries for other domains


@dataclass(frozen=True, slots=True)
class ServicePrice:
    service_code: str
    price_min_fen: int
    price_max_fen: int


@dataclass(frozen=True, slots=True)
class AgencyContact:
    """Who and where an agency is, for the vouchers' related-party check."""

    contact_name: str
    address: str
    contact_phone: str


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
    contact: AgencyContact  # read with the rest: a redemption's related-party check needs no second statement

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
        contact=AgencyContact(agency.contact_name, agency.address, agency.contact_phone),
    )


async def get_agency_summary(session: AsyncSession, agency_id: int) -> AgencySummary | None:
    agency = await repository.with_services(session, agency_id)
    return None if agency is None else summary_of(agency)


async def participating_agencies(
    session: AsyncSession,
    *,
    region_code: str,
    service_codes: list[str],
    min_level: CreditLevel | None = None,
    limit: int = 50,
) -> list[AgencySummary]:
    """Agencies that accept vouchers and offer one of `service_codes` within `region_code` (and its sub-regions)."""
    agencies = await repository.participating(
        session,
        region_prefix=prefix_of(region_code),
        service_codes=service_codes,
        levels=None if min_level is None else [level.value for level in levels_at_least(min_level)],
        limit=limit,
    )
    return [summary_of(agency) for agency in agencies]


async def get_agency_contact(session: AsyncSession, agency_id: int) -> AgencyContact | None:
    agency = await repository.get(session, agency_id)
    if agency is None:
        return None
    return AgencyContact(agency.contact_name, agency.address, agency.contact_phone)
