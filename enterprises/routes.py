"""HTTP surface of enterprises: thin handlers over `enterprises.profiles`."""

from __future__ import annotations

from aiohttp import web

from core.auth import principal_of
from core.http import Api, path_id, session
from enterprises import profiles
from enterprises.permissions import PERMISSIONS, Action
from enterprises.schemas import (
    EnterpriseIn,
    EnterpriseOut,
    EnterprisePage,
    EnterprisePatch,
    EnterpriseQuery,
    QualificationIn,
)

api = Api()
TAGS = ["enterprises"]


@api.route(
    "POST",
    "/api/v1/enterprises",
    body=EnterpriseIn,
    response=EnterpriseOut,
    status=201,
    auth=True,
    roles=PERMISSIONS.roles(Action.CREATE),
    tags=TAGS,
    errors=[409],
    summary="Register an enterprise (officials)",
)
async def create_enterprise(request: web.Request, body: EnterpriseIn) -> EnterpriseOut:
    return await profiles.create_enterprise(session(request), principal_of(request), body)


@api.route(
    "GET",
    "/api/v1/enterprises",
    query=EnterpriseQuery,
    response=EnterprisePage,
    auth=True,
    roles=PERMISSIONS.roles(Action.LIST),
    tags=TAGS,
    summary="Search enterprises (officials)",
)
async def list_enterprises(request: web.Request, query: EnterpriseQuery) -> EnterprisePage:
    return await profiles.list_enterprises(session(request), principal_of(request), query)


@api.route(
    "GET",
    "/api/v1/me/enterprise",
    response=EnterpriseOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.READ),
    tags=TAGS,
    summary="The enterprise the signed-in enterprise staff member belongs to",
)
async def my_enterprise(request: web.Request) -> EnterpriseOut:
    return await profiles.my_enterprise(session(request), principal_of(request))


@api.route(
    "GET",
    "/api/v1/enterprises/{enterprise_id}",
    response=EnterpriseOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.READ),
    tags=TAGS,
    summary="One enterprise (officials; enterprise staff their own)",
)
async def get_enterprise(request: web.Request) -> EnterpriseOut:
    return await profiles.get_enterprise(session(request), principal_of(request), path_id(request, "enterprise_id"))


@api.route(
    "PATCH",
    "/api/v1/enterprises/{enterprise_id}",
    body=EnterprisePatch,
    response=EnterpriseOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.UPDATE),
    tags=TAGS,
    summary="Correct an enterprise's details (officials)",
)
async def update_enterprise(request: web.Request, body: EnterprisePatch) -> EnterpriseOut:
    return await profiles.update_enterprise(
        session(request), principal_of(request), path_id(request, "enterprise_id"), body
    )


@api.route(
    "PUT",
    "/api/v1/enterprises/{enterprise_id}/qualification",
    body=QualificationIn,
    response=EnterpriseOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.SET_QUALIFICATION),
    tags=TAGS,
    summary="Record a verified qualification, with certificate number and expiry (officials)",
)
async def set_qualification(request: web.Request, body: QualificationIn) -> EnterpriseOut:
    return await profiles.set_qualification(
        session(request), principal_of(request), path_id(request, "enterprise_id"), body
    )
