"""Profiles: reading an agency's profile, officials registering agencies, and editing a profile (officials any
field but the rating; agency staff their own agency's editable fields)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agencies import repository
from agencies.catalogue import FIELDS, PATENT_SERVICES, AgencyKind, FieldCode, ServiceCode
from agencies.credit import level_for
from agencies.errors import AgencyNotFound, DuplicateAgency
from agencies.models import Agency, AgencyBranch, AgencyField, AgencyService, RatingHistory
from agencies.permissions import (
    PERMISSIONS,
    REGULATED_FIELDS,
    STAFF_EDITABLE_FIELDS,
    Action,
    check_agency_region,
    check_own_agency,
    check_patch_fields,
)
from agencies.reviews import review_summary
from agencies.schemas import (
    AgencyDetail,
    AgencyIn,
    AgencyPatch,
    BranchIn,
    BranchOut,
    FieldOut,
    RatingChangeOut,
    ServicePriceIn,
)
from agencies.search import card_columns, invalidate_search, search_text_for, set_card_columns
from agencies.serialisers import rating_out, region_out, services_out
from core import regions
from core.auth import Principal, Role
from core.cache import Cache
from core.credit_code import credit_code_problem
from core.db import utcnow
from core.errors import field_error

# ---------------------------------------------------------------- reading


async def detail(session: AsyncSession, principal: Principal | None, agency_id: int) -> AgencyDetail:
    agency = await repository.get_full(session, agency_id)
    if agency is None:
        raise AgencyNotFound(agency_id)
    history = await repository.history_of(session, agency_id)
    following = None
    if principal is not None and principal.role is Role.ENTERPRISE:
        following = await repository.is_following(session, principal.user_id, agency_id)
    return AgencyDetail(
        id=agency.id,
        name_zh=agency.name_zh,
        name_en=agency.name_en,
        short_name=agency.short_name,
        credit_code=agency.credit_code,
        licence_no=agency.licence_no,
        kind=AgencyKind(agency.kind),
        region=region_out(agency.region_code),
        address=agency.address,
        contact_name=agency.contact_name,
        contact_phone=agency.contact_phone,
        contact_email=agency.contact_email,
        website=agency.website,
        description=agency.description,
        founded_year=agency.founded_year,
        patent_attorneys=agency.patent_attorneys,
        trademark_agents=agency.trademark_agents,
        accepts_vouchers=agency.accepts_vouchers,
        rating=rating_out(agency),
        rating_history=[RatingChangeOut.model_validate(change) for change in history],
        services=services_out([(s.service_code, s.price_min_fen, s.price_max_fen) for s in agency.services]),
        fields=[_field_out(FieldCode(f.field_code)) for f in sorted(agency.fields, key=lambda f: f.field_code)],
        branches=[BranchOut(region=region_out(b.region_code), address=b.address) for b in agency.branches],
        followers=await repository.follower_count(session, agency_id),
        following=following,
        reviews=await review_summary(session, agency_id),
    )


def _field_out(code: FieldCode) -> FieldOut:
    return FieldOut(code=code, label_zh=FIELDS[code].zh, label_en=FIELDS[code].en)


# ---------------------------------------------------------------- checks shared by register and edit


def _check_region(field: str, code: str) -> None:
    if not regions.is_valid_code(code):
        raise field_error(field, f"{code} is not a GB/T 2260 code of a mainland province, city or district")


def _check_services_fit_kind(kind: AgencyKind, services: Sequence[ServicePriceIn] | Sequence[str]) -> None:
    codes = {s.service if isinstance(s, ServicePriceIn) else ServiceCode(s) for s in services}
    if kind is AgencyKind.TRADEMARK:
        patent_only = sorted(
            code.value for code in codes & PATENT_SERVICES if code is not ServiceCode.LITIGATION_SUPPORT
        )
        if patent_only:
            raise field_error("services", f"a trademark agency cannot offer patent services: {', '.join(patent_only)}")
    if kind is AgencyKind.PATENT and ServiceCode.TRADEMARK_REGISTRATION in codes:
        raise field_error("services", "a patent-only agency cannot offer trademark_registration")


def _check_credit_code(code: str) -> None:
    problem = credit_code_problem(code)
    if problem is not None:
        raise field_error("credit_code", problem)


async def _check_unique(
    session: AsyncSession, *, credit_code: str | None, licence_no: str | None, agency_id: int | None
) -> None:
    if credit_code is not None:
        owner = await repository.id_by_credit_code(session, credit_code)
        if owner is not None and owner != agency_id:
            raise DuplicateAgency(
                f"agency {owner} already has credit code {credit_code}",
                details={"agency_id": owner, "field": "credit_code"},
            )
    if licence_no is not None:
        owner = await repository.id_by_licence(session, licence_no)
        if owner is not None and owner != agency_id:
            raise DuplicateAgency(
                f"agency {owner} already has licence {licence_no}", details={"agency_id": owner, "field": "licence_no"}
            )


def _check_branches(branches: Sequence[BranchIn]) -> None:
    for i, branch in enumerate(branches):
        _check_region(f"branches.{i}.region_code", branch.region_code)


# ---------------------------------------------------------------- register


async def register(session: AsyncSession, cache: Cache, principal: Principal | None, body: AgencyIn) -> AgencyDetail:
    """An official registers an agency; it starts at full marks (100, level A)."""
    acting = PERMISSIONS.check(principal, Action.REGISTER)
    PERMISSIONS.check_region(acting, Action.REGISTER, body.region_code, "the agency")
    _check_credit_code(body.credit_code)
    _check_region("region_code", body.region_code)
    _check_branches(body.branches)
    _check_services_fit_kind(body.kind, body.services)
    await _check_unique(session, credit_code=body.credit_code, licence_no=body.licence_no, agency_id=None)
    now = utcnow()
    agency = Agency(
        name_zh=body.name_zh,
        name_en=body.name_en,
        short_name=body.short_name,
        credit_code=body.credit_code,
        licence_no=body.licence_no,
        kind=body.kind.value,
        region_code=body.region_code,
        address=body.address,
        contact_name=body.contact_name,
        contact_phone=body.contact_phone,
        contact_email=body.contact_email,
        website=body.website,
        description=body.description,
        founded_year=body.founded_year,
        patent_attorneys=body.patent_attorneys,
        trademark_agents=body.trademark_agents,
        accepts_vouchers=body.accepts_vouchers,
        credit_score=100,
        credit_level=level_for(100).value,
        credit_baseline=100,
        rating_updated_at=now,
        search_text=search_text_for(body.name_zh, body.name_en, body.short_name),
        **card_columns(
            [(s.service.value, s.price_min_fen, s.price_max_fen) for s in body.services], [f.value for f in body.fields]
        ),
    )
    try:
        async with session.begin_nested():
            session.add(agency)
            await session.flush()
    except IntegrityError:
        raise DuplicateAgency("an agency with this credit code or licence number exists") from None
    for s in body.services:
        session.add(
            AgencyService(
                agency_id=agency.id,
                service_code=s.service.value,
                price_min_fen=s.price_min_fen,
                price_max_fen=s.price_max_fen,
            )
        )
    for f in body.fields:
        session.add(AgencyField(agency_id=agency.id, field_code=f.value))
    for b in body.branches:
        session.add(AgencyBranch(agency_id=agency.id, region_code=b.region_code, address=b.address))
    session.add(
        RatingHistory(
            agency_id=agency.id,
            score=agency.credit_score,
            level=agency.credit_level,
            cause="initial",
            note="registered",
            changed_by=acting.user_id,
            changed_at=now,
        )
    )
    await session.flush()
    invalidate_search(session, cache)
    return await detail(session, acting, agency.id)


# ---------------------------------------------------------------- edit

# Patchable fields that cannot be cleared: every one the model does not allow NULL in (lists included), derived
# from the table and the permission sets so a new field needs no third list.
_NOT_NULL = frozenset(
    name
    for name in REGULATED_FIELDS | STAFF_EDITABLE_FIELDS
    if name not in Agency.__table__.columns or not Agency.__table__.columns[name].nullable
)
_SCALARS = (
    "name_zh",
    "name_en",
    "short_name",
    "credit_code",
    "licence_no",
    "region_code",
    "founded_year",
    "address",
    "contact_name",
    "contact_phone",
    "contact_email",
    "website",
    "description",
    "patent_attorneys",
    "trademark_agents",
    "accepts_vouchers",
)


async def update(
    session: AsyncSession, cache: Cache, principal: Principal | None, agency_id: int, patch: AgencyPatch
) -> AgencyDetail:
    """Change a profile: officials any field, agency staff their own agency's editable fields (403 naming others)."""
    acting = PERMISSIONS.check(principal, Action.EDIT_PROFILE)
    check_own_agency(acting, Action.EDIT_PROFILE, agency_id)
    sent = set(patch.model_fields_set)
    check_patch_fields(acting, sent)
    for name in sorted(sent & _NOT_NULL):
        if getattr(patch, name) is None:
            raise field_error(name, "must not be null")
    agency = await repository.get_full(session, agency_id, for_update=True)
    if agency is None:
        raise AgencyNotFound(agency_id)
    check_agency_region(acting, Action.EDIT_PROFILE, agency.id, agency.region_code)
    if "region_code" in sent and patch.region_code is not None:
        check_agency_region(acting, Action.EDIT_PROFILE, agency.id, patch.region_code)
    await _check_patch(session, agency, patch)
    _apply_patch(agency, patch, sent)
    agency.updated_at = utcnow()
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise DuplicateAgency("another agency has this credit code or licence number") from None
    invalidate_search(session, cache)
    session.expire(agency)
    return await detail(session, acting, agency_id)


