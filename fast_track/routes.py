"""HTTP surface of the fast-track planner and the protection centres: thin handlers over `fast_track.service`,
`fast_track.centres` and `fast_track.drafts`."""

from __future__ import annotations

from aiohttp import web

from core.auth import principal_of
from core.cache import CACHE
from core.http import Api, path_id, session
from core.settings import SETTINGS
from fast_track import centres, service
from fast_track.agencies import PlanAgencies, PlanAgenciesQuery, agencies_for_plan
from fast_track.drafts import DOCX_TYPE
from fast_track.permissions import PERMISSIONS, Action
from fast_track.rules import load_rules
from fast_track.schemas import (
    CentreAuditOut,
    CentreIn,
    CentreOut,
    CentrePatch,
    CentreQuery,
    DraftQuery,
    PlanAnswer,
    PlanRequest,
)

api = Api()
TAGS = ["fast-track"]


def setup(_app: web.Application) -> None:
    """Validate the routes' data at start-up: a broken edit of the policy file stops the app with the reason."""
    load_rules()


@api.route(
    "POST",
    "/api/v1/fast-track/plan",
    body=PlanRequest,
    response=PlanAnswer,
    tags=TAGS,
    summary="The fast-track planner: each route's verdict for one application, ranked soonest first",
)
async def plan(request: web.Request, body: PlanRequest) -> PlanAnswer:
    return await service.plan_for(session(request), principal_of(request), body)


@api.route(
    "GET",
    "/api/v1/fast-track/draft",
    query=DraftQuery,
    tags=TAGS,
    errors=[409],
    extra_responses={
        "200": {
            "description": "the drafted .docx",
            "content": {DOCX_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    summary="Download the drafted request (priority_exam) or checklist (pph) for the plan of the same inputs",
)
async def download_draft(request: web.Request, query: DraftQuery) -> web.Response:
    drafted = await service.draft_for(session(request), principal_of(request), query)
    return web.Response(
        body=drafted.content,
        content_type=DOCX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{drafted.filename}"', "Cache-Control": "no-store"},
    )


@api.route(
    "GET",
    "/api/v1/fast-track/agencies",
    query=PlanAgenciesQuery,
    response=PlanAgencies,
    tags=TAGS,
    summary="Agencies that can carry out a route: region, service, field, best credit first; voucher-payable marked",
)
async def plan_agencies(request: web.Request, query: PlanAgenciesQuery) -> PlanAgencies:
    return await agencies_for_plan(
        session(request),
        request.app[CACHE],
        principal_of(request),
        query,
        cache_ttl=request.app[SETTINGS].search_cache_ttl_seconds,
    )


@api.route(
    "GET",
    "/api/v1/fast-track/centres",
    query=CentreQuery,
    response=list[CentreOut],
    tags=TAGS,
    summary="IP protection centres and fast rights-protection centres (those serving `region`, closest first)",
)
async def list_centres(request: web.Request, query: CentreQuery) -> list[CentreOut]:
    return await centres.list_centres(session(request), query)


@api.route(
    "GET",
    "/api/v1/fast-track/centres/{centre_id}",
    response=CentreOut,
    tags=TAGS,
    errors=[404],
    summary="One protection centre",
)
async def get_centre(request: web.Request) -> CentreOut:
    return await centres.get_centre(session(request), path_id(request, "centre_id"))


@api.route(
    "POST",
    "/api/v1/fast-track/centres",
    body=CentreIn,
    response=CentreOut,
    status=201,
    auth=True,
    roles=PERMISSIONS.roles(Action.MANAGE_CENTRES),
    tags=TAGS,
    errors=[409],
    summary="Add a protection centre (officials, in their jurisdiction)",
)
async def create_centre(request: web.Request, body: CentreIn) -> CentreOut:
    return await centres.create_centre(session(request), principal_of(request), body)


@api.route(
    "PATCH",
    "/api/v1/fast-track/centres/{centre_id}",
    body=CentrePatch,
    response=CentreOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.MANAGE_CENTRES),
    tags=TAGS,
    errors=[404, 409],
    summary="Correct a protection centre (officials, in their jurisdiction)",
)
async def update_centre(request: web.Request, body: CentrePatch) -> CentreOut:
    return await centres.update_centre(session(request), principal_of(request), path_id(request, "centre_id"), body)


@api.route(
    "DELETE",
    "/api/v1/fast-track/centres/{centre_id}",
    status=204,
    auth=True,
    roles=PERMISSIONS.roles(Action.MANAGE_CENTRES),
    tags=TAGS,
    errors=[404],
    summary="Remove a protection centre (officials, in their jurisdiction); its audit stays",
)
async def delete_centre(request: web.Request) -> None:
    await centres.delete_centre(session(request), principal_of(request), path_id(request, "centre_id"))


@api.route(
    "GET",
    "/api/v1/fast-track/centres/{centre_id}/audit",
    response=list[CentreAuditOut],
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_CENTRE_AUDIT),
    tags=TAGS,
    errors=[404],
    summary="Who changed a protection centre, when and what (officials, in their jurisdiction)",
)
async def centre_audit(request: web.Request) -> list[CentreAuditOut]:
    return await centres.centre_audit(session(request), principal_of(request), path_id(request, "centre_id"))
