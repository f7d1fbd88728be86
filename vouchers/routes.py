"""HTTP surface of vouchers: thin handlers over the service modules (programs, issuing, holdings, redeeming,
redemptions, reports)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import wraps
from typing import Any

from aiohttp import web
from sqlalchemy.exc import TimeoutError as PoolTimeout

from agencies import service as agencies
from core.auth import principal_of
from core.errors import AppError, PayloadTooLarge, ServiceUnavailable
from core.http import Api, parse_body, path_id, session
from core.state import DATABASE, EVENTS
from vouchers import applications, holdings, issuing, programs, redeeming, redemptions, reports, reviews, transitions
from vouchers.errors import VoucherExpired
from vouchers.first_come import FirstComeDecider
from vouchers.flags import FlagWorker
from vouchers.permissions import PERMISSIONS, Action
from vouchers.schemas import (
    ApplicationDetail,
    ApplicationIn,
    ApplicationOut,
    ApplicationPage,
    ApplicationQuery,
    ApplicationSettingsIn,
    ApplyableProgramOut,
    BulkDecisionIn,
    BulkDecisionOut,
    CancelIn,
    ConfirmIn,
    DecisionIn,
    FlagOut,
    FlagQuery,
    IssueIn,
    IssueOut,
    ProgramIn,
    ProgramOut,
    ProgramQuery,
    RedeemIn,
    RedemptionOut,
    RedemptionQuery,
    ReportOut,
    ReportQuery,
    RevokeIn,
    SeriesOut,
    SeriesQuery,
    SettleIn,
    VoucherDetail,
    VoucherOut,
)

api = Api()
TAGS = ["vouchers"]
MAX_CSV_BYTES = 1024 * 1024

Handler = Callable[..., Awaitable[Any]]

# Requests that will wait on the same row lock (one voucher, one program) queue here first, inside the process,
# so a burst on one hot row holds one database connection instead of the whole pool (PostgreSQL still does the
# real locking across processes). Weak values: a lock disappears once no request holds it.
ROW_QUEUES: web.AppKey[weakref.WeakValueDictionary[str, asyncio.Lock]] = web.AppKey("voucher_row_queues")


# Money-moving requests in flight per process, below the connection pool's 20 (core.db: 10 + 10 overflow) so reads
# keep connections. The rest wait here, holding nothing, instead of failing on the pool's 5 s checkout timeout.
FIRST_COME: web.AppKey[FirstComeDecider] = web.AppKey("voucher_first_come")
WRITE_SLOTS: web.AppKey[asyncio.Semaphore] = web.AppKey("voucher_write_slots")
MAX_WRITES_IN_FLIGHT = 14


FLAG_WORKER: web.AppKey[FlagWorker] = web.AppKey("voucher_flag_worker")
FLAG_WORKER_STOP_SECONDS = 5.0


def setup(app: web.Application) -> None:
    app[FIRST_COME] = FirstComeDecider()
    app.cleanup_ctx.append(_first_come_loops)
    app[ROW_QUEUES] = weakref.WeakValueDictionary()
    app[WRITE_SLOTS] = asyncio.Semaphore(MAX_WRITES_IN_FLIGHT)
    app.cleanup_ctx.append(_flag_worker)


async def _flag_worker(app: web.Application) -> AsyncIterator[None]:
    """The worker that raises new redemptions' flags after their commit (`vouchers.flags`), in every process."""
    worker = app[FLAG_WORKER] = FlagWorker(app[DATABASE])
    worker.subscribe_to(app[EVENTS])
    task = asyncio.create_task(worker.run_forever())
    yield
    worker.stop()
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout=FLAG_WORKER_STOP_SECONDS)
    except TimeoutError:
        task.cancel()


@asynccontextmanager
async def pool_busy_as_503() -> AsyncIterator[None]:
    """A connection pool timeout becomes a clear 503 `database_busy` instead of a 500."""
    try:
        yield
    except PoolTimeout:
        message = "the database is too busy right now; retry in a moment"
        raise ServiceUnavailable(message, code="database_busy") from None


@asynccontextmanager
async def write_slot(app: web.Application) -> AsyncIterator[None]:
    """One of the process's write slots, held while a money-moving transaction runs."""
    async with app[WRITE_SLOTS], pool_busy_as_503():
        yield


