"""Prometheus metrics: request counts and latency histograms per route (the route template, not the raw path),
served at `/metrics` only to METRICS_ALLOW (loopback by default) or a METRICS_TOKEN bearer."""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

from core.auth import bearer_token
from core.errors import Forbidden
from core.ratelimit import client_address
from core.settings import SETTINGS


class Metrics:
    def __init__(self) -> None:
        # One registry per app, so several apps in one process (tests) do not collide.
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.near_cache = Counter(
            "near_cache_answers_total",
            "Answers of near-cached routes: from this process's memory (hit) or computed (miss)",
            ["route", "result"],
            registry=self.registry,
        )


METRICS: web.AppKey[Metrics] = web.AppKey("metrics")


def route_label(request: web.Request) -> str:
    route = request.match_info.route
    resource = route.resource
    if resource is None:
        return "unmatched"
    return resource.canonical


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    metrics = request.app[METRICS]
    start = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        label = route_label(request)
        metrics.requests.labels(request.method, label, str(status)).inc()
        metrics.latency.labels(request.method, label).observe(time.perf_counter() - start)


def metrics_allowed(request: web.Request) -> bool:
    """A client in METRICS_ALLOW (loopback by default; found as the rate limits find it, so behind a trusted
    proxy the address it forwards), or one sending METRICS_TOKEN as its bearer token (compared in constant time).
    Route counts and latencies map the service for whoever reads them, so the public port does not serve them."""
    settings = request.app[SETTINGS]
    token = bearer_token(request)
    by_token = (
        settings.metrics_token is not None
        and token is not None
        and hmac.compare_digest(token.encode("utf-8", "surrogatepass"), settings.metrics_token.encode())
    )
    address = client_address(request) or request.remote
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:  # a Unix socket, or no peer at all
        return by_token
    return by_token or any(ip in network for network in settings.metrics_networks)


async def metrics_handler(request: web.Request) -> web.Response:
    if not metrics_allowed(request):
        raise Forbidden("metrics are served to the addresses in METRICS_ALLOW, or with METRICS_TOKEN")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several workers share the port: report the sum over all of them, whichever one is asked.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
