"""Enterprise staff bind to their enterprise: a request names the enterprise by its unified social credit code
(check character validated) with the person's name and phone.

- The enterprise is registered: the request waits for the enterprise's administrator (its first approved staff
  member) or an official of its region to approve it.
- It is not: the user registers it (name, region, industry) with the request; it waits as `pending` until an
  official of its region verifies it, which approves the request and makes the user its administrator.

Until approved the user's account belongs to no enterprise, so it reaches only public data (`Scope.of`).
Approving sets the account's enterprise; removing clears it. Either way the principal cached for the user's
tokens is dropped once the change commits, so the next request sees the new binding. Each step is in the audit.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit, repository
from accounts.audit import AuditAction
from accounts.models import EnterpriseMembership, User
from accounts.permissions import PERMISSIONS, Action, check_admin
from accounts.schemas import (
    ApproveIn,
    BindingIn,
    MembershipOut,
    MembershipPage,
    MembershipQuery,
    ReasonIn,
    VerificationIn,
    VerificationOut,
)
from core.auth import Principal, Role
from core.cache import Cache
from core.credit_code import credit_code_problem
from core.db import utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from core.events import BindingRequested, MembershipDecided, publish
from enterprises import service as enterprises
from enterprises.service import EnterpriseSummary

OPEN = ("pending", "approved")


class AlreadyBound(Conflict):
    code = "already_bound"


class EnterpriseNotRegistered(ValidationFailed):
    code = "enterprise_not_registered"


class MembershipNotFound(NotFound):
    code = "membership_not_found"


class NotPending(Conflict):
    code = "membership_not_pending"


class EnterpriseNotVerified(Conflict):
    code = "enterprise_not_verified"


class NotYourStaff(Forbidden):
    code = "not_your_enterprise"


def membership_out(m: EnterpriseMembership, enterprise: EnterpriseSummary, is_admin: bool) -> MembershipOut:
    return MembershipOut(
        id=m.id,
        user_id=m.user_id,
        enterprise_id=m.enterprise_id,
        enterprise_name=enterprise.name,
        credit_code=enterprise.credit_code,
        enterprise_region_code=enterprise.region_code,
        enterprise_verification=enterprise.verification,
        person_name=m.person_name,
        phone=m.phone,
        status=m.status,
        registered_enterprise=m.registered_enterprise,
        is_admin=is_admin,
        created_at=m.created_at,
        decided_at=m.decided_at,
        decided_by=m.decided_by,
        reason=m.reason,
    )


async def _out(session: AsyncSession, rows: list[EnterpriseMembership]) -> list[MembershipOut]:
    summaries = await enterprises.enterprise_summaries(session, [m.enterprise_id for m in rows])
    admins = set(
        (
            await session.scalars(
                select(User.id).where(User.id.in_({m.user_id for m in rows} or {0}), User.is_admin.is_(True))
            )
        ).all()
    )
    return [membership_out(m, summaries[m.enterprise_id], m.status == "approved" and m.user_id in admins) for m in rows]


async def request_binding(
    session: AsyncSession, cache: Cache, principal: Principal | None, body: BindingIn
) -> MembershipOut:
    """Ask to act for an enterprise (registering it when it is not registered yet)."""
    acting = PERMISSIONS.check(principal, Action.REQUEST_BINDING)
    problem = credit_code_problem(body.credit_code)
    if problem is not None:
        raise field_error("credit_code", problem)
    user = await repository.user_by_id(session, acting.user_id)
    if user is None or not user.is_active:
        raise NotFound("this account no longer exists", code="user_not_found")
    if user.enterprise_id is not None:
        raise AlreadyBound(f"this account already belongs to enterprise {user.enterprise_id}")
    if await _open_membership(session, user.id) is not None:
        raise AlreadyBound("this account already has a binding request; wait for it or ask to have it rejected")
    enterprise = await enterprises.enterprise_by_credit_code(session, body.credit_code)
    registered = False
    if enterprise is None:
        if body.enterprise is None:
            raise EnterpriseNotRegistered(
                f"no enterprise with credit code {body.credit_code} is registered: give its name, region and "
                "industry in `enterprise` to register it",
                details={"field": "enterprise"},
            )
        enterprise = await enterprises.register_pending(
            session,
            name=body.enterprise.name,
            credit_code=body.credit_code,
            region_code=body.enterprise.region_code,
            industry=body.enterprise.industry,
            registered_by=user.id,
        )
        registered = True
    elif body.enterprise is not None:
        raise field_error("enterprise", f"credit code {body.credit_code} is already registered; leave this out")
    elif enterprise.verification == "rejected":
        raise EnterpriseNotVerified("this enterprise's registration was rejected by an official")
    membership = EnterpriseMembership(
        user_id=user.id,
        enterprise_id=enterprise.id,
        person_name=body.person_name,
        phone=body.phone,
        status="pending",
        registered_enterprise=registered,
        created_at=utcnow(),
        reason="",
    )
    session.add(membership)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # the same user's request racing in another request
        raise AlreadyBound("this account already has a binding request") from None
    user.phone = body.phone
    if user.display_name in ("", "微信用户"):
        user.display_name = body.person_name
    if registered:
        await audit.record(
            session,
            AuditAction.ENTERPRISE_REGISTERED,
            actor=acting,
            region_code=enterprise.region_code,
            subject_user_id=user.id,
            enterprise_id=enterprise.id,
            note=enterprise.name,
        )
    await audit.record(
        session,
        AuditAction.BINDING_REQUESTED,
        actor=acting,
        region_code=enterprise.region_code,
        subject_user_id=user.id,
        enterprise_id=enterprise.id,
        note=f"{body.person_name} {body.phone}",
    )
    if not registered:  # the enterprise's administrators decide: tell them someone is waiting
        await publish(
            session,
            BindingRequested(
                membership_id=membership.id,
                enterprise_id=enterprise.id,
                enterprise_name=enterprise.name,
                person_name=body.person_name,
            ),
        )
    return membership_out(membership, enterprise, is_admin=False)


async def _open_membership(session: AsyncSession, user_id: int) -> EnterpriseMembership | None:
    return await session.scalar(
        select(EnterpriseMembership).where(
            EnterpriseMembership.user_id == user_id, EnterpriseMembership.status.in_(OPEN)
        )
    )


async def my_binding(session: AsyncSession, principal: Principal | None) -> MembershipOut:
    """The user's latest binding request and where it stands."""
    acting = PERMISSIONS.check(principal, Action.REQUEST_BINDING)
    latest = await session.scalar(
        select(EnterpriseMembership)
        .where(EnterpriseMembership.user_id == acting.user_id)
        .order_by(EnterpriseMembership.id.desc())
        .limit(1)
    )
    if latest is None:
        raise MembershipNotFound("this account has not asked to bind to an enterprise")
    return (await _out(session, [latest]))[0]


