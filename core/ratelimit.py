"""Request limits per user and per client address, counted in the shared cache so every worker sees one count.

| limit | routes | per user | per address |
|---|---|---|---|
| chat | `POST /api/v1/chat` | `CHAT_LIMIT_PER_USER` | `CHAT_LIMIT_PER_ADDRESS` |
| search | `GET /api/v1/agencies` | `SEARCH_LIMIT_PER_USER` | `SEARCH_LIMIT_PER_ADDRESS` |
| chat | text / voice messages to `POST /wechat` | `CHAT_LIMIT_PER_USER` per openid | — |
| assistant_writes | the actions' tickets, unanswered questions | `ASSISTANT_WRITE_LIMIT_PER_SENDER` per sender | — |

(per `RATE_LIMIT_WINDOW_SECONDS`; failed logins have their own throttle in `accounts.throttle`.)

The official-account webhook counts with `RateLimiter.hit_sender` (key `rl:chat:s:wx:<openid>:<window number>`):
every WeChat message comes from WeChat's own addresses, so only the sender counts, and the webhook answers a sender
past the limit with a wait reply instead of a 429 (see `wechat.webhook`).

Counting is a fixed window: every attempt, refused or not, adds one to its user's and its address's counter (one
`INCR` per kind of key `rl:<limit>:<u|a>:<who>:<window number>`, whose expiry starts with the first request of the
window); a request is refused when either counter is past its limit, with 429 and `Retry-After` (the seconds to
the next window). A fixed window lets a client send up to twice the limit across a window boundary; that is good
enough to keep one user or one address from taking the chat or search capacity of everyone else, and costs one
round trip per kind of key.

The client address is the peer's, or — when the peer is a trusted reverse proxy (`TRUSTED_PROXIES`) — the last
entry of its `X-Forwarded-For` (the one the proxy added; earlier entries are whatever the client claimed). A
trusted peer without the header is a local process (health checks, benchmarks, Rasa): no address limit.

When the cache cannot count (Redis down) the limits are skipped for a few seconds (logged): they protect
capacity, and the chat and search keep serving from the database and Rasa without Redis. Logins, whose
throttle guards against password guessing, are refused instead (see `accounts.throttle`).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

from core.auth import principal_of
from core.cache import CACHE, Cache, CacheUnavailable
from core.errors import TooManyRequests
from core.settings import SETTINGS, Settings

log = logging.getLogger(__name__)

# After the cache failed to count, the limits are not asked for this long (so a dead Redis costs one timeout).
SKIP_AFTER_FAILURE_SECONDS = 5.0


class RateLimited(TooManyRequests):
    code = "rate_limited"


@dataclass(frozen=True, slots=True)
class Limit:
    name: str
    per_user: int
    per_address: int
    window_seconds: int


def limits_of(settings: Settings) -> dict[str, Limit]:
    window = settings.rate_limit_window_seconds
    return {
        "chat": Limit("chat", settings.chat_limit_per_user, settings.chat_limit_per_address, window),
        "search": Limit("search", settings.search_limit_per_user, settings.search_limit_per_address, window),
        "assistant_writes": Limit("assistant_writes", settings.assistant_write_limit_per_sender, 0, window),
    }


# (method, route path) -> the limit it counts against. The authorization and fuzz tests enumerate routes; this
# table names only the routes that are expensive per request (Rasa; uncached searches) or invite scraping.
ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/chat"): "chat",
    ("GET", "/api/v1/agencies"): "search",
}


def _trusted(settings: Settings) -> frozenset[str]:
    return frozenset(part for part in settings.trusted_proxies.split(",") if part)


def client_address(request: web.Request) -> str | None:
    """The client's address for per-address limits; None for a local process behind no proxy (see the module)."""
    peer = request.remote
    if peer is None:
        return None
    if peer not in _trusted(request.app[SETTINGS]):
        return peer
    forwarded = request.headers.get("X-Forwarded-For", "")
    last = forwarded.rsplit(",", 1)[-1].strip()
    if not last:
        return None
    try:
        return str(ipaddress.ip_address(last))
    except ValueError:
        log.warning("unreadable X-Forwarded-For from a trusted proxy", extra={"value": forwarded[:100]})
        return peer


class RateLimiter:
    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.enabled = settings.rate_limits
        self.limits = limits_of(settings)
        self._clock = clock
        self._skip_until = 0.0

    async def hit(self, cache: Cache, name: str, *, user_id: int | None, address: str | None) -> None:
        """Count one request against limit `name`; 429 (`RateLimited`) when the user or the address is past it."""
        limit = self.limits[name]
        checks: list[tuple[str, int, str]] = []
        if user_id is not None and limit.per_user > 0:
            checks.append((f"u:{user_id}", limit.per_user, "user"))
        if address is not None and limit.per_address > 0:
            checks.append((f"a:{address}", limit.per_address, "address"))
        await self._count(cache, limit, checks)

    async def hit_sender(self, cache: Cache, name: str, sender: str) -> None:
        """Count one message from `sender` against limit `name`'s per-user allowance; `RateLimited` when past it.

        For channels whose requests all arrive from the platform's own addresses (the WeChat webhook), where the
        sender — a conversation id such as `wx:<openid>` — is the only thing worth counting.
        """
        limit = self.limits[name]
        await self._count(cache, limit, [(f"s:{sender}", limit.per_user, "sender")] if limit.per_user > 0 else [])

    async def _count(self, cache: Cache, limit: Limit, checks: list[tuple[str, int, str]]) -> None:
        """Add one to each `(who, allowed, scope)` counter of this window; refuse when any is past its allowance."""
        if not self.enabled or not checks or time.monotonic() < self._skip_until:
            return
        name = limit.name
        now = self._clock()
        window = limit.window_seconds
        slot = int(now // window)
        retry_after = max(1, math.ceil((slot + 1) * window - now))
        counts: list[tuple[int, int, str]] = []
        for who, allowed, scope in checks:  # every attempt counts against each, refused or not
            try:
                counts.append((await cache.incr(f"rl:{name}:{who}:{slot}", window + 1), allowed, scope))
            except CacheUnavailable as exc:
                self._skip_until = time.monotonic() + SKIP_AFTER_FAILURE_SECONDS
                log.warning("rate limits skipped: the cache cannot count", extra={"limit": name, "error": str(exc)})
                return
        for count, allowed, scope in counts:
            if count > allowed:
                raise RateLimited(
                    f"too many {name} requests from this {scope}; try again in {retry_after} s",
                    retry_after=retry_after,
                    details={"limit": allowed, "window_seconds": window, "scope": scope, "retry_after": retry_after},
                )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def rate_limit_middleware(settings: Settings) -> Middleware:
    """Counts requests to the routes in `ROUTES`; placed after authentication so the user is known."""
    limiter = RateLimiter(settings)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        name = ROUTES.get((request.method, resource.canonical)) if resource is not None else None
        if name is not None and limiter.enabled:
            principal = principal_of(request)
            await limiter.hit(
                request.app[CACHE],
                name,
                user_id=principal.user_id if principal is not None else None,
                address=client_address(request),
            )
        return await handler(request)

    return middleware
