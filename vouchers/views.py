"""Voucher rows as the API shows them. Where a schema only copies a row's fields, pydantic reads them
(`from_attributes`); the mappers written out here compute something: labels, the state as of now, where a voucher
can be spent."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from agencies.catalogue import LEVEL_ORDER, SERVICES, CreditLevel, ServiceCode
from agencies.service import AgencySummary, participating_agencies
from core.db import utcnow
from enterprises.catalogue import QUALIFICATION_LABELS, Qualification
from vouchers import flags as flagging
from vouchers import repository
from vouchers.models import Redemption, Voucher, VoucherFlag, VoucherProgram
from vouchers.schemas import (
    AgencyBrief,
    AgencyServicePrice,
    ApplicationReview,
    ApplicationSettingsOut,
    Eligibility,
    FlagOut,
    IneligibilityOut,
    ProgramOut,
    RedemptionOut,
    ServiceOut,
    VoucherOut,
)
from vouchers.states import SPENDABLE, VOUCHER_LABELS, VoucherState
from vouchers.transitions import effective_state, expiry_reason

USABLE_AT_LIMIT = 10


def services_out(codes: Sequence[str]) -> list[ServiceOut]:
    out = []
    for code in codes:
        service = ServiceCode(code)
        label = SERVICES[service]
        out.append(ServiceOut(code=service, label_zh=label.zh, label_en=label.en))
    return out


def _stricter_level(a: CreditLevel | None, b: CreditLevel | None) -> CreditLevel | None:
    if a is None or b is None:
        return a or b
    return a if LEVEL_ORDER.index(a) < LEVEL_ORDER.index(b) else b


def _agency_brief(agency: AgencySummary, covered: Sequence[str]) -> AgencyBrief:
    return AgencyBrief(
        id=agency.id,
        name_zh=agency.name_zh,
        name_en=agency.name_en,
        region_code=agency.region_code,
        credit_level=agency.credit_level,
        credit_score=agency.credit_score,
        services=[
            AgencyServicePrice(code=s.service_code, price_min_fen=s.price_min_fen, price_max_fen=s.price_max_fen)
            for s in agency.services
            if s.service_code in covered
        ],
    )


async def participating(
    session: AsyncSession,
    program: VoucherProgram,
    covered: Sequence[str],
    *,
    min_rating: CreditLevel | None = None,
    limit: int = 50,
) -> list[AgencyBrief]:
    """The agencies where the program's vouchers can be spent, with their prices for the covered services."""
    program_level = CreditLevel(program.min_agency_level) if program.min_agency_level else None
    agencies = await participating_agencies(
        session,
        region_code=program.region_code,
        service_codes=list(covered),
        min_level=_stricter_level(program_level, min_rating),
        limit=limit,
    )
    return [_agency_brief(a, covered) for a in agencies]


def eligibility_out(program: VoucherProgram) -> Eligibility:
    qualification = Qualification(program.min_qualification)
    zh, en = QUALIFICATION_LABELS[qualification]
    return Eligibility(region_code=program.region_code, min_qualification=qualification, label_zh=zh, label_en=en)


def window_problem(program: VoucherProgram, now: dt.datetime) -> IneligibilityOut | None:
    """Why no application can be submitted now (takes none, not yet open, closed, programme over); None if one can."""
    if program.applications_open_at is None:
        return IneligibilityOut(code="closed", message=f"programme {program.id} does not take applications")
    if now >= program.valid_until:
        return IneligibilityOut(
            code="program_over", message=f"the programme ended at {program.valid_until.isoformat()}"
        )
    if now < program.applications_open_at:
        return IneligibilityOut(
            code="not_open_yet", message=f"applications open at {program.applications_open_at.isoformat()}"
        )
    if program.applications_close_at is not None and now >= program.applications_close_at:
        return IneligibilityOut(
            code="closed", message=f"applications closed at {program.applications_close_at.isoformat()}"
        )
    return None


def settings_out(program: VoucherProgram, now: dt.datetime) -> ApplicationSettingsOut | None:
    """How the programme takes applications (None: it takes none)."""
    if program.applications_open_at is None:
        return None
    return ApplicationSettingsOut(
        open_at=program.applications_open_at,
        close_at=program.applications_close_at,
        documents=json.loads(program.application_documents),
        review=ApplicationReview(program.application_review),
        accepting=window_problem(program, now) is None,
    )