async def list_memberships(
    session: AsyncSession, principal: Principal | None, query: MembershipQuery
) -> MembershipPage:
    """Officials: the requests and staff of their region's enterprises; an enterprise's administrator: its own."""
    acting = PERMISSIONS.check(principal, Action.MANAGE_STAFF)
    check_admin(acting, Action.MANAGE_STAFF)
    scope = PERMISSIONS.scope(acting, Action.MANAGE_STAFF)
    stmt = select(EnterpriseMembership).where(
        scope.where(
            enterprise=EnterpriseMembership.enterprise_id,
            region=enterprises.region_of(EnterpriseMembership.enterprise_id),
        )
    )
    if query.status is not None:
        stmt = stmt.where(EnterpriseMembership.status == query.status)
    if query.enterprise_id is not None:
        stmt = stmt.where(EnterpriseMembership.enterprise_id == query.enterprise_id)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(
        (
            await session.scalars(
                stmt.order_by(EnterpriseMembership.id.desc())
                .offset((query.page - 1) * query.page_size)
                .limit(query.page_size)
            )
        ).all()
    )
    return MembershipPage(items=await _out(session, rows), total=total, page=query.page, page_size=query.page_size)


async def _decidable(
    session: AsyncSession, acting: Principal, membership_id: int
) -> tuple[EnterpriseMembership, EnterpriseSummary]:
    """The membership, if `acting` may decide on it: an official of its enterprise's region, or its enterprise's
    administrator. Locked for the decision."""
    check_admin(acting, Action.MANAGE_STAFF)
    membership = await session.scalar(
        select(EnterpriseMembership).where(EnterpriseMembership.id == membership_id).with_for_update()
    )
    if membership is None:
        raise MembershipNotFound(f"no membership {membership_id}")
    enterprise = await enterprises.get_enterprise_summary(session, membership.enterprise_id)
    assert enterprise is not None  # a foreign key
    if acting.is_official:
        PERMISSIONS.check_region(acting, Action.MANAGE_STAFF, enterprise.region_code, f"enterprise {enterprise.id}")
    elif not PERMISSIONS.scope(acting, Action.MANAGE_STAFF).covers(enterprise_id=membership.enterprise_id):
        raise NotYourStaff("an administrator manages only their own enterprise's staff")
    return membership, enterprise


