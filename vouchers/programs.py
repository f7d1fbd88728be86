"""Voucher programs: who pays (the budget), for what, for whom, how much and when — created by officials, listed
publicly with the agencies where their vouchers can be spent."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncSession

from agencies.catalogue import CreditLevel
from core.auth import Principal
from core.db import utcnow
from core.errors import NotFound, field_error
from core.regions import enclosing_codes
from vouchers import repository
from vouchers.models import ProgramService, VoucherProgram
from vouchers.permissions import PERMISSIONS, Action
from vouchers.schemas import ApplicationReview, ApplicationSettingsIn, ProgramIn, ProgramOut, ProgramQuery
from vouchers.views import participating, program_out


def apply_settings(program: VoucherProgram, data: ApplicationSettingsIn | None) -> None:
    """Write how the programme takes applications onto its row (None: it takes none; officials issue)."""
    if data is not None:
        closes = data.close_at or program.valid_until
        if data.open_at >= program.valid_until or closes > program.valid_until:
            raise field_error("applications", "applications must open and close within the programme's validity")
    program.applications_open_at = None if data is None else data.open_at
    program.applications_close_at = None if data is None else data.close_at
    program.application_documents = json.dumps([] if data is None else data.documents, ensure_ascii=False)
    program.application_review = (ApplicationReview.OFFICIAL if data is None else data.review).value


async def create_program(session: AsyncSession, principal: Principal | None, data: ProgramIn) -> ProgramOut:
    actor = PERMISSIONS.check(principal, Action.CREATE_PROGRAM)
    PERMISSIONS.check_region(actor, Action.CREATE_PROGRAM, data.region_code, "the programme")
    now = utcnow()
    if data.valid_until <= now:
        raise field_error("valid_until", "is in the past: the programme would be over before it starts")
    program = VoucherProgram(
        name=data.name,
        description=data.description,
        region_code=data.region_code,
        budget_fen=data.budget_fen,
        committed_fen=0,
        face_value_fen=data.face_value_fen,
        share_bp=data.share_bp,
        per_enterprise_year_cap_fen=data.per_enterprise_year_cap_fen,
        min_qualification=data.min_qualification.value,
        min_agency_level=None if data.min_agency_level is None else data.min_agency_level.value,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        voucher_validity_days=data.voucher_validity_days,
        settlement_cycle=data.settlement_cycle.value,
        created_by=actor.user_id,
        created_at=now,
    )
    apply_settings(program, data.applications)
    session.add(program)
    await session.flush()
    covered = sorted(s.value for s in data.services)
    session.add_all(ProgramService(program_id=program.id, service_code=code) for code in covered)
    await session.flush()
    return program_out(program, covered, await participating(session, program, covered), now)


def check_jurisdiction(actor: Principal, action: Action, program: VoucherProgram) -> None:
    """403 `outside_jurisdiction` when an official acts on a programme of a region outside their own: its vouchers,
    redemptions, flags and reports go with it."""
    PERMISSIONS.check_region(actor, action, program.region_code, f"programme {program.id}")


async def program_or_404(session: AsyncSession, program_id: int) -> VoucherProgram:
    program = await repository.program(session, program_id)
    if program is None:
        raise NotFound(f"no voucher programme {program_id}")
    return program


async def list_programs(session: AsyncSession, query: ProgramQuery) -> list[ProgramOut]:
    now = utcnow()
    programs = await repository.programs(
        session,
        region_prefixes=None if query.region is None else enclosing_codes(query.region),
        service=None if query.service is None else query.service.value,
        open_at=now if query.open_only else None,
    )
    services = await repository.program_services(session, [p.id for p in programs]) if programs else {}
    return [
        program_out(
            p,
            services[p.id],
            await participating(session, p, services[p.id], min_rating=query.min_rating, limit=20),
            now,
        )
        for p in programs
    ]


async def get_program(session: AsyncSession, program_id: int, min_rating: CreditLevel | None = None) -> ProgramOut:
    program = await program_or_404(session, program_id)
    covered = (await repository.program_services(session, [program.id]))[program.id]
    agencies = await participating(session, program, covered, min_rating=min_rating, limit=200)
    return program_out(program, covered, agencies, utcnow())
