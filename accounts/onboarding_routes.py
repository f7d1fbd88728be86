"""HTTP surface of onboarding: enterprise staff binding, agency invitations, officials' accounts, passwords and the
account audit — thin handlers over `accounts.memberships`, `accounts.invitations`, `accounts.officials` and
`accounts.audit`."""

from __future__ import annotations

from aiohttp import web

from accounts import audit, invitations, memberships, officials
from accounts.permissions import PERMISSIONS, Action
from accounts.schemas import (
    AcceptIn,
    AcceptOut,
    ApproveIn,
    AuditPage,
    AuditQuery,
    BindingIn,
    InvitationCreated,
    InvitationIn,
    InvitationOut,
    MembershipOut,
    MembershipPage,
    MembershipQuery,
    OfficialIn,
    OfficialOut,
    OfficialQuery,
    PasswordChangeIn,
    PasswordResetIn,
    ReasonIn,
    VerificationIn,
    VerificationOut,
)
from core.auth import principal_of
from core.http import Api, path_id, session
from core.state import CACHE, SETTINGS

api = Api()
TAGS = ["onboarding"]


# ---------------------------------------------------------------- enterprise staff


@api.route(
    "POST",
    "/api/v1/me/enterprise-binding",
    body=BindingIn,
    response=MembershipOut,
    status=201,
    auth=True,
    roles=PERMISSIONS.roles(Action.REQUEST_BINDING),
    tags=TAGS,
    errors=[404, 409],
    summary="Ask to act for an enterprise by its credit code (registering it when it is not registered yet)",
)
async def request_binding(request: web.Request, body: BindingIn) -> MembershipOut:
    return await memberships.request_binding(session(request), request.app[CACHE], principal_of(request), body)


@api.route(
    "GET",
    "/api/v1/me/enterprise-binding",
    response=MembershipOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.REQUEST_BINDING),
    tags=TAGS,
    errors=[404],
    summary="The signed-in user's latest binding request and where it stands",
)
async def my_binding(request: web.Request) -> MembershipOut:
    return await memberships.my_binding(session(request), principal_of(request))


@api.route(
    "GET",
    "/api/v1/enterprise-memberships",
    query=MembershipQuery,
    response=MembershipPage,
    auth=True,
    roles=PERMISSIONS.roles(Action.MANAGE_STAFF),
    tags=TAGS,
    summary="Binding requests and staff: officials their region's enterprises', an administrator their own",
)
async def list_memberships(request: web.Request, query: MembershipQuery) -> MembershipPage:
    return await memberships.list_memberships(session(request), principal_of(request), query)


@api.route(
    "POST",
    "/api/v1/enterprise-memberships/{membership_id}/approve",
    body=ApproveIn,
    response=MembershipOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.MANAGE_STAFF),
    tags=TAGS,
    errors=[404, 409],
    summary="Approve a pending binding (the enterprise's administrator or an official of its region)",
)
async def approve_membership(request: web.Request, body: ApproveIn) -> MembershipOut:
    return await memberships.approve(
        session(request), request.app[CACHE], principal_of(request), path_id(request, "membership_id"), body
    )


@api.route(
    "POST",
    "/api/v1/enterprise-memberships/{membership_id}/reject",
    body=ReasonIn,
    response=MembershipOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.MANAGE_STAFF),
    tags=TAGS,
    errors=[404, 409],
    summary="Reject a pending binding, with the reason",
)
async def reject_membership(request: web.Request, body: ReasonIn) -> MembershipOut:
    return await memberships.reject(
        session(request), request.app[CACHE], principal_of(request), path_id(request, "membership_id"), body
    )


@api.route(
    "POST",
    "/api/v1/enterprise-memberships/{membership_id}/remove",
    body=ReasonIn,
    response=MembershipOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.MANAGE_STAFF),
    tags=TAGS,
    errors=[404, 409],
    summary="Remove a staff member from the enterprise, with the reason",
)
async def remove_membership(request: web.Request, body: ReasonIn) -> MembershipOut:
    return await memberships.remove(
        session(request), request.app[CACHE], principal_of(request), path_id(request, "membership_id"), body
    )


@api.route(
    "POST",
    "/api/v1/enterprises/{enterprise_id}/verification",
    body=VerificationIn,
    response=VerificationOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.VERIFY_ENTERPRISE),
    tags=TAGS,
    errors=[404, 409],
    summary="Verify (or reject) an enterprise registered by its staff; its registrant's binding follows",
)
async def verify_enterprise(request: web.Request, body: VerificationIn) -> VerificationOut:
    return await memberships.verify_enterprise(
        session(request), request.app[CACHE], principal_of(request), path_id(request, "enterprise_id"), body
    )


# ---------------------------------------------------------------- agency staff