async def _first_come_loops(app: web.Application) -> AsyncIterator[None]:
    """Registered after the database's context, so its loops finish before the engine is disposed."""
    yield
    await app[FIRST_COME].close()


def admitted(handler: Handler) -> Handler:
    """Run a money-moving handler within the process's write slots; a pool timeout anyway becomes a clear 503."""

    @wraps(handler)
    async def wrapper(request: web.Request, **kwargs: Any) -> Any:
        async with write_slot(request.app):
            return await handler(request, **kwargs)

    return wrapper


def row_queue(app: web.Application, key: str) -> asyncio.Lock:
    """The process's queue for requests that will wait on the row lock named `key`."""
    queues = app[ROW_QUEUES]
    lock = queues.get(key)
    if lock is None:
        lock = queues[key] = asyncio.Lock()
    return lock


def queued_on(kind: str, param: str) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: web.Request, **kwargs: Any) -> Any:
            async with row_queue(request.app, f"{kind}:{request.match_info[param]}"):
                return await handler(request, **kwargs)

        return wrapper

    return decorate


def keeps_expiry(handler: Handler) -> Handler:
    """When a write finds its voucher overdue it answers 409 and its transaction rolls back; record the expiry
    (with its audit row) in a transaction of its own first, so the lazy expiry is not lost with the rollback."""

    @wraps(handler)
    async def wrapper(request: web.Request, **kwargs: Any) -> Any:
        try:
            return await handler(request, **kwargs)
        except VoucherExpired as exc:
            await session(request).rollback()  # release the request's locks before taking them again
            await transitions.materialise_expiry(request.app[DATABASE], exc.voucher_id)
            raise

    return wrapper