async def _is_first_admin(session: AsyncSession, enterprise_id: int) -> bool:
    """Whether the enterprise has no active administrator yet (the first approved staff member becomes one)."""
    found = await session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.enterprise_id == enterprise_id, User.is_admin.is_(True), User.is_active.is_(True))
    )
    return not found


async def _approve(
    session: AsyncSession, cache: Cache, acting: Principal, membership: EnterpriseMembership, note: str
) -> None:
    """Pending → approved: the account joins the enterprise (as administrator when it has none yet)."""
    changed = await session.execute(
        update(EnterpriseMembership)
        .where(EnterpriseMembership.id == membership.id, EnterpriseMembership.status == "pending")
        .values(status="approved", decided_at=utcnow(), decided_by=acting.user_id, reason=note)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise NotPending(f"membership {membership.id} is no longer pending")
    await session.refresh(membership)
    user = await repository.user_by_id(session, membership.user_id)
    assert user is not None  # a foreign key, cascading
    if user.enterprise_id is not None or user.role != Role.ENTERPRISE.value:
        raise AlreadyBound(f"user {user.id} already belongs to an enterprise or agency")
    user.is_admin = await _is_first_admin(session, membership.enterprise_id)
    user.enterprise_id = membership.enterprise_id
    await session.flush()
    await repository.forget_cached_principals(session, cache, user.id)
    enterprise = await enterprises.get_enterprise_summary(session, membership.enterprise_id)
    assert enterprise is not None
    await audit.record(
        session,
        AuditAction.BINDING_APPROVED,
        actor=acting,
        region_code=enterprise.region_code,
        subject_user_id=user.id,
        enterprise_id=enterprise.id,
        note=("administrator; " if user.is_admin else "") + note,
    )
    await publish_decision(session, user.id, enterprise.name, "approved", note)


async def approve(
    session: AsyncSession, cache: Cache, principal: Principal | None, membership_id: int, body: ApproveIn
) -> MembershipOut:
    acting = PERMISSIONS.check(principal, Action.MANAGE_STAFF)
    membership, enterprise = await _decidable(session, acting, membership_id)
    if membership.status != "pending":
        raise NotPending(f"membership {membership_id} is {membership.status}, not pending")
    if enterprise.verification != "verified":
        raise EnterpriseNotVerified(
            f"enterprise {enterprise.id} is not verified yet: an official verifies it, which approves its registrant"
        )
    await _approve(session, cache, acting, membership, body.note)
    return (await _out(session, [membership]))[0]


async def reject(
    session: AsyncSession, cache: Cache, principal: Principal | None, membership_id: int, body: ReasonIn
) -> MembershipOut:
    acting = PERMISSIONS.check(principal, Action.MANAGE_STAFF)
    membership, enterprise = await _decidable(session, acting, membership_id)
    if membership.status != "pending":
        raise NotPending(f"membership {membership_id} is {membership.status}, not pending")
    await _close(session, acting, membership, enterprise, "rejected", body.reason)
    return (await _out(session, [membership]))[0]


async def remove(
    session: AsyncSession, cache: Cache, principal: Principal | None, membership_id: int, body: ReasonIn
) -> MembershipOut:
    """An approved staff member leaves the enterprise: their account belongs to none again."""
    acting = PERMISSIONS.check(principal, Action.MANAGE_STAFF)
    membership, enterprise = await _decidable(session, acting, membership_id)
    if membership.status != "approved":
        raise Conflict(f"membership {membership_id} is {membership.status}, not approved", code="membership_not_active")
    if membership.user_id == acting.user_id:
        raise Conflict("an administrator cannot remove themselves; ask an official", code="cannot_remove_self")
    user = await repository.user_by_id(session, membership.user_id)
    assert user is not None
    user.enterprise_id = None
    user.is_admin = False
    await repository.forget_cached_principals(session, cache, user.id)
    await _close(session, acting, membership, enterprise, "removed", body.reason)
    return (await _out(session, [membership]))[0]


async def _close(
    session: AsyncSession,
    acting: Principal,
    membership: EnterpriseMembership,
    enterprise: EnterpriseSummary,
    status: str,
    reason: str,
) -> None:
    """A binding rejected or ended, with the reason: recorded, audited, and the user told."""
    membership.status = status
    membership.decided_at = utcnow()
    membership.decided_by = acting.user_id
    membership.reason = reason
    await session.flush()
    await audit.record(
        session,
        AuditAction.BINDING_REJECTED if status == "rejected" else AuditAction.STAFF_REMOVED,
        actor=acting,
        region_code=enterprise.region_code,
        subject_user_id=membership.user_id,
        enterprise_id=enterprise.id,
        note=reason,
    )
    await publish_decision(session, membership.user_id, enterprise.name, status, reason)


async def verify_enterprise(
    session: AsyncSession, cache: Cache, principal: Principal | None, enterprise_id: int, body: VerificationIn
) -> VerificationOut:
    """An official verifies (or rejects) an enterprise its staff registered; its registrant's request follows."""
    acting = PERMISSIONS.check(principal, Action.VERIFY_ENTERPRISE)
    current = await enterprises.get_enterprise_summary(session, enterprise_id)
    if current is None:
        raise NotFound(f"no enterprise {enterprise_id}", code="enterprise_not_found")
    PERMISSIONS.check_region(acting, Action.VERIFY_ENTERPRISE, current.region_code, f"enterprise {enterprise_id}")
    if current.verification != "pending":
        raise Conflict(f"enterprise {enterprise_id} is {current.verification}, not pending", code="not_pending")
    if body.decision == "rejected" and not body.reason.strip():
        raise field_error("reason", "say why the registration is rejected")
    enterprise = await enterprises.set_verification(session, enterprise_id, body.decision)
    await audit.record(
        session,
        AuditAction.ENTERPRISE_VERIFIED if body.decision == "verified" else AuditAction.ENTERPRISE_REJECTED,
        actor=acting,
        region_code=enterprise.region_code,
        enterprise_id=enterprise.id,
        note=body.reason or enterprise.name,
    )
    pending = list(
        (
            await session.scalars(
                select(EnterpriseMembership)
                .where(
                    EnterpriseMembership.enterprise_id == enterprise_id,
                    EnterpriseMembership.status == "pending",
                    EnterpriseMembership.registered_enterprise.is_(True),
                )
                .with_for_update()
            )
        ).all()
    )
    for membership in pending:
        if body.decision == "verified":
            await _approve(session, cache, acting, membership, "enterprise verified")
        else:
            await _close(session, acting, membership, enterprise, "rejected", body.reason)
    return VerificationOut(
        enterprise_id=enterprise.id, verification=enterprise.verification, memberships=await _out(session, pending)
    )


async def publish_decision(session: AsyncSession, user_id: int, enterprise_name: str, outcome: str, note: str) -> None:
    """Tell the user (a WeChat subscribe message where they consented: `core.events.MembershipDecided`)."""
    await publish(
        session, MembershipDecided(user_id=user_id, enterprise_name=enterprise_name, outcome=outcome, note=note)
    )
