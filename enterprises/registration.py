"""Enterprises registered by their own staff (the onboarding flow in `accounts.memberships`): they wait, as
`pending`, until an official verifies them; other domains reach this through `enterprises.service`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.credit_code import credit_code_problem
from core.db import utcnow
from core.errors import NotFound, field_error
from enterprises import repository
from enterprises.lookup import EnterpriseSummary, summary_of
from enterprises.models import Enterprise
from enterprises.profiles import _flush_unique


async def register_pending(
    session: AsyncSession, *, name: str, credit_code: str, region_code: str, industry: str, registered_by: int
) -> EnterpriseSummary:
    """A new enterprise, pending verification; 409 `credit_code_taken` if the code was registered meanwhile."""
    problem = credit_code_problem(credit_code)
    if problem is not None:
        raise field_error("credit_code", problem)
    enterprise = Enterprise(
        name=name,
        credit_code=credit_code,
        region_code=region_code,
        industry=industry,
        verification="pending",
        registered_by=registered_by,
    )
    session.add(enterprise)
    await _flush_unique(session, credit_code)
    return summary_of(enterprise)


async def set_verification(session: AsyncSession, enterprise_id: int, verification: str) -> EnterpriseSummary:
    """Record an official's verification decision (`verified` or `rejected`), the row locked."""
    enterprise = await repository.by_id_for_update(session, enterprise_id)
    if enterprise is None:
        raise NotFound(f"no enterprise {enterprise_id}", code="enterprise_not_found")
    enterprise.verification = verification
    enterprise.updated_at = utcnow()
    await session.flush()
    return summary_of(enterprise)
