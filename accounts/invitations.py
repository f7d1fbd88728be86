"""Agency staff join by invitation: an official of the agency's region, or the agency's administrator, makes a
one-time code (a link carries it) that expires; whoever accepts it in time joins that agency's staff.

Accepting binds the mini-program user who sends it with their bearer token (an account bound to nothing yet), or
makes a password account (username and password in the request). The code is stored as its SHA-256 only; taking
it is one conditional UPDATE, so two people racing for one code cannot both join. The first staff member of an
agency that has no administrator becomes its administrator. Each step is in the account audit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit, repository
from accounts.audit import AuditAction
from accounts.models import AgencyInvitation, EnterpriseMembership, User
from accounts.passwords import hash_password
from accounts.permissions import PERMISSIONS, Action, check_admin
from accounts.schemas import AcceptIn, AcceptOut, InvitationCreated, InvitationIn, InvitationOut
from accounts.service import issue_token, me_of
from agencies import service as agencies
from agencies.service import AgencySummary
from core.auth import Principal, Role
from core.cache import Cache
from core.db import utcnow
from core.errors import Conflict, Forbidden, NotFound, field_error
from core.settings import Settings

# The console's page that takes the code from the link.
ACCEPT_PAGE = "/console/join?code="


class InvitationInvalid(Conflict):
    """The code is unknown, already used, withdrawn or expired (one answer for all: a code cannot be probed)."""

    code = "invitation_invalid"


class NotYourAgency(Forbidden):
    code = "not_your_agency"


def hash_of_code(code: str) -> str:
    """What is stored of an invitation code."""
    return hashlib.sha256(code.strip().encode()).hexdigest()


def _state(invitation: AgencyInvitation, now: dt.datetime) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    return "expired" if invitation.expires_at <= now else "open"


def invitation_out(invitation: AgencyInvitation, now: dt.datetime | None = None) -> InvitationOut:
    return InvitationOut(
        id=invitation.id,
        agency_id=invitation.agency_id,
        invitee_name=invitation.invitee_name,
        created_by=invitation.created_by,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        accepted_at=invitation.accepted_at,
        accepted_by=invitation.accepted_by,
        revoked_at=invitation.revoked_at,
        state=_state(invitation, now or utcnow()),
    )


async def _agency_in_reach(session: AsyncSession, acting: Principal, agency_id: int) -> AgencySummary:
    """The agency, if `acting` may invite to it: an official of its region, or its administrator."""
    check_admin(acting, Action.INVITE_AGENCY_STAFF)
    if not acting.is_official and not PERMISSIONS.scope(acting, Action.INVITE_AGENCY_STAFF).covers(agency_id=agency_id):
        raise NotYourAgency("an administrator invites staff only to their own agency")
    agency = await agencies.get_agency_summary(session, agency_id)
    if agency is None:
        raise NotFound(f"no agency {agency_id}", code="agency_not_found")
    PERMISSIONS.check_region(acting, Action.INVITE_AGENCY_STAFF, agency.region_code, f"agency {agency_id}")
    return agency


async def invite(
    session: AsyncSession, principal: Principal | None, agency_id: int, body: InvitationIn
) -> InvitationCreated:
    acting = PERMISSIONS.check(principal, Action.INVITE_AGENCY_STAFF)
    agency = await _agency_in_reach(session, acting, agency_id)
    code = secrets.token_urlsafe(18)
    now = utcnow()
    invitation = AgencyInvitation(
        agency_id=agency.id,
        code_hash=hash_of_code(code),
        invitee_name=body.invitee_name.strip(),
        created_by=acting.user_id,
        created_at=now,
        expires_at=now + dt.timedelta(hours=body.valid_hours),
    )
    session.add(invitation)
    await session.flush()
    await audit.record(
        session,
        AuditAction.INVITATION_CREATED,
        actor=acting,
        region_code=agency.region_code,
        agency_id=agency.id,
        note=f"invitation {invitation.id} for {invitation.invitee_name or 'staff'}, valid {body.valid_hours} h",
    )
    out = invitation_out(invitation, now)
    return InvitationCreated(**out.model_dump(), code=code, link=ACCEPT_PAGE + code)


async def list_invitations(session: AsyncSession, principal: Principal | None, agency_id: int) -> list[InvitationOut]:
    acting = PERMISSIONS.check(principal, Action.INVITE_AGENCY_STAFF)
    await _agency_in_reach(session, acting, agency_id)
    rows = await session.scalars(
        select(AgencyInvitation).where(AgencyInvitation.agency_id == agency_id).order_by(AgencyInvitation.id.desc())
    )
    now = utcnow()
    return [invitation_out(row, now) for row in rows]


async def revoke(
    session: AsyncSession, principal: Principal | None, agency_id: int, invitation_id: int
) -> InvitationOut:
    acting = PERMISSIONS.check(principal, Action.INVITE_AGENCY_STAFF)
    agency = await _agency_in_reach(session, acting, agency_id)
    invitation = await session.scalar(
        select(AgencyInvitation)
        .where(AgencyInvitation.id == invitation_id, AgencyInvitation.agency_id == agency_id)
        .with_for_update()
    )
    if invitation is None:
        raise NotFound(f"agency {agency_id} has no invitation {invitation_id}", code="invitation_not_found")
    if _state(invitation, utcnow()) != "open":
        raise Conflict(f"invitation {invitation_id} is {_state(invitation, utcnow())}", code="invitation_not_open")
    invitation.revoked_at = utcnow()
    await session.flush()
    await audit.record(
        session,
        AuditAction.INVITATION_REVOKED,
        actor=acting,
        region_code=agency.region_code,
        agency_id=agency.id,
        note=f"invitation {invitation.id}",
    )
    return invitation_out(invitation)


async def accept(
    session: AsyncSession, cache: Cache, settings: Settings, principal: Principal | None, body: AcceptIn
) -> AcceptOut:
    """Join the invitation's agency: the signed-in mini-program user, or a new password account."""
    signed_in = principal is not None
    if signed_in:
        if body.username is not None or body.password is not None:
            raise field_error("username", "signed in: the invitation binds this account; send only the code")
    else:
        if body.username is None:
            raise field_error("username", "choose a user name (or accept while signed in with WeChat)")
        if body.password is None:
            raise field_error("password", "choose a password of at least 8 characters")
    password_hash = None if body.password is None else await hash_password(body.password)
    user: User | None = None
    if principal is not None:
        user = await repository.user_by_id(session, principal.user_id)
        if user is None or not user.is_active:
            raise NotFound("this account no longer exists", code="user_not_found")
        if user.role != Role.ENTERPRISE.value or user.enterprise_id is not None or user.agency_id is not None:
            raise Conflict("this account already belongs to an enterprise or agency", code="already_bound")
        if await _has_open_membership(session, user.id):
            raise Conflict(
                "this account has asked to join an enterprise; an account joins one organisation",
                code="already_bound",
            )
    elif body.username is not None and await repository.username_taken(session, body.username):
        raise Conflict(f"username {body.username!r} is taken", code="username_taken")
    now = utcnow()
    wanted = hash_of_code(body.code)
    invitation = await session.scalar(select(AgencyInvitation).where(AgencyInvitation.code_hash == wanted))
    if invitation is None or _state(invitation, now) != "open":
        raise InvitationInvalid("this invitation code is unknown, used, withdrawn or expired; ask for a new one")
    if user is None:
        user = User(
            username=body.username,
            password_hash=password_hash,
            role=Role.AGENCY.value,
            display_name=body.display_name or invitation.invitee_name or body.username or "",
            agency_id=invitation.agency_id,
        )
        session.add(user)
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError:  # the same name chosen in a racing request
            raise Conflict(f"username {body.username!r} is taken", code="username_taken") from None
    taken = await session.execute(
        update(AgencyInvitation)
        .where(
            AgencyInvitation.id == invitation.id,
            AgencyInvitation.accepted_at.is_(None),
            AgencyInvitation.revoked_at.is_(None),
            AgencyInvitation.expires_at > now,
        )
        .values(accepted_at=now, accepted_by=user.id)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise InvitationInvalid("this invitation code was just used; ask for a new one")
    user.role = Role.AGENCY.value
    user.agency_id = invitation.agency_id
    if body.display_name:
        user.display_name = body.display_name
    elif user.display_name in ("", "微信用户") and invitation.invitee_name:
        user.display_name = invitation.invitee_name
    user.is_admin = not await session.scalar(
        select(func.count())
        .select_from(User)
        .where(
            User.agency_id == invitation.agency_id,
            User.is_admin.is_(True),
            User.is_active.is_(True),
            User.id != user.id,
        )
    )
    await session.flush()
    await repository.forget_cached_principals(session, cache, user.id)
    agency = await agencies.get_agency_summary(session, invitation.agency_id)
    await audit.record(
        session,
        AuditAction.INVITATION_ACCEPTED,
        actor=None if principal is None else principal,
        region_code=agency.region_code if agency is not None else "",
        subject_user_id=user.id,
        agency_id=invitation.agency_id,
        note=f"invitation {invitation.id}" + ("; administrator" if user.is_admin else ""),
    )
    if signed_in:
        return AcceptOut(user=me_of(user))
    issued = await issue_token(session, settings, user)
    return AcceptOut(user=me_of(user), token=issued.token, expires_at=issued.expires_at)


async def _has_open_membership(session: AsyncSession, user_id: int) -> bool:
    found = await session.scalar(
        select(EnterpriseMembership.id).where(
            EnterpriseMembership.user_id == user_id, EnterpriseMembership.status.in_(("pending", "approved"))
        )
    )
    return found is not None
