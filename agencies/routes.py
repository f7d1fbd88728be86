"""HTTP surface of agencies: thin handlers over the package's service modules (permissions are checked there)."""

from __future__ import annotations

from aiohttp import web

from agencies import credit_events, credit_import, follows, profiles, reviews, search
from agencies.errors import UnsupportedMediaType
from agencies.permissions import PERMISSIONS, Action
from agencies.schemas import (
    AgencyDetail,
    AgencyIn,
    AgencyPage,
    AgencyPatch,
    CreditEventIn,
    CreditEventResult,
    CreditRecord,
    FollowOut,
    FollowsOut,
    ImportResult,
    ReverseIn,
    ReviewsOut,
    SearchQuery,
)
from core.auth import principal_of
from core.http import Api, NearCached, path_id, session
from core.state import CACHE, SETTINGS

api = Api()
TAGS = ["agencies"]


@api.route(
    "GET",
    "/api/v1/agencies",
    query=SearchQuery,
    response=AgencyPage,
    tags=TAGS,
    summary="Search agencies by name, region, service, field, rating and voucher acceptance",
    # Every process keeps recent pages in memory; any agency write bumps the namespace and drops them everywhere.
    near_cached=NearCached(search.SEARCH_NAMESPACE, ttl=lambda settings: settings.search_cache_ttl_seconds),
)
async def search_agencies(request: web.Request, query: SearchQuery) -> web.Response:
    found = await search.search(
        session(request),
        request.app[CACHE],
        query,
        cache_ttl=request.app[SETTINGS].search_cache_ttl_seconds,
    )
    return web.Response(text=found.text, content_type="application/json")


@api.route(
    "POST",
    "/api/v1/agencies",
    body=AgencyIn,
    response=AgencyDetail,
    status=201,
    auth=True,
    roles=PERMISSIONS.roles(Action.REGISTER),
    tags=TAGS,
    errors=[409],
    summary="Register an agency (officials)",
)
async def register_agency(request: web.Request, body: AgencyIn) -> AgencyDetail:
    return await profiles.register(session(request), request.app[CACHE], principal_of(request), body)


@api.route(
    "POST",
    "/api/v1/agencies/credit-import",
    response=ImportResult,
    auth=True,
    roles=PERMISSIONS.roles(Action.IMPORT_RESULTS),
    tags=TAGS,
    errors=[400, 415, 422],
    request_content={"text/csv": {"schema": {"type": "string"}}},
    summary="Import an official credit evaluation result file (CSV, all rows or none; officials)",
)
async def import_credit_results(request: web.Request) -> ImportResult:
    if request.content_type not in ("text/csv", "application/csv"):
        raise UnsupportedMediaType("send the file as text/csv")
    raw = await request.read()
    return await credit_import.import_results(session(request), request.app[CACHE], principal_of(request), raw)


@api.route(
    "GET",
    "/api/v1/agencies/{agency_id}",
    response=AgencyDetail,
    tags=TAGS,
    summary="An agency's profile, current rating, rating history, services and prices",
)
async def get_agency(request: web.Request) -> AgencyDetail:
    return await profiles.detail(session(request), principal_of(request), path_id(request, "agency_id"))


@api.route(
    "PATCH",
    "/api/v1/agencies/{agency_id}",
    body=AgencyPatch,
    response=AgencyDetail,
    auth=True,
    roles=PERMISSIONS.roles(Action.EDIT_PROFILE),
    tags=TAGS,
    errors=[409],
    summary="Edit a profile (agency staff: own agency, editable fields; officials: any field but the rating)",
)
async def update_agency(request: web.Request, body: AgencyPatch) -> AgencyDetail:
    return await profiles.update(
        session(request), request.app[CACHE], principal_of(request), path_id(request, "agency_id"), body
    )


@api.route(
    "POST",
    "/api/v1/agencies/{agency_id}/credit-events",
    body=CreditEventIn,
    response=CreditEventResult,
    status=201,
    auth=True,
    roles=PERMISSIONS.roles(Action.RECORD_CREDIT),
    tags=TAGS,
    summary="Record a deduction or bonus; the score and level are recomputed (officials)",
)
async def add_credit_event(request: web.Request, body: CreditEventIn) -> CreditEventResult:
    return await credit_events.record_event(
        session(request), request.app[CACHE], principal_of(request), path_id(request, "agency_id"), body
    )


@api.route(
    "GET",
    "/api/v1/agencies/{agency_id}/credit-events",
    response=CreditRecord,
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_CREDIT_RECORD),
    tags=TAGS,
    summary="The credit record: every event, reversed or not (officials; agency staff for their own)",
)
async def list_credit_events(request: web.Request) -> CreditRecord:
    return await credit_events.credit_record(session(request), principal_of(request), path_id(request, "agency_id"))


@api.route(
    "POST",
    "/api/v1/agencies/{agency_id}/credit-events/{event_id}/reverse",
    body=ReverseIn,
    response=CreditEventResult,
    status=201,
    auth=True,
    roles=PERMISSIONS.roles(Action.RECORD_CREDIT),
    tags=TAGS,
    errors=[409],
    summary="Reverse a credit event by recording its opposite (never deleted; officials)",
)
async def reverse_credit_event(request: web.Request, body: ReverseIn) -> CreditEventResult:
    return await credit_events.reverse_event(
        session(request),
        request.app[CACHE],
        principal_of(request),
        path_id(request, "agency_id"),
        path_id(request, "event_id"),
        body,
    )


@api.route(
    "POST",
    "/api/v1/agencies/{agency_id}/follow",
    response=FollowOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.FOLLOW),
    tags=TAGS,
    summary="Follow an agency to be told when its rating changes (enterprise staff; idempotent)",
)
async def follow_agency(request: web.Request) -> FollowOut:
    return await follows.follow(session(request), principal_of(request), path_id(request, "agency_id"))


@api.route(
    "DELETE",
    "/api/v1/agencies/{agency_id}/follow",
    status=204,
    auth=True,
    roles=PERMISSIONS.roles(Action.FOLLOW),
    tags=TAGS,
    summary="Stop following an agency (enterprise staff; idempotent)",
)
async def unfollow_agency(request: web.Request) -> None:
    await follows.unfollow(session(request), principal_of(request), path_id(request, "agency_id"))


@api.route(
    "GET",
    "/api/v1/me/follows",
    response=FollowsOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.FOLLOW),
    tags=TAGS,
    summary="The agencies I follow (enterprise staff)",
)
async def my_follows(request: web.Request) -> FollowsOut:
    return await follows.my_follows(session(request), principal_of(request))


@api.route(
    "GET",
    "/api/v1/agencies/{agency_id}/reviews",
    response=ReviewsOut,
    tags=TAGS,
    summary="An agency's reviews, newest first, with their count and average",
)
async def list_reviews(request: web.Request) -> ReviewsOut:
    return await reviews.list_reviews(session(request), path_id(request, "agency_id"))
