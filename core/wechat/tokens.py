"""The access token (and the JS-SDK's jsapi_ticket), shared by every process through the cache and refreshed under
a cache lock.

WeChat invalidates an old token five minutes after a new one is fetched, so processes that each fetch their own
keep breaking each other. Here one process refreshes (holding the lock), the others wait and read its token. The
token is refreshed `REFRESH_MARGIN` seconds before it expires, and a token WeChat rejects is replaced once.
The jsapi_ticket has the same life (7200 s, fetches rate-limited by WeChat), so it is kept by a second store of
the same kind (`kind="jsapi-ticket"`): one ticket for every worker, one fetch per expiry.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.cache import Cache, CacheUnavailable

log = logging.getLogger(__name__)

REFRESH_MARGIN = 300
LOCK_TTL = 15.0
LOCK_WAIT = 10.0


@dataclass(frozen=True, slots=True)
class AccessToken:
    value: str
    expires_in: int


Fetch = Callable[[], Awaitable[AccessToken]]


FAILURE_PAUSE = 5.0  # after a failed fetch, callers in this process fail at once instead of queueing on the lock


class TokenStore:
    def __init__(self, cache: Cache, appid: str, fetch: Fetch, *, kind: str = "token") -> None:
        self._cache = cache
        self._fetch = fetch
        self.kind = kind
        self._key = f"wechat:{kind}:{appid}"
        self._lock = f"wechat:{kind}-refresh:{appid}"
        self._failed_until = 0.0
        self._last_failure: Exception | None = None
        self._inflight: asyncio.Future[str] | None = None

    async def _cached(self) -> str | None:
        raw = await self._cache.get(self._key)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            value, refresh_at = str(data["value"]), float(data["refresh_at"])
        except (ValueError, KeyError, TypeError):
            return None
        return value if refresh_at > time.time() else None

    async def get(self) -> str:
        return await self._cached() or await self.refresh()

    async def refresh(self, rejected: str | None = None) -> str:
        """A fresh token: another process's if it refreshed meanwhile, else fetched here under the lock.

        When WeChat cannot be reached, the failure is remembered for `FAILURE_PAUSE` seconds: every caller would
        otherwise wait its turn on the lock only to fail the same way.
        """
        if self._last_failure is not None and time.monotonic() < self._failed_until:
            raise self._last_failure
        # One refresh per process at a time: the others wait for its result instead of queueing on the shared lock.
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.ensure_future(self._refresh(rejected))
        return await asyncio.shield(self._inflight)

    async def _refresh(self, rejected: str | None) -> str:
        try:
            async with self._cache.lock(self._lock, ttl=LOCK_TTL, wait=LOCK_WAIT):
                current = await self._cached()
                if current is not None and current != rejected:
                    return current
                if self._last_failure is not None and time.monotonic() < self._failed_until:
                    raise self._last_failure  # failed while we waited for the lock
                return await self._fetch_and_store()
        except CacheUnavailable:
            # No shared lock: the stable-token API still hands every caller the same token, so fetching is safe;
            # for the jsapi_ticket it costs at most one more of its rate-limited fetches.
            log.warning("token lock unavailable; fetching without it", extra={"kind": self.kind})
            return await self._fetch_and_store()

    async def _fetch_and_store(self) -> str:
        try:
            token = await self._fetch()
        except Exception as exc:
            self._last_failure, self._failed_until = exc, time.monotonic() + FAILURE_PAUSE
            raise
        self._last_failure = None
        # Refresh early: REFRESH_MARGIN before expiry (half-way for unusually short-lived tokens).
        fresh_for = (
            token.expires_in - REFRESH_MARGIN if token.expires_in > 2 * REFRESH_MARGIN else token.expires_in // 2
        )
        if fresh_for > 0:
            payload = {"value": token.value, "refresh_at": time.time() + fresh_for}
            await self._cache.set(self._key, json.dumps(payload), fresh_for)
        return token.value