def _inline_defs(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its `$defs` written in place, for a request body declared by hand (a `$ref` to
    `#/$defs/…` would point into the OpenAPI document's root, where there is no such thing)."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    result: dict[str, Any] = resolve(schema)
    return result


# ---------------------------------------------------------------- programs (the public directory)


@api.route(
    "GET",
    "/api/v1/voucher-programs",
    query=ProgramQuery,
    response=list[ProgramOut],
    tags=TAGS,
    summary="The voucher directory: what each programme pays for, for whom, and where it can be spent",
)
async def list_programs(request: web.Request, query: ProgramQuery) -> list[ProgramOut]:
    return await programs.list_programs(session(request), query)


@api.route(
    "POST",
    "/api/v1/voucher-programs",
    body=ProgramIn,
    response=ProgramOut,
    status=201,
    auth=True,
    roles=PERMISSIONS.roles(Action.CREATE_PROGRAM),
    tags=TAGS,
    summary="Create a programme with its budget (officials)",
)
async def create_program(request: web.Request, body: ProgramIn) -> ProgramOut:
    return await programs.create_program(session(request), principal_of(request), body)


@api.route(
    "GET",
    "/api/v1/voucher-programs/{program_id}",
    query=ProgramQuery,
    response=ProgramOut,
    tags=TAGS,
    summary="One programme, with every participating agency",
)
async def get_program(request: web.Request, query: ProgramQuery) -> ProgramOut:
    return await programs.get_program(session(request), path_id(request, "program_id"), query.min_rating)


@api.route(
    "POST",
    "/api/v1/voucher-programs/{program_id}/vouchers",
    response=IssueOut,
    status=201,
    auth=True,
    roles=PERMISSIONS.roles(Action.ISSUE),
    tags=TAGS,
    errors=[409, 413, 503],
    request_content={
        "application/json": {"schema": _inline_defs(IssueIn.model_json_schema())},
        "text/csv": {"schema": {"type": "string", "description": "header credit_code|enterprise_id[,face_value_fen]"}},
    },
    summary="Issue vouchers to one or many enterprises, from JSON or a CSV file; all or nothing, never past the budget",
)
@queued_on("program", "program_id")
@admitted
async def issue_vouchers(request: web.Request) -> IssueOut:
    program_id = path_id(request, "program_id")
    lines = None
    if request.content_type == "text/csv":
        raw = await request.read()
        if len(raw) > MAX_CSV_BYTES:
            raise PayloadTooLarge(f"the file is over {MAX_CSV_BYTES} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise AppError("the file must be UTF-8 text", code="invalid_encoding") from None
        body, lines = issuing.parse_issue_csv(text)
    else:
        body = await parse_body(request, IssueIn)
    return await issuing.issue_vouchers(session(request), principal_of(request), program_id, body, lines=lines)


@api.route(
    "GET",
    "/api/v1/voucher-programs/{program_id}/vouchers",
    response=list[VoucherOut],
    auth=True,
    roles=PERMISSIONS.roles(Action.LIST_PROGRAM_VOUCHERS),
    tags=TAGS,
    summary="The vouchers issued from a programme (officials)",
)
async def program_vouchers(request: web.Request) -> list[VoucherOut]:
    return await issuing.program_vouchers(session(request), principal_of(request), path_id(request, "program_id"))


@api.route(
    "GET",
    "/api/v1/voucher-programs/{program_id}/report",
    query=ReportQuery,
    response=ReportOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_REPORT),
    tags=TAGS,
    extra_responses={"200": {"description": "OK (JSON, or CSV with format=csv)"}},
    summary="Issued / redeemed / delivered / settled / expired / remaining, by agency and service (officials)",
)
async def program_report(request: web.Request, query: ReportQuery) -> ReportOut | web.Response:
    program_id = path_id(request, "program_id")
    report = await reports.program_report(session(request), principal_of(request), program_id)
    if query.format == "csv":
        return _csv_response(report)
    return report


@api.route(
    "GET",
    "/api/v1/voucher-programs/{program_id}/report.csv",
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_REPORT),
    tags=TAGS,
    extra_responses={"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}},
    summary="The programme report as a CSV file (officials)",
)
async def program_report_csv(request: web.Request) -> web.Response:
    report = await reports.program_report(session(request), principal_of(request), path_id(request, "program_id"))
    return _csv_response(report)


@api.route(
    "GET",
    "/api/v1/voucher-programs/{program_id}/report/series",
    query=SeriesQuery,
    response=SeriesOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_REPORT),
    tags=TAGS,
    extra_responses={"200": {"description": "OK (JSON, or CSV with format=csv)"}},
    summary="Spent per China day / week / month, cumulative, against the budget (officials)",
)
async def program_report_series(request: web.Request, query: SeriesQuery) -> SeriesOut | web.Response:
    program_id = path_id(request, "program_id")
    series = await reports.spending_series(session(request), principal_of(request), program_id, query)
    if query.format == "csv":
        response = web.Response(text=reports.series_csv(series), content_type="text/csv", charset="utf-8")
        filename = f"programme-{series.program_id}-series-{series.bucket.value}.csv"
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    return series


def _csv_response(report: ReportOut) -> web.Response:
    response = web.Response(text=reports.report_csv(report), content_type="text/csv", charset="utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="programme-{report.program_id}-report.csv"'
    return response


# ---------------------------------------------------------------- vouchers


@api.route(
    "GET",
    "/api/v1/me/vouchers",
    response=list[VoucherOut],
    auth=True,
    roles=PERMISSIONS.roles(Action.LIST_MY_VOUCHERS),
    tags=TAGS,
    summary="My enterprise's vouchers: balance, expiry, where usable, state and why",
)
async def my_vouchers(request: web.Request) -> list[VoucherOut]:
    return await holdings.list_my_vouchers(session(request), principal_of(request))


@api.route(
    "GET",
    "/api/v1/vouchers/{voucher_id}",
    response=VoucherDetail,
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_VOUCHER),
    tags=TAGS,
    summary="One voucher with its redemptions and full audit history (officials; the holder)",
)
async def get_voucher(request: web.Request) -> VoucherDetail:
    return await holdings.get_voucher(session(request), principal_of(request), path_id(request, "voucher_id"))


@api.route(
    "POST",
    "/api/v1/vouchers/{voucher_id}/redeem",
    body=RedeemIn,
    response=RedemptionOut,
    status=201,
    auth=True,
    roles=PERMISSIONS.roles(Action.REDEEM),
    tags=TAGS,
    errors=[409, 503],
    summary="Redeem at an agency for a service and price (enterprise staff); honours the Idempotency-Key header",
)
@queued_on("voucher", "voucher_id")
@admitted
@keeps_expiry
async def redeem(request: web.Request, body: RedeemIn) -> web.Response:
    result = await redeeming.redeem(
        session(request),
        principal_of(request),
        path_id(request, "voucher_id"),
        body,
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    response = web.Response(text=result.body, status=result.status, content_type="application/json")
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@api.route(
    "POST",
    "/api/v1/vouchers/{voucher_id}/revoke",
    body=RevokeIn,
    response=VoucherOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.REVOKE),
    tags=TAGS,
    errors=[409],
    summary="Withdraw a voucher with a reason; its unspent balance returns to the budget (officials)",
)
@queued_on("voucher", "voucher_id")
@admitted
@keeps_expiry
async def revoke(request: web.Request, body: RevokeIn) -> VoucherOut:
    return await issuing.revoke(session(request), principal_of(request), path_id(request, "voucher_id"), body)


# ---------------------------------------------------------------- redemptions and flags


@api.route(
    "GET",
    "/api/v1/redemptions",
    query=RedemptionQuery,
    response=list[RedemptionOut],
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_REDEMPTION),
    tags=TAGS,
    summary="Redemptions: an agency's own (state=pending: awaiting confirmation), an enterprise's own, or all",
)
async def list_redemptions(request: web.Request, query: RedemptionQuery) -> list[RedemptionOut]:
    return await redemptions.list_redemptions(session(request), principal_of(request), query)


