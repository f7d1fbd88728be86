"""HTTP surface of agencies: thin handlers over the package's service modules (permissions are checked there)."""

from __future__ import annotations

from aiohttp import web

from agencies import audit, credit_events, credit_import, follows, objections, profiles, reviews, search
from agencies.errors import UnsupportedMediaType
from agencies.permissions import PERMISSIONS, Action
from agencies.schemas import (
    AgencyDetail,
    AgencyIn,
    AgencyPage,
    AgencyPatch,
    AuditOut,
    CreditEventIn,
    CreditEventResult,
    CreditRecord,
    DecisionIn,
    FollowOut,
    FollowsOut,
    HideIn,
    ImportResult,
    ObjectionIn,
    ObjectionQuery,
    ObjectionResult,
    ObjectionsOut,
    ReplyIn,
    RestoreIn,
    ReverseIn,
    ReviewOut,
    ReviewsOut,
    SearchQuery,
)
from core.auth import principal_of
from core.http import Api, NearCached, path_id, session
from core.state import CACHE, SETTINGS

api = Api()
TAGS = ["agencies"]


def setup(app: web.Application) -> None:
    reviews.setup(app)


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
    return await reviews.list_reviews(session(request), principal_of(request), path_id(request, "agency_id"))


@api.route(
    "POST",
    "/api/v1/agencies/{agency_id}/reviews/{review_id}/reply",
    body=ReplyIn,
    response=ReviewOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.REPLY_REVIEW),
    tags=TAGS,
    errors=[409],
    summary="Answer a review of your agency, once (agency staff)",
)
async def reply_to_review(request: web.Request, body: ReplyIn) -> ReviewOut:
    return await reviews.reply(
        session(request), principal_of(request), path_id(request, "agency_id"), path_id(request, "review_id"), body
    )


@api.route(
    "POST",
    "/api/v1/agencies/{agency_id}/reviews/{review_id}/hide",
    body=HideIn,
    response=ReviewOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.HIDE_REVIEW),
    tags=TAGS,
    errors=[409],
    summary="Hide an abusive review with a reason: out of the public list and the average (officials)",
)
async def hide_review(request: web.Request, body: HideIn) -> ReviewOut:
    return await reviews.hide(
        session(request),
        request.app[CACHE],
        principal_of(request),
        path_id(request, "agency_id"),
        path_id(request, "review_id"),
        body,
    )


@api.route(
    "POST",
    "/api/v1/agencies/{agency_id}/reviews/{review_id}/restore",
    body=RestoreIn,
    response=ReviewOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.RESTORE_REVIEW),
    tags=TAGS,
    errors=[409],
    summary="Show a hidden review again, with a reason: back in the public list and the average (officials)",
)
async def restore_review(request: web.Request, body: RestoreIn) -> ReviewOut:
    return await reviews.restore(
        session(request),
        request.app[CACHE],
        principal_of(request),
        path_id(request, "agency_id"),
        path_id(request, "review_id"),
        body,
    )


# ---------------------------------------------------------------- credit objections and the audit


@api.route(
    "POST",
    "/api/v1/agencies/{agency_id}/credit-events/{event_id}/objection",
    body=ObjectionIn,
    response=ObjectionResult,
    status=201,
    auth=True,
    roles=PERMISSIONS.roles(Action.OBJECT),
    tags=TAGS,
    errors=[409],
    summary="Object to a deduction with a reason and evidence, within the objection period (agency staff, own agency)",
)
async def object_to_event(request: web.Request, body: ObjectionIn) -> ObjectionResult:
    return await objections.file_objection(
        session(request),
        request.app[CACHE],
        principal_of(request),
        path_id(request, "agency_id"),
        path_id(request, "event_id"),
        body,
    )


@api.route(
    "GET",
    "/api/v1/credit-objections",
    query=ObjectionQuery,
    response=ObjectionsOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_OBJECTIONS),
    tags=TAGS,
    summary="Credit objections, pending first (officials: every agency's; agency staff: their own agency's)",
)
async def list_objections(request: web.Request, query: ObjectionQuery) -> ObjectionsOut:
    return await objections.list_objections(session(request), principal_of(request), query)


@api.route(
    "POST",
    "/api/v1/agencies/{agency_id}/objections/{objection_id}/decision",
    body=DecisionIn,
    response=ObjectionResult,
    auth=True,
    roles=PERMISSIONS.roles(Action.DECIDE_OBJECTION),
    tags=TAGS,
    errors=[409],
    summary="Decide an objection: uphold the event, or reverse it and recompute the score (officials)",
)
async def decide_objection(request: web.Request, body: DecisionIn) -> ObjectionResult:
    return await objections.decide(
        session(request),
        request.app[CACHE],
        principal_of(request),
        path_id(request, "agency_id"),
        path_id(request, "objection_id"),
        body,
    )


@api.route(
    "GET",
    "/api/v1/agencies/{agency_id}/audit",
    response=AuditOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_AUDIT),
    tags=TAGS,
    summary="Who did what to the agency's credit record and reviews, newest first (officials; agency staff: own)",
)
async def agency_audit(request: web.Request) -> AuditOut:
    return await audit.audit_of(session(request), principal_of(request), path_id(request, "agency_id"))
