"""Declared routes: the schemas that validate a request are the ones the OpenAPI document is built from.

    api = Api()

    @api.route("POST", "/api/v1/agencies/{agency_id}/credit-events", body=CreditEventIn, response=AgencyOut,
               status=201, auth=True, roles=PERMISSIONS.roles(Action.RECORD_CREDIT), tags=["agencies"],
               summary="Record a credit event")
    async def add_credit_event(request: web.Request, body: CreditEventIn) -> AgencyOut: ...

The wrapper refuses first whoever may not call the route — anonymous on a signed-in route (401), a role outside
the declared `roles` (403, read from the domain's permission table; the service checks again) — and only then
parses `body` (JSON) and `query` into the declared pydantic models (failures are 422 naming the field): a caller
who may not use a route learns nothing of its input. It hands over the unit of work's session via
`session(request)` and serialises a returned model.

A public GET whose answer depends on nothing but its URL can declare `near_cached=NearCached(namespace, ttl)`: its
200 answers are then kept in the process's near cache (`core.nearcache`) under the raw path and query, and served
from there — before the query is even parsed — until the namespace is bumped or the TTL passes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, get_args, get_origin

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import PRINCIPAL, Role, require
from core.cache import CACHE
from core.db import DATABASE, UNIT_OF_WORK, UnitOfWork, commit
from core.digits import ascii_int, is_ascii_digits
from core.errors import AppError, NotFound, Unauthenticated, ValidationFailed, field_error
from core.metrics import METRICS
from core.settings import SETTINGS, Settings

RouteHandler = Callable[..., Awaitable[Any]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)
PATH_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class NearCached:
    """A route's 200 answers kept in each process's near cache, dropped when `namespace` is bumped."""

    namespace: str
    ttl: Callable[[Settings], int]  # seconds, read from the settings; 0 keeps nothing


@dataclass(slots=True)
class RouteSpec:
    method: str
    path: str
    handler: RouteHandler
    summary: str
    tags: list[str]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    auth: bool = False
    # The roles that may call the route (from the domain's PermissionTable); None: any signed-in or anonymous caller.
    roles: frozenset[Role] | None = None
    errors: Sequence[int] = ()
    extra_responses: dict[str, Any] = field(default_factory=dict)
    request_content: dict[str, Any] | None = None
    near_cached: NearCached | None = None
    # The OpenAPI operationId, when "<handler's package>_<handler's name>" is not it (a route that moved).
    operation_id: str | None = None
    # A GET that writes (a poster's QR code made on first download) gets a write transaction, not the read-only session.
    writes: bool = False


class Api:
    """Collects the routes of every domain; the app factory adds them to the router and to the OpenAPI doc."""

    def __init__(self) -> None:
        self.routes: list[RouteSpec] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tags: Sequence[str] = (),
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        auth: bool = False,
        roles: frozenset[Role] | None = None,
        errors: Sequence[int] = (),
        extra_responses: dict[str, Any] | None = None,
        request_content: dict[str, Any] | None = None,
        near_cached: NearCached | None = None,
        operation_id: str | None = None,
        writes: bool = False,
    ) -> Callable[[RouteHandler], RouteHandler]:
        if near_cached is not None and (method.upper() != "GET" or auth):
            raise ValueError("only public GET answers can be near-cached: they must depend on the URL alone")
        if roles is not None and not (auth and roles):
            raise ValueError("a route that names its roles is a signed-in route (auth=True) with at least one role")

        def register(handler: RouteHandler) -> RouteHandler:
            self.routes.append(
                RouteSpec(
                    method=method.upper(),
                    path=path,
                    handler=handler,
                    summary=summary,
                    tags=list(tags),
                    body=body,
                    query=query,
                    response=response,
                    status=status,
                    auth=auth,
                    roles=roles,
                    errors=errors,
                    extra_responses=extra_responses or {},
                    request_content=request_content,
                    near_cached=near_cached,
                    operation_id=operation_id,
                    writes=writes,
                )
            )
            return handler

        return register

    def include(self, other: Api) -> None:
        self.routes.extend(other.routes)

    def add_to(self, app: web.Application) -> None:
        for spec in self.routes:
            app.router.add_route(spec.method, spec.path, _wrap(spec))


API: web.AppKey[Api] = web.AppKey("api")


def session(request: web.Request) -> AsyncSession:
    """The session of the request's unit of work (see `unit_of_work_middleware`), opened on first use."""
    return request[UNIT_OF_WORK].open()