@api.route(
    "GET",
    "/api/v1/redemptions/{redemption_id}",
    response=RedemptionOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_REDEMPTION),
    tags=TAGS,
    summary="One redemption",
)
async def get_redemption(request: web.Request) -> RedemptionOut:
    return await redemptions.get_redemption(session(request), principal_of(request), path_id(request, "redemption_id"))


@api.route(
    "POST",
    "/api/v1/redemptions/{redemption_id}/confirm",
    body=ConfirmIn,
    response=RedemptionOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.CONFIRM),
    tags=TAGS,
    errors=[409],
    summary="Confirm delivery with evidence (staff of the agency the redemption was made at)",
)
@admitted
async def confirm(request: web.Request, body: ConfirmIn) -> RedemptionOut:
    return await redemptions.confirm(session(request), principal_of(request), path_id(request, "redemption_id"), body)


@api.route(
    "POST",
    "/api/v1/redemptions/{redemption_id}/settle",
    body=SettleIn,
    response=RedemptionOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.SETTLE),
    tags=TAGS,
    errors=[409],
    summary="Pay (approve) or reject a delivered redemption; a flagged one needs the decision (officials)",
)
@admitted
async def settle(request: web.Request, body: SettleIn) -> RedemptionOut:
    return await redemptions.settle(session(request), principal_of(request), path_id(request, "redemption_id"), body)


@api.route(
    "POST",
    "/api/v1/redemptions/{redemption_id}/cancel",
    body=CancelIn,
    response=RedemptionOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.CANCEL),
    tags=TAGS,
    errors=[409, 503],
    summary="Withdraw a redemption the agency has not confirmed; the amount goes back on the voucher "
    "(staff of the redeeming enterprise; officials, with a reason)",
)
@admitted
async def cancel(request: web.Request, body: CancelIn) -> RedemptionOut:
    return await redemptions.cancel(session(request), principal_of(request), path_id(request, "redemption_id"), body)


@api.route(
    "GET",
    "/api/v1/voucher-flags",
    query=FlagQuery,
    response=list[FlagOut],
    auth=True,
    roles=PERMISSIONS.roles(Action.LIST_FLAGS),
    tags=TAGS,
    summary="Anti-abuse flags with their evidence (officials)",
)
async def list_flags(request: web.Request, query: FlagQuery) -> list[FlagOut]:
    return await redemptions.list_flags(session(request), principal_of(request), query)


# ---------------------------------------------------------------- applications (申领)


@api.route(
    "PUT",
    "/api/v1/voucher-programs/{program_id}/applications",
    body=ApplicationSettingsIn,
    response=ProgramOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.CONFIGURE_APPLICATIONS),
    tags=TAGS,
    summary="Open a programme for applications: opening and closing time, documents, review by an official or "
    "first come first served (officials)",
)
@queued_on("program", "program_id")
async def configure_applications(request: web.Request, body: ApplicationSettingsIn) -> ProgramOut:
    return await applications.configure(session(request), principal_of(request), path_id(request, "program_id"), body)


@api.route(
    "GET",
    "/api/v1/me/voucher-programs",
    response=list[ApplyableProgramOut],
    auth=True,
    roles=PERMISSIONS.roles(Action.LIST_APPLYABLE),
    tags=TAGS,
    summary="Programmes taking applications, whether my enterprise qualifies (and why not), and my application",
)
async def applyable_programs(request: web.Request) -> list[ApplyableProgramOut]:
    return await applications.applyable_programs(session(request), principal_of(request))