def program_out(
    program: VoucherProgram, covered: Sequence[str], agencies: list[AgencyBrief], now: dt.datetime
) -> ProgramOut:
    return ProgramOut(
        id=program.id,
        name=program.name,
        description=program.description,
        region_code=program.region_code,
        services=services_out(covered),
        face_value_fen=program.face_value_fen,
        share_bp=program.share_bp,
        per_enterprise_year_cap_fen=program.per_enterprise_year_cap_fen,
        eligibility=eligibility_out(program),
        min_agency_level=program.min_agency_level,
        valid_from=program.valid_from,
        valid_until=program.valid_until,
        voucher_validity_days=program.voucher_validity_days,
        settlement_cycle=program.settlement_cycle,
        is_open=program.valid_from <= now < program.valid_until,
        budget_fen=program.budget_fen,
        remaining_budget_fen=program.budget_fen - program.committed_fen,
        participating_agencies=agencies,
        applications=settings_out(program, now),
    )


async def vouchers_out(session: AsyncSession, vouchers: Sequence[Voucher], *, with_usable_at: bool) -> list[VoucherOut]:
    """Each voucher as of now; with `with_usable_at`, where a spendable one can be spent (looked up once a program)."""
    program_ids = {v.program_id for v in vouchers}
    programs = {pid: await repository.program(session, pid) for pid in program_ids}
    services = await repository.program_services(session, list(program_ids)) if program_ids else {}
    now = utcnow()
    usable: dict[int, list[AgencyBrief]] = {}
    out = []
    for voucher in vouchers:
        program = programs[voucher.program_id]
        assert program is not None
        state = effective_state(voucher, now)
        spendable = state in SPENDABLE and now >= program.valid_from
        agencies: list[AgencyBrief] = []
        if with_usable_at and spendable:
            if program.id not in usable:
                usable[program.id] = await participating(session, program, services[program.id], limit=USABLE_AT_LIMIT)
            agencies = usable[program.id]
        out.append(_voucher_out(voucher, program, services[program.id], state, spendable, agencies))
    return out


def _voucher_out(
    voucher: Voucher,
    program: VoucherProgram,
    covered: Sequence[str],
    state: VoucherState,
    spendable: bool,
    usable_at: list[AgencyBrief],
) -> VoucherOut:
    zh, en = VOUCHER_LABELS[state]
    reason = voucher.state_reason
    if state is VoucherState.EXPIRED and VoucherState(voucher.state) is not VoucherState.EXPIRED:
        reason = expiry_reason(voucher)
    return VoucherOut(
        id=voucher.id,
        program_id=voucher.program_id,
        program_name=program.name,
        enterprise_id=voucher.enterprise_id,
        face_value_fen=voucher.face_value_fen,
        balance_fen=voucher.balance_fen,
        state=state,
        state_label_zh=zh,
        state_label_en=en,
        state_reason=reason,
        issued_at=voucher.issued_at,
        expires_at=voucher.expires_at,
        share_bp=program.share_bp,
        services=services_out(covered),
        spendable=spendable,
        usable_at=usable_at,
    )


def flag_out(flag: VoucherFlag) -> FlagOut:
    return FlagOut(
        id=flag.id,
        program_id=flag.program_id,
        redemption_id=flag.redemption_id,
        agency_id=flag.agency_id,
        enterprise_id=flag.enterprise_id,
        kind=flag.kind,
        description=flagging.DESCRIPTIONS.get(flag.kind, flag.kind),
        evidence=json.loads(flag.evidence),
        status=flag.status,
        created_at=flag.created_at,
        resolved_by=flag.resolved_by,
        resolution_reason=flag.resolution_reason,
    )


def redemption_out(
    redemption: Redemption, flags: Sequence[VoucherFlag] = (), voucher: Voucher | None = None
) -> RedemptionOut:
    """The redemption's own fields, with its flags and (after a change) the voucher's balance and state."""
    out = RedemptionOut.model_validate(redemption)
    out.flags = [flag_out(f) for f in flags]
    if voucher is not None:
        out.voucher_balance_fen = voucher.balance_fen
        out.voucher_state = VoucherState(voucher.state)
    return out