@api.route(
    "POST",
    "/api/v1/agencies/{agency_id}/invitations",
    body=InvitationIn,
    response=InvitationCreated,
    status=201,
    auth=True,
    roles=PERMISSIONS.roles(Action.INVITE_AGENCY_STAFF),
    tags=TAGS,
    errors=[404],
    summary="Invite a staff member: a one-time, expiring code and link (officials of the region, the administrator)",
)
async def invite(request: web.Request, body: InvitationIn) -> InvitationCreated:
    return await invitations.invite(session(request), principal_of(request), path_id(request, "agency_id"), body)


@api.route(
    "GET",
    "/api/v1/agencies/{agency_id}/invitations",
    response=list[InvitationOut],
    auth=True,
    roles=PERMISSIONS.roles(Action.INVITE_AGENCY_STAFF),
    tags=TAGS,
    errors=[404],
    summary="An agency's invitations and their state (the codes are never shown again)",
)
async def list_invitations(request: web.Request) -> list[InvitationOut]:
    return await invitations.list_invitations(session(request), principal_of(request), path_id(request, "agency_id"))


@api.route(
    "POST",
    "/api/v1/agencies/{agency_id}/invitations/{invitation_id}/revoke",
    response=InvitationOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.INVITE_AGENCY_STAFF),
    tags=TAGS,
    errors=[404, 409],
    summary="Withdraw an invitation not yet accepted",
)
async def revoke_invitation(request: web.Request) -> InvitationOut:
    return await invitations.revoke(
        session(request), principal_of(request), path_id(request, "agency_id"), path_id(request, "invitation_id")
    )


@api.route(
    "POST",
    "/api/v1/invitations/accept",
    body=AcceptIn,
    response=AcceptOut,
    tags=TAGS,
    errors=[409],
    summary="Accept an agency invitation: binds the signed-in WeChat user, or makes a password account",
)
async def accept_invitation(request: web.Request, body: AcceptIn) -> AcceptOut:
    return await invitations.accept(
        session(request), request.app[CACHE], request.app[SETTINGS], principal_of(request), body
    )


# ---------------------------------------------------------------- officials and passwords


@api.route(
    "GET",
    "/api/v1/officials",
    query=OfficialQuery,
    response=list[OfficialOut],
    auth=True,
    roles=PERMISSIONS.roles(Action.MANAGE_OFFICIALS),
    tags=TAGS,
    summary="The officials of the administrator's region and below",
)
async def list_officials(request: web.Request, query: OfficialQuery) -> list[OfficialOut]:
    return await officials.list_officials(session(request), principal_of(request), query)


@api.route(
    "POST",
    "/api/v1/officials",
    body=OfficialIn,
    response=OfficialOut,
    status=201,
    auth=True,
    roles=PERMISSIONS.roles(Action.MANAGE_OFFICIALS),
    tags=TAGS,
    errors=[409],
    summary="Create an official of the administrator's region or below",
)
async def create_official(request: web.Request, body: OfficialIn) -> OfficialOut:
    return await officials.create_official(session(request), principal_of(request), body)


@api.route(
    "POST",
    "/api/v1/officials/{user_id}/deactivate",
    response=OfficialOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.MANAGE_OFFICIALS),
    tags=TAGS,
    errors=[404, 409],
    summary="Deactivate an official: no more sign-ins, every token stops at once",
)
async def deactivate_official(request: web.Request) -> OfficialOut:
    return await officials.deactivate_official(
        session(request), request.app[CACHE], principal_of(request), path_id(request, "user_id")
    )


@api.route(
    "POST",
    "/api/v1/officials/{user_id}/password",
    body=PasswordResetIn,
    response=OfficialOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.MANAGE_OFFICIALS),
    tags=TAGS,
    errors=[404, 409],
    summary="Reset an official's password; their tokens stop at once",
)
async def reset_password(request: web.Request, body: PasswordResetIn) -> OfficialOut:
    return await officials.reset_password(
        session(request), request.app[CACHE], principal_of(request), path_id(request, "user_id"), body
    )


@api.route(
    "POST",
    "/api/v1/me/password",
    body=PasswordChangeIn,
    status=204,
    auth=True,
    roles=PERMISSIONS.roles(Action.CHANGE_OWN_PASSWORD),
    tags=TAGS,
    errors=[409],
    summary="Change the signed-in user's password (the current one is asked); other sessions end",
)
async def change_password(request: web.Request, body: PasswordChangeIn) -> None:
    await officials.change_own_password(session(request), request.app[CACHE], principal_of(request), body)


@api.route(
    "GET",
    "/api/v1/account-audit",
    query=AuditQuery,
    response=AuditPage,
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_AUDIT),
    tags=TAGS,
    summary="Bindings, approvals, invitations, deactivations and password resets in the official's region",
)
async def read_audit(request: web.Request, query: AuditQuery) -> AuditPage:
    return await audit.read(session(request), principal_of(request), query)
