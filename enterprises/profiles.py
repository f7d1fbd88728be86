"""Profiles of enterprises: officials register them, correct them and record their verified qualification;
officials read any, enterprise staff their own."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import Principal
from core.credit_code import credit_code_problem
from core.db import utcnow
from core.errors import field_error
from enterprises import repository
from enterprises.catalogue import QUALIFICATION_LABELS, Qualification
from enterprises.errors import CreditCodeTaken, NotYourEnterprise
from enterprises.lookup import existing_enterprise, summary_of
from enterprises.models import Enterprise
from enterprises.permissions import PERMISSIONS, Action
from enterprises.schemas import (
    EnterpriseIn,
    EnterpriseOut,
    EnterprisePage,
    EnterprisePatch,
    EnterpriseQuery,
    QualificationIn,
    QualificationOut,
)


def enterprise_out(enterprise: Enterprise, today: dt.date | None = None) -> EnterpriseOut:
    summary = summary_of(enterprise)
    today = today or utcnow().date()
    qualification = summary.qualification
    zh, en = QUALIFICATION_LABELS[qualification]
    return EnterpriseOut(
        id=enterprise.id,
        name=enterprise.name,
        credit_code=enterprise.credit_code,
        region_code=enterprise.region_code,
        industry=enterprise.industry,
        legal_representative=enterprise.legal_representative,
        address=enterprise.address,
        phone=enterprise.phone,
        qualification=QualificationOut(
            qualification=qualification,
            label_zh=zh,
            label_en=en,
            certificate_no=enterprise.certificate_no,
            expires_on=enterprise.qualification_expires_on,
            valid=qualification is not Qualification.NONE and summary.qualification_on(today) is qualification,
            verified_by=enterprise.qualification_verified_by,
        ),
        verification=enterprise.verification,
        created_at=enterprise.created_at,
        updated_at=enterprise.updated_at,
    )


async def _flush_unique(session: AsyncSession, credit_code: str) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise CreditCodeTaken(
            f"an enterprise with credit code {credit_code} already exists", details={"field": "credit_code"}
        ) from None


async def create_enterprise(session: AsyncSession, principal: Principal | None, data: EnterpriseIn) -> EnterpriseOut:
    actor = PERMISSIONS.check(principal, Action.CREATE)
    PERMISSIONS.check_region(actor, Action.CREATE, data.region_code, "the enterprise")
    problem = credit_code_problem(data.credit_code)
    if problem is not None:
        raise field_error("credit_code", problem)
    if await repository.by_credit_code(session, data.credit_code) is not None:
        raise CreditCodeTaken(
            f"an enterprise with credit code {data.credit_code} already exists", details={"field": "credit_code"}
        )
    enterprise = Enterprise(**data.model_dump())
    session.add(enterprise)
    await _flush_unique(session, data.credit_code)
    return enterprise_out(enterprise)


async def get_enterprise(session: AsyncSession, principal: Principal | None, enterprise_id: int) -> EnterpriseOut:
    actor = PERMISSIONS.check(principal, Action.READ)
    if not actor.is_official and not PERMISSIONS.scope(actor, Action.READ).covers(enterprise_id=enterprise_id):
        raise NotYourEnterprise("enterprise staff see only their own enterprise")
    enterprise = await existing_enterprise(session, enterprise_id)
    PERMISSIONS.check_region(actor, Action.READ, enterprise.region_code, f"enterprise {enterprise_id}")
    return enterprise_out(enterprise)


async def my_enterprise(session: AsyncSession, principal: Principal | None) -> EnterpriseOut:
    actor = PERMISSIONS.check(principal, Action.READ)
    if actor.enterprise_id is None:
        raise NotYourEnterprise("this account does not belong to an enterprise")
    return enterprise_out(await existing_enterprise(session, actor.enterprise_id))


async def list_enterprises(
    session: AsyncSession, principal: Principal | None, query: EnterpriseQuery
) -> EnterprisePage:
    actor = PERMISSIONS.check(principal, Action.LIST)
    rows, total = await repository.search(session, query, PERMISSIONS.scope(actor, Action.LIST))
    today = utcnow().date()
    return EnterprisePage(
        items=[enterprise_out(e, today) for e in rows], total=total, page=query.page, page_size=query.page_size
    )


async def update_enterprise(
    session: AsyncSession, principal: Principal | None, enterprise_id: int, patch: EnterprisePatch
) -> EnterpriseOut:
    actor = PERMISSIONS.check(principal, Action.UPDATE)
    enterprise = await existing_enterprise(session, enterprise_id)
    PERMISSIONS.check_region(actor, Action.UPDATE, enterprise.region_code, f"enterprise {enterprise_id}")
    if patch.region_code is not None:
        PERMISSIONS.check_region(actor, Action.UPDATE, patch.region_code, "the new region")
    for name, value in patch.model_dump(exclude_unset=True).items():
        if value is None:
            raise field_error(name, "cannot be null")
        setattr(enterprise, name, value)
    enterprise.updated_at = utcnow()
    await session.flush()
    return enterprise_out(enterprise)


async def set_qualification(
    session: AsyncSession, principal: Principal | None, enterprise_id: int, data: QualificationIn
) -> EnterpriseOut:
    """An official records a certification they verified (number and expiry required), or clears it with `none`."""
    actor = PERMISSIONS.check(principal, Action.SET_QUALIFICATION)
    enterprise = await existing_enterprise(session, enterprise_id)
    PERMISSIONS.check_region(actor, Action.SET_QUALIFICATION, enterprise.region_code, f"enterprise {enterprise_id}")
    if data.qualification is Qualification.NONE:
        enterprise.certificate_no = None
        enterprise.qualification_expires_on = None
    else:
        if data.certificate_no is None:
            raise field_error("certificate_no", "a certification needs its certificate number")
        if data.expires_on is None:
            raise field_error("expires_on", "a certification needs its expiry date")
        if data.expires_on < utcnow().date():
            raise field_error("expires_on", "this certification has already expired")
        enterprise.certificate_no = data.certificate_no
        enterprise.qualification_expires_on = data.expires_on
    enterprise.qualification = data.qualification.value
    enterprise.qualification_verified_by = actor.user_id
    enterprise.updated_at = utcnow()
    await session.flush()
    return enterprise_out(enterprise)
