"""The account audit: an append-only record of every binding, approval, invitation, deactivation and password
reset — who did it, to whom, when, and in which region (so officials read the entries of their jurisdiction)."""

from __future__ import annotations

import enum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import AccountAudit, User
from accounts.permissions import PERMISSIONS, Action
from accounts.schemas import AuditOut, AuditPage, AuditQuery
from agencies import service as agencies
from core.auth import NATIONWIDE, Principal
from core.db import utcnow
from core.regions import prefix_of
from enterprises import service as enterprises


class AuditAction(enum.StrEnum):
    BINDING_REQUESTED = "binding_requested"
    ENTERPRISE_REGISTERED = "enterprise_registered"
    ENTERPRISE_VERIFIED = "enterprise_verified"
    ENTERPRISE_REJECTED = "enterprise_rejected"
    BINDING_APPROVED = "binding_approved"
    BINDING_REJECTED = "binding_rejected"
    STAFF_REMOVED = "staff_removed"
    INVITATION_CREATED = "invitation_created"
    INVITATION_ACCEPTED = "invitation_accepted"
    INVITATION_REVOKED = "invitation_revoked"
    OFFICIAL_CREATED = "official_created"
    USER_DEACTIVATED = "user_deactivated"
    PASSWORD_RESET = "password_reset"
    PASSWORD_CHANGED = "password_changed"


async def region_of_user(session: AsyncSession, user: User) -> str:
    """Where an account's audit entries belong: an official's region, their enterprise's or agency's."""
    if user.region_code is not None:
        return user.region_code
    if user.enterprise_id is not None:
        enterprise = await enterprises.get_enterprise_summary(session, user.enterprise_id)
        return "" if enterprise is None else enterprise.region_code
    if user.agency_id is not None:
        agency = await agencies.get_agency_summary(session, user.agency_id)
        return "" if agency is None else agency.region_code
    return ""


async def record(
    session: AsyncSession,
    action: AuditAction,
    *,
    actor: Principal | None,
    region_code: str,
    subject_user_id: int | None = None,
    enterprise_id: int | None = None,
    agency_id: int | None = None,
    note: str = "",
) -> None:
    """Append one entry (`actor` None: the command line)."""
    session.add(
        AccountAudit(
            at=utcnow(),
            action=action.value,
            actor_user_id=None if actor is None else actor.user_id,
            subject_user_id=subject_user_id,
            enterprise_id=enterprise_id,
            agency_id=agency_id,
            region_code=region_code,
            note=note,
        )
    )
    await session.flush()


async def read(session: AsyncSession, principal: Principal | None, query: AuditQuery) -> AuditPage:
    """The entries of the official's jurisdiction, newest first."""
    acting = PERMISSIONS.check(principal, Action.READ_AUDIT)
    scope = PERMISSIONS.scope(acting, Action.READ_AUDIT)
    stmt = select(AccountAudit).where(scope.where(region=AccountAudit.region_code))
    if query.action is not None:
        stmt = stmt.where(AccountAudit.action == query.action)
    if query.user_id is not None:
        stmt = stmt.where(AccountAudit.subject_user_id == query.user_id)
    if query.enterprise_id is not None:
        stmt = stmt.where(AccountAudit.enterprise_id == query.enterprise_id)
    if query.agency_id is not None:
        stmt = stmt.where(AccountAudit.agency_id == query.agency_id)
    if query.region is not None and query.region != NATIONWIDE:
        stmt = stmt.where(AccountAudit.region_code.startswith(prefix_of(query.region)))
    rows = await session.scalars(
        stmt.order_by(AccountAudit.id.desc()).offset((query.page - 1) * query.page_size).limit(query.page_size)
    )
    return AuditPage(
        items=[
            AuditOut(
                id=row.id,
                at=row.at,
                action=row.action,
                actor_user_id=row.actor_user_id,
                subject_user_id=row.subject_user_id,
                enterprise_id=row.enterprise_id,
                agency_id=row.agency_id,
                region_code=row.region_code,
                note=row.note,
            )
            for row in rows
        ],
        page=query.page,
        page_size=query.page_size,
    )