async def _check_patch(session: AsyncSession, agency: Agency, patch: AgencyPatch) -> None:
    """The patched profile's codes, regions and services are valid and its credit code and licence its own."""
    if patch.credit_code is not None:
        _check_credit_code(patch.credit_code)
    if patch.region_code is not None:
        _check_region("region_code", patch.region_code)
    if patch.branches is not None:
        _check_branches(patch.branches)
    kind = patch.kind if patch.kind is not None else AgencyKind(agency.kind)
    services_after: Sequence[ServicePriceIn] | Sequence[str] = (
        patch.services if patch.services is not None else [s.service_code for s in agency.services]
    )
    _check_services_fit_kind(kind, services_after)
    await _check_unique(session, credit_code=patch.credit_code, licence_no=patch.licence_no, agency_id=agency.id)


def _apply_patch(agency: Agency, patch: AgencyPatch, sent: set[str]) -> None:
    """Set what was sent; services, fields and branches are diffed against the rows, not re-inserted."""
    for name in _SCALARS:
        if name in sent:
            setattr(agency, name, getattr(patch, name))
    if patch.kind is not None:
        agency.kind = patch.kind.value
    if sent & {"name_zh", "name_en", "short_name"}:
        agency.search_text = search_text_for(agency.name_zh, agency.name_en, agency.short_name)
    if patch.services is not None:
        _replace_services(agency, patch.services)
    if patch.fields is not None:
        _replace_fields(agency, patch.fields)
    if patch.branches is not None:
        agency.branches = [
            AgencyBranch(agency_id=agency.id, region_code=b.region_code, address=b.address) for b in patch.branches
        ]
    if patch.services is not None or patch.fields is not None:
        set_card_columns(
            agency,
            [(s.service_code, s.price_min_fen, s.price_max_fen) for s in agency.services],
            [f.field_code for f in agency.fields],
        )


def _replace_services(agency: Agency, services: Sequence[ServicePriceIn]) -> None:
    wanted = {s.service.value: s for s in services}
    for existing in list(agency.services):
        new = wanted.pop(existing.service_code, None)
        if new is None:
            agency.services.remove(existing)
        else:
            existing.price_min_fen = new.price_min_fen
            existing.price_max_fen = new.price_max_fen
    for code, s in sorted(wanted.items()):
        agency.services.append(
            AgencyService(
                agency_id=agency.id, service_code=code, price_min_fen=s.price_min_fen, price_max_fen=s.price_max_fen
            )
        )


def _replace_fields(agency: Agency, fields: Sequence[FieldCode]) -> None:
    wanted = {f.value for f in fields}
    for existing in list(agency.fields):
        if existing.field_code not in wanted:
            agency.fields.remove(existing)
    have = {f.field_code for f in agency.fields}
    for code in sorted(wanted - have):
        agency.fields.append(AgencyField(agency_id=agency.id, field_code=code))