@web.middleware
async def unit_of_work_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One transaction per API request: committed when the handler answers below 400, rolled back otherwise.

    The session opens only when the handler first asks for it (`session`). A request that only reads (GET, HEAD,
    OPTIONS) gets `Database.request_reader`: on PostgreSQL its statements run without BEGIN and COMMIT.
    """
    if not request.path.startswith(("/api/", "/bot/")):
        return await handler(request)
    db = request.app[DATABASE]
    unit = UnitOfWork(db.request_reader if request.method in ("GET", "HEAD", "OPTIONS") else db.writer)
    request[UNIT_OF_WORK] = unit
    try:
        response = await handler(request)
    except BaseException:
        if unit.session is not None:
            await unit.session.close()  # closing rolls back whatever the handler began
        raise
    session = unit.session
    if session is None:
        return response
    try:
        if response.status < 400:
            # A request that opened a session but never touched the database has nothing to commit.
            if (
                session.in_transaction()
                or session.new
                or session.dirty
                or session.deleted
                or session.info.get("after_commit")
            ):
                await commit(session)
        else:
            await session.rollback()
    finally:
        await session.close()
    return response


# Every id is a positive BIGINT: 18 ASCII digits hold all we ever issue; more (or other digits) name nothing.
PATH_ID_DIGITS = 18


def path_id(request: web.Request, name: str) -> int:
    """An integer id from the path; anything else cannot name a resource, so it is a 404."""
    raw = request.match_info[name]
    value = ascii_int(raw, max_digits=PATH_ID_DIGITS)
    if value is None:
        shown = raw if len(raw) <= 24 else raw[:24] + "…"
        raise NotFound(f"no resource with {name} {shown!r}")
    return value


def validation_error(exc: ValidationError, *, prefix: str = "") -> ValidationFailed:
    details = []
    for err in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = ".".join(str(part) for part in err["loc"]) or "body"
        details.append({"field": f"{prefix}{loc}", "message": err["msg"], "type": err["type"]})
    first = details[0]
    return ValidationFailed(f"{first['field']}: {first['message']}", details=details)


# What no column can store, refused up front the same on both databases: U+0000 in text (PostgreSQL text cannot
# hold it; SQLite can), lone surrogates (JSON's "\ud800" parses, but no driver can encode it) and integers beyond
# 64 bits (every id and amount is a BIGINT; the drivers fail on more).
NUL_MESSAGE = "must not contain the NUL character (U+0000)"
SURROGATE_MESSAGE = "must be valid Unicode text (no lone surrogate)"
INT_MESSAGE = "is out of range (a 64-bit integer)"
INT_LIMIT = 2**63 - 1
INT_DIGITS = 19  # of INT_LIMIT


class _LongInt:
    """A JSON integer literal longer than any 64-bit value ("-" and 19 digits): read as this marker, never as an
    int (Python refuses to convert more than 4,300 digits), and reported by field like any value out of range."""


_LONG_INT = _LongInt()


def _json_int(literal: str) -> int | _LongInt:
    return _LONG_INT if len(literal) > INT_DIGITS + 1 else int(literal)


def _beyond_int_limit(text: str) -> bool:
    """Whether `text` is an integer (ASCII digits, optionally signed) no 64-bit column holds; `int()` only ever
    sees 19 digits or fewer."""
    digits = text.strip().lstrip("+-").lstrip("0")
    return is_ascii_digits(digits) and (len(digits) > INT_DIGITS or int(digits) > INT_LIMIT)


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _unstorable(value: Any, where: str) -> tuple[str, str] | None:
    """(dotted path, why) of the first value no column could hold, or None."""
    if value is _LONG_INT:
        return where, INT_MESSAGE
    if isinstance(value, str):
        if "\x00" in value:
            return where, NUL_MESSAGE
        return None if value.isascii() or _encodable(value) else (where, SURROGATE_MESSAGE)
    if isinstance(value, int) and not isinstance(value, bool):
        return (where, INT_MESSAGE) if abs(value) > INT_LIMIT else None
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if "\x00" in str(key):
                return path, NUL_MESSAGE
            if not _encodable(str(key)):
                return path.encode(errors="backslashreplace").decode(), SURROGATE_MESSAGE
            found = _unstorable(item, path)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _unstorable(item, f"{where}.{index}" if where else str(index))
            if found is not None:
                return found
    return None


async def parse_body(request: web.Request, model: type[M]) -> M:
    if request.content_type != "application/json":
        raise AppError("send the body as JSON (Content-Type: application/json)", code="unsupported_media_type")
    raw = await request.read()
    # Fixed messages: the parser's own exception text is not part of the contract.
    try:
        data = json.loads(raw, parse_int=_json_int) if raw else None
    except json.JSONDecodeError as exc:
        raise AppError(
            f"the body is not valid JSON (line {exc.lineno}, column {exc.colno})", code="invalid_json"
        ) from None
    except UnicodeDecodeError:
        raise AppError("the body is not valid JSON (not UTF-8 text)", code="invalid_json") from None
    except ValueError:
        raise AppError("the body is not valid JSON", code="invalid_json") from None
    except RecursionError:  # nested deeper than the parser goes: no request of ours looks like that
        raise AppError("the body is nested too deeply", code="invalid_json") from None
    if not isinstance(data, dict):
        raise ValidationFailed(
            "body: must be a JSON object", details=[{"field": "body", "message": "must be an object"}]
        )
    problem = _unstorable(data, "")
    if problem is not None:
        raise field_error(problem[0] or "body", problem[1])
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None
    _check_storable(parsed, prefix="")
    return parsed


def _check_storable(parsed: BaseModel, *, prefix: str) -> None:
    """Refuse what validation turned into an integer no column holds: pydantic also reads "1_000…" or "9…9.0" (a
    string in a JSON body, or any query value) as an int, of any size."""
    problem = _unstorable(parsed.model_dump(by_alias=True), "")
    if problem is not None:
        raise field_error(f"{prefix}{problem[0]}", problem[1])


def parse_query(request: web.Request, model: type[M]) -> M:
    for key, value in request.query.items():
        if "\x00" in value or "\x00" in key:
            raise field_error(f"query.{key}", NUL_MESSAGE)
        if _beyond_int_limit(value):
            raise field_error(f"query.{key}", INT_MESSAGE)
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        values = request.query.getall(key, [])
        if not values:
            continue
        data[key] = values if _is_list(info.annotation) else values[-1]
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, prefix="query.") from None
    _check_storable(parsed, prefix="query.")
    return parsed


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) in (list, tuple, set):
        return True
    return any(_is_list(arg) for arg in get_args(annotation))


def json_response(payload: Any, status: int = 200) -> web.Response:
    if isinstance(payload, BaseModel):
        text = payload.model_dump_json()
    else:
        text = TypeAdapter(type(payload)).dump_json(payload).decode() if payload is not None else "null"
    return web.Response(text=text, status=status, content_type="application/json")


def _wrap(spec: RouteSpec) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        if spec.writes:
            request[UNIT_OF_WORK].write(request.app[DATABASE].writer)
        if spec.auth and request.get(PRINCIPAL) is None:
            # Anonymous on a signed-in route: 401 before the input is read, whatever the body holds.
            raise Unauthenticated("log in first: this needs a bearer token")
        if spec.roles is not None:
            # The wrong role: 403 before the input is read, with the refusal the service itself would give.
            require(request.get(PRINCIPAL), *sorted(spec.roles))
        kwargs: dict[str, Any] = {}
        if spec.query is not None:
            kwargs["query"] = parse_query(request, spec.query)
        if spec.body is not None:
            kwargs["body"] = await parse_body(request, spec.body)
        result = await spec.handler(request, **kwargs)
        if isinstance(result, web.StreamResponse):
            return result
        if result is None:
            return web.Response(status=204 if spec.status == 200 else spec.status)
        return json_response(result, spec.status)

    handler.__name__ = spec.handler.__name__
    if spec.near_cached is None:
        return handler
    return _near_cached(spec.near_cached, spec.path, handler)


def _near_cached(
    cached: NearCached, route: str, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def near_cached_handler(request: web.Request) -> web.StreamResponse:
        ttl = cached.ttl(request.app[SETTINGS])
        near = request.app[CACHE].near
        # Read before anything is computed: a bump while we compute makes what we computed not count.
        generation = near.generation(cached.namespace) if ttl > 0 else None
        if generation is None:
            return await handler(request)
        key = request.raw_path
        kept = near.get(cached.namespace, key)
        answers = request.app[METRICS].near_cache
        if kept is not None:
            answers.labels(route, "hit").inc()
            return web.Response(body=kept, content_type="application/json", charset="utf-8")
        answers.labels(route, "miss").inc()
        response = await handler(request)
        if response.status == 200 and isinstance(response, web.Response) and isinstance(response.body, bytes):
            near.put(cached.namespace, key, response.body, generation=generation, ttl=ttl)
        return response

    near_cached_handler.__name__ = handler.__name__
    return near_cached_handler


# ---------------------------------------------------------------- OpenAPI
