"""The cache layer: Redis when `REDIS_URL` is set, an in-process dictionary otherwise.

Both implement `Cache`. Reads and plain writes degrade to "no cache" when Redis fails (the database is the source
of truth); operations whose answer matters (`incr`, `add`, `lock`) raise `CacheUnavailable` so callers choose.
Invalidation is by namespace version: cached keys embed the namespace's current version, and bumping it makes
every older entry unreachable at once, in every process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class CacheUnavailable(RuntimeError):
    pass


class Cache(Protocol):
    backend: str

    async def get(self, key: str) -> str | None: ...
    async def set(self, key: str, value: str, ttl: int) -> None: ...
    async def delete(self, *keys: str) -> None: ...
    async def add(self, key: str, value: str, ttl: int) -> bool:
        """Set only if absent (SET NX); True when this call set it."""
        ...

    async def incr(self, key: str, ttl: int) -> int:
        """Increment a counter; the first increment starts its `ttl`."""
        ...

    async def version(self, namespace: str) -> int | None:
        """The namespace's current version; None when the cache cannot answer (then do not cache)."""
        ...

    async def bump(self, namespace: str) -> None:
        """Invalidate everything cached under the namespace. Never raises: entries also expire by TTL."""
        ...

    async def version_and_get(self, namespace: str, key: str) -> tuple[int | None, str | None]:
        """The namespace's version and the value at `key`, in one round trip (None, None when Redis fails).

        For entries stored with the version they were computed under (see `agencies.service.search`): a hit is
        valid only when its stored version equals the one read here.
        """
        ...

    def lock(self, name: str, ttl: float, wait: float) -> Any:
        """An async context manager holding a lock shared by every process using this cache."""
        ...

    async def ping(self) -> None: ...
    async def close(self) -> None: ...


async def get_json(cache: Cache, key: str) -> Any:
    raw = await cache.get(key)
    return None if raw is None else json.loads(raw)


async def set_json(cache: Cache, key: str, value: Any, ttl: int) -> None:
    await cache.set(key, json.dumps(value, ensure_ascii=False, separators=(",", ":")), ttl)


class MemoryCache:
    """Single-process cache with expiry; the embedded default."""

    backend = "memory"

    def __init__(self, prefix: str = "ipa") -> None:
        self._prefix = prefix
        self._data: dict[str, tuple[str, float | None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def _k(self, key: str) -> str:
        return f"{self._prefix}:{key}"

    def _live(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= time.monotonic():
            del self._data[key]
            return None
        return value

    async def get(self, key: str) -> str | None:
        return self._live(self._k(key))

    async def set(self, key: str, value: str, ttl: int) -> None:
        self._data[self._k(key)] = (value, time.monotonic() + ttl if ttl > 0 else None)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._data.pop(self._k(key), None)

    async def add(self, key: str, value: str, ttl: int) -> bool:
        if self._live(self._k(key)) is not None:
            return False
        await self.set(key, value, ttl)
        return True

    async def incr(self, key: str, ttl: int) -> int:
        full = self._k(key)
        current = self._live(full)
        if current is None:
            self._data[full] = ("1", time.monotonic() + ttl)
            return 1
        expires = self._data[full][1]
        value = int(current) + 1
        self._data[full] = (str(value), expires)
        return value

    async def version(self, namespace: str) -> int | None:
        return int(self._live(self._k(f"ver:{namespace}")) or 0)

    async def bump(self, namespace: str) -> None:
        full = self._k(f"ver:{namespace}")
        self._data[full] = (str(int(self._live(full) or 0) + 1), None)

    async def version_and_get(self, namespace: str, key: str) -> tuple[int | None, str | None]:
        return await self.version(namespace), self._live(self._k(key))

    @asynccontextmanager
    async def lock(self, name: str, ttl: float, wait: float) -> AsyncIterator[None]:
        lock = self._locks.setdefault(name, asyncio.Lock())
        try:
            await asyncio.wait_for(lock.acquire(), timeout=wait)
        except TimeoutError as exc:
            raise CacheUnavailable(f"lock {name} busy") from exc
        try:
            yield
        finally:
            lock.release()

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._data.clear()


class RedisCache:
    backend = "redis"

    def __init__(self, url: str, prefix: str = "ipa") -> None:
        self._prefix = prefix
        self.client: aioredis.Redis = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=1.0,
            socket_connect_timeout=1.0,
            health_check_interval=30,
        )

    def _k(self, key: str) -> str:
        return f"{self._prefix}:{key}"

    async def get(self, key: str) -> str | None:
        try:
            value = await self.client.get(self._k(key))
            return None if value is None else str(value)
        except RedisError as exc:
            log.warning("cache get failed, serving without cache", extra={"error": str(exc)})
            return None

    async def set(self, key: str, value: str, ttl: int) -> None:
        try:
            await self.client.set(self._k(key), value, ex=ttl if ttl > 0 else None)
        except RedisError as exc:
            log.warning("cache set failed", extra={"error": str(exc)})

    async def delete(self, *keys: str) -> None:
        if not keys:
            return
        try:
            await self.client.delete(*(self._k(k) for k in keys))
        except RedisError as exc:
            log.warning("cache delete failed", extra={"error": str(exc)})

    async def add(self, key: str, value: str, ttl: int) -> bool:
        try:
            return bool(await self.client.set(self._k(key), value, ex=ttl, nx=True))
        except RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc

    async def incr(self, key: str, ttl: int) -> int:
        full = self._k(key)
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.incr(full)
                pipe.expire(full, ttl, nx=True)
                value, _ = await pipe.execute()
            return int(value)
        except RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc

    async def version(self, namespace: str) -> int | None:
        try:
            return int(await self.client.get(self._k(f"ver:{namespace}")) or 0)
        except RedisError as exc:
            log.warning("cache version read failed, not caching", extra={"error": str(exc)})
            return None

    async def bump(self, namespace: str) -> None:
        try:
            await self.client.incr(self._k(f"ver:{namespace}"))
        except RedisError as exc:
            log.error("cache invalidation failed", extra={"namespace": namespace, "error": str(exc)})

    async def version_and_get(self, namespace: str, key: str) -> tuple[int | None, str | None]:
        try:
            version, value = await self.client.mget(self._k(f"ver:{namespace}"), self._k(key))
        except RedisError as exc:
            log.warning("cache read failed, serving without cache", extra={"error": str(exc)})
            return None, None
        return int(version or 0), None if value is None else str(value)

    @asynccontextmanager
    async def lock(self, name: str, ttl: float, wait: float) -> AsyncIterator[None]:
        lock = self.client.lock(self._k(f"lock:{name}"), timeout=ttl, blocking_timeout=wait)
        try:
            acquired = await lock.acquire()
        except RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc
        if not acquired:
            raise CacheUnavailable(f"lock {name} busy")
        try:
            yield
        finally:
            try:
                await lock.release()
            except RedisError as exc:
                log.warning("lock release failed", extra={"lock": name, "error": str(exc)})

    async def ping(self) -> None:
        try:
            await self.client.ping()
        except RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc

    async def close(self) -> None:
        await self.client.aclose()


def make_cache(redis_url: str | None, prefix: str) -> Cache:
    return RedisCache(redis_url, prefix) if redis_url else MemoryCache(prefix)
