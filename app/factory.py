"""The app factory: the one place where settings, engines, pools, middlewares and every domain's routes meet."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Protocol

import aiohttp
from aiohttp import web, web_response

import accounts.onboarding_routes
import accounts.routes
import agencies.routes
import bot.routes
import core.console
import enterprises.routes
import fast_track.routes
import vouchers.routes
import wechat.routes
from app import account_pushes, credit_notices
from core.auth import auth_middleware
from core.cache import make_cache
from core.db import Database
from core.errors import error_middleware
from core.events import EventBus
from core.http import Api, unit_of_work_middleware
from core.logs import request_id_middleware
from core.metrics import Metrics, metrics_handler, metrics_middleware
from core.openapi import openapi_document
from core.ratelimit import rate_limit_middleware
from core.settings import Settings
from core.state import API, CACHE, DATABASE, EVENTS, HTTP_CLIENT, METRICS, READINESS_CHECKS, SETTINGS

API_TITLE = "ip-assistant API"
API_VERSION = "1.0.0"
MAX_BODY_BYTES = 2 * 1024 * 1024
# The `Server` header: a name, no versions (aiohttp's own names Python's and its version).
SERVER_NAME = "ip-assistant"
# On every response; the console's pages set a Content-Security-Policy of their own (core.console), kept as it is.
# The API answers JSON, which loads nothing: its policy allows nothing, and nothing may frame it.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class Domain(Protocol):
    """What a domain's routes module offers the factory: its routes, and optionally a `setup(app)` hook."""

    api: Api


DOMAINS: tuple[Domain, ...] = (
    accounts.routes,
    accounts.onboarding_routes,
    agencies.routes,
    bot.routes,
    core.console,
    enterprises.routes,
    fast_track.routes,
    vouchers.routes,
    wechat.routes,
)


def create_app(settings: Settings, *, domains: Iterable[Domain] = DOMAINS) -> web.Application:
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[
            request_id_middleware,
            metrics_middleware,
            error_middleware,
            auth_middleware,
            rate_limit_middleware(settings),
            unit_of_work_middleware,
        ],
    )
    app.on_response_prepare.append(_security_headers)
    # aiohttp answers malformed HTTP itself, before any app (or the hook above) sees the request.
    web_response.SERVER_SOFTWARE = SERVER_NAME  # type: ignore[attr-defined]
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app[READINESS_CHECKS] = {}
    app[EVENTS] = EventBus()  # the domains subscribe in their setup hooks, below
    api = Api()
    app[API] = api

    async def resources(app: web.Application) -> AsyncIterator[None]:
        sqlite_path = settings.sqlite_path()
        if sqlite_path is not None:
            sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        app[DATABASE] = Database(settings.database_url, events=app[EVENTS])
        app[CACHE] = make_cache(
            str(settings.redis_url) if settings.redis_url else None,
            settings.cache_prefix,
            near_bytes=settings.near_cache_mb * 1024 * 1024,
        )
        await app[CACHE].start()
        app[HTTP_CLIENT] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        yield
        await app[HTTP_CLIENT].close()
        await app[CACHE].close()
        await app[DATABASE].dispose()

    app.cleanup_ctx.append(resources)

    for domain in domains:
        api.include(domain.api)
        setup = getattr(domain, "setup", None)
        if setup is not None:
            setup(app)

    account_pushes.setup(app)
    credit_notices.setup(app)  # agencies' objection decisions → the WeChat push outbox
    api.add_to(app)
    openapi = openapi_document(api, title=API_TITLE, version=API_VERSION)

    async def openapi_handler(_request: web.Request) -> web.Response:
        return web.json_response(openapi)

    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/readyz", readyz, name="readyz")
    app.router.add_get("/metrics", metrics_handler, name="metrics")
    app.router.add_get("/api/v1/openapi.json", openapi_handler, name="openapi")
    return app


async def _security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = SERVER_NAME
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _check(probe: Callable[[], Awaitable[object]]) -> dict[str, object]:
    start = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), timeout=2)
    except Exception as exc:  # any failure of a dependency is the answer here, not an error of ours
        return {"status": "down", "error": type(exc).__name__}
    return {"status": "up", "latency_ms": round((time.perf_counter() - start) * 1000, 2)}


async def readyz(request: web.Request) -> web.Response:
    """Database, cache and every registered dependency (Rasa…) reported separately.

    Only the database decides readiness: without the cache the API serves from the database, and without Rasa
    the chat answers with its fallback menu.
    """
    app = request.app
    cache = app[CACHE]
    checks: dict[str, dict[str, object]] = {
        "database": await _check(app[DATABASE].ping),
        "cache": {**await _check(cache.ping), "backend": cache.backend},
    }
    for name, probe in app[READINESS_CHECKS].items():
        checks[name] = await _check(probe)
    ready = checks["database"]["status"] == "up"
    return web.json_response(
        {"status": "ready" if ready else "not_ready", "checks": checks}, status=200 if ready else 503
    )