@api.route(
    "POST",
    "/api/v1/voucher-programs/{program_id}/applications",
    body=ApplicationIn,
    response=ApplicationOut,
    status=201,
    auth=True,
    roles=PERMISSIONS.roles(Action.APPLY),
    tags=TAGS,
    errors=[409, 503],
    extra_responses={"200": {"description": "already applied with the same documents: the same application again"}},
    summary="Apply for a voucher for my enterprise; one application per programme, a repeat gets the same answer "
    "(enterprise staff)",
)
async def submit_application(request: web.Request, body: ApplicationIn) -> web.Response:
    # Two transactions: the application commits first, within a write slot; a first-come one is then decided under
    # the programme's lock with every other committed one still waiting, by the process's deciding loop
    # (vouchers.first_come). Waiting for it holds no write slot and no connection: holding a slot meanwhile let a
    # burst's submissions in only as fast as batches were decided.
    db = request.app[DATABASE]
    async with write_slot(request.app), db.transaction() as submitting:
        result = await applications.submit(submitting, principal_of(request), path_id(request, "program_id"), body)
    if result.awaits_decision:
        async with pool_busy_as_503():
            result = await request.app[FIRST_COME].decision(db, result)
    response = web.Response(
        text=result.application.model_dump_json(),
        status=200 if result.replayed else 201,
        content_type="application/json",
    )
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@api.route(
    "GET",
    "/api/v1/voucher-applications",
    query=ApplicationQuery,
    response=ApplicationPage,
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_APPLICATION),
    tags=TAGS,
    summary="Applications: by programme, state, region, name or credit code (officials); my enterprise's own",
)
async def list_applications(request: web.Request, query: ApplicationQuery) -> ApplicationPage:
    return await applications.list_applications(session(request), principal_of(request), query)


@api.route(
    "GET",
    "/api/v1/voucher-applications/{application_id}",
    response=ApplicationDetail,
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_APPLICATION),
    tags=TAGS,
    summary="One application with the applicant's qualification, earlier vouchers and the decision history",
)
async def get_application(request: web.Request) -> ApplicationDetail:
    return await applications.get_application(
        session(request), principal_of(request), path_id(request, "application_id")
    )


@api.route(
    "POST",
    "/api/v1/voucher-applications/{application_id}/decision",
    body=DecisionIn,
    response=ApplicationDetail,
    auth=True,
    roles=PERMISSIONS.roles(Action.DECIDE_APPLICATION),
    tags=TAGS,
    errors=[409, 503],
    summary="Approve (the voucher is issued from the budget), waitlist or reject with a reason (officials)",
)
@admitted
async def decide_application(request: web.Request, body: DecisionIn) -> ApplicationDetail:
    return await applications.decide(session(request), principal_of(request), path_id(request, "application_id"), body)


@api.route(
    "POST",
    "/api/v1/voucher-applications/decisions",
    body=BulkDecisionIn,
    response=BulkDecisionOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.DECIDE_APPLICATION),
    tags=TAGS,
    errors=[503],
    summary="The same decision for many applications; each one that cannot be decided is reported with its reason "
    "(officials)",
)
@admitted
async def decide_applications(request: web.Request, body: BulkDecisionIn) -> BulkDecisionOut:
    return await applications.decide_in_bulk(session(request), principal_of(request), body)


# Reviews of a delivered service are checked by vouchers (see vouchers.reviews); the route keeps the agencies' tag and
# operationId it has always had.
@api.route(
    "POST",
    "/api/v1/agencies/{agency_id}/reviews",
    body=agencies.ReviewIn,
    response=agencies.ReviewOut,
    status=201,
    auth=True,
    roles=agencies.PERMISSIONS.roles(agencies.Action.REVIEW),
    tags=["agencies"],
    errors=[409],
    summary="Review an agency after a delivered voucher service there (enterprise staff; one per redemption)",
    operation_id="agencies_add_review",
)
async def add_review(request: web.Request, body: agencies.ReviewIn) -> agencies.ReviewOut:
    return await reviews.review_delivered_service(
        session(request), principal_of(request), path_id(request, "agency_id"), body
    )
