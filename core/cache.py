"""The cache layer: Redis when `REDIS_URL` is set, an in-process dictionary otherwise.

Both implement `Cache`. Reads and plain writes degrade to "no cache" when Redis fails (the database is the source
of truth); operations whose answer matters (`incr`, `reserve`, `add`, `lock`) raise `CacheUnavailable` so callers
choose.
Invalidation is by namespace version: cached keys embed the namespace's current version, and bumping it makes
every older entry unreachable at once, in every process.

Each cache also has a `near` cache (`core.nearcache`): answers kept in this process's memory, served without a
round trip. A bump invalidates the near caches of every process before it returns — here directly, elsewhere through
a Redis broadcast that each subscribed process acknowledges — so a request that starts after a write has answered
never sees a near entry from before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import redis.asyncio as aioredis
from aiohttp import web
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import after_commit
from core.nearcache import NearCache

log = logging.getLogger(__name__)


class CacheUnavailable(RuntimeError):
    pass


# Near cache budget per process when none is given: a few thousand search pages.
DEFAULT_NEAR_CACHE_BYTES = 32 * 1024 * 1024


# A hold that `reserve` took and nobody confirmed or released (its process died) lapses after this long.
HOLD_SECONDS = 60


def held_key(key: str) -> str:
    """Where the holds on counter `key` are kept, beside what it has counted."""
    return f"{key}:held"


@dataclass(frozen=True, slots=True)
class Reservation:
    """What `Cache.reserve` did: a hold on every counter, or on none because one was at its limit."""

    counts: tuple[int, ...] = ()  # when granted: each counter, counted plus held, this hold included
    refused_by: int | None = None  # else: the index of the first counter found at its limit
    seconds_left: int = 0  # and when it may have room again: its window's end, or 1 s when holds fill it

    @property
    def granted(self) -> bool:
        return self.refused_by is None


class Cache(Protocol):
    backend: str
    near: NearCache

    async def get(self, key: str) -> str | None: ...
    async def set(self, key: str, value: str, ttl: int) -> None: ...
    async def delete(self, *keys: str) -> None: ...
    async def add(self, key: str, value: str, ttl: int) -> bool:
        """Set only if absent (SET NX); True when this call set it."""
        ...

    async def incr(self, key: str, ttl: int) -> int:
        """Increment a counter; the first increment starts its `ttl`."""
        ...

    async def reserve(self, counters: Sequence[tuple[str, int]]) -> Reservation:
        """Hold one on every `(key, limit)` counter if none is at its limit (0: no limit), else hold nothing.

        A counter stands at what `confirm` counted plus the holds not yet confirmed or released. Checking every
        limit and holding is one atomic step for all processes sharing the cache, so however many callers race, no
        counter passes its limit.
        """
        ...

    async def confirm(self, keys: Sequence[str], ttl: int) -> None:
        """Turn a hold on each counter into a count; a counter's first count starts its `ttl`. Never raises."""
        ...

    async def release(self, *keys: str) -> None:
        """Give back a hold on each counter, counting nothing. Never raises."""
        ...

    async def version(self, namespace: str) -> int | None:
        """The namespace's current version; None when the cache cannot answer (then do not cache)."""
        ...

    async def bump(self, namespace: str) -> None:
        """Invalidate everything cached under the namespace, in this process's near cache and every other's,
        before returning. Never raises: entries also expire by TTL."""
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
    async def start(self) -> None:
        """Begin hearing other processes' invalidations (the near cache answers only from then on)."""
        ...

    async def close(self) -> None: ...


CACHE: web.AppKey[Cache] = web.AppKey("cache")


def bump_after_commit(session: AsyncSession, cache: Cache, namespace: str) -> None:
    """Once per unit of work and namespace: bump `namespace` after the commit. Bumping before it would let a
    concurrent reader cache the old rows under the new version."""
    marker = f"bump_after_commit:{namespace}"
    if session.info.get(marker):
        return
    session.info[marker] = True

    async def bump() -> None:
        await cache.bump(namespace)

    after_commit(session, bump)


class MemoryCache:
    """Single-process cache with expiry; the embedded default."""

    backend = "memory"

    def __init__(self, prefix: str = "ipa", *, near_bytes: int = DEFAULT_NEAR_CACHE_BYTES) -> None:
        self._prefix = prefix
        self._data: dict[str, tuple[str, float | None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        # One process holds everything: the near cache is invalidated by this cache's own bumps, nothing else.
        self.near = NearCache(near_bytes)

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
        return self._incr(self._k(key), ttl)

    def _incr(self, full: str, ttl: int) -> int:
        current = self._live(full)
        if current is None:
            self._data[full] = ("1", time.monotonic() + ttl)
            return 1
        expires = self._data[full][1]
        value = int(current) + 1
        self._data[full] = (str(value), expires)
        return value

    async def reserve(self, counters: Sequence[tuple[str, int]]) -> Reservation:
        # No await inside: on one event loop this runs as one step, which is all the atomicity one process needs.
        totals = []
        for index, (key, limit) in enumerate(counters):
            counted = int(self._live(self._k(key)) or 0)
            totals.append(counted + int(self._live(self._k(held_key(key))) or 0))
            if limit > 0 and totals[-1] >= limit:
                return Reservation(refused_by=index, seconds_left=self._seconds_left(key) if counted >= limit else 1)
        for key, _ in counters:
            held = self._k(held_key(key))
            self._data[held] = (str(int(self._live(held) or 0) + 1), time.monotonic() + HOLD_SECONDS)
        return Reservation(tuple(total + 1 for total in totals))

    def _seconds_left(self, key: str) -> int:
        expires = self._data[self._k(key)][1]
        return 1 if expires is None else max(1, math.ceil(expires - time.monotonic()))

    async def confirm(self, keys: Sequence[str], ttl: int) -> None:
        for key in keys:
            self._incr(self._k(key), ttl)
        await self.release(*keys)

    async def release(self, *keys: str) -> None:
        for key in keys:
            held = self._k(held_key(key))
            current = int(self._live(held) or 0)
            if current > 0:
                self._data[held] = (str(current - 1), self._data[held][1])

    async def version(self, namespace: str) -> int | None:
        return int(self._live(self._k(f"ver:{namespace}")) or 0)

    async def bump(self, namespace: str) -> None:
        full = self._k(f"ver:{namespace}")
        self._data[full] = (str(int(self._live(full) or 0) + 1), None)
        self.near.invalidate(namespace)

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

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._data.clear()
        self.near.reset(live=False)


# How long a bump waits for every subscribed process to confirm that its near cache dropped the namespace (kept
# below the client's socket timeout, since the wait is a blocking pop on that client).
BROADCAST_ACK_SECONDS = 0.8
# The subscription pings Redis this often; when it has heard nothing for SUBSCRIPTION_SILENCE_SECONDS it counts
# as lost (a dead peer or a partition sends no error) and the near cache stops answering until it is back.
SUBSCRIPTION_PING_SECONDS = 1.0
SUBSCRIPTION_SILENCE_SECONDS = 5.0
SUBSCRIPTION_RETRY_SECONDS = 1.0
SUBSCRIPTION_START_SECONDS = 2.0

# `reserve`, `confirm` and `release` as scripts: each is one step for every process. KEYS come in pairs, a counter
# and its holds (`held_key`). reserve: ARGV[1] is the holds' lifetime, ARGV[1 + i] the i-th counter's limit (0: none);
# answers {0, 0, totals...} when every counter took a hold, {i, seconds} when the i-th was at its limit.
_RESERVE_SCRIPT = """
local totals = {}
for i = 1, #KEYS / 2 do
  local counted = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  totals[i] = counted + tonumber(redis.call('GET', KEYS[2 * i]) or '0')
  local limit = tonumber(ARGV[i + 1])
  if limit > 0 and totals[i] >= limit then
    if counted >= limit then
      return {i, redis.call('TTL', KEYS[2 * i - 1])}
    end
    return {i, 1}
  end
end
for i = 1, #KEYS / 2 do
  redis.call('INCR', KEYS[2 * i])
  redis.call('EXPIRE', KEYS[2 * i], ARGV[1])
  totals[i] = totals[i] + 1
end
return {0, 0, unpack(totals)}
"""
# confirm: ARGV[1] is the counters' ttl, started by their first count.
_CONFIRM_SCRIPT = """
for i = 1, #KEYS, 2 do
  redis.call('INCR', KEYS[i])
  if redis.call('TTL', KEYS[i]) < 0 then
    redis.call('EXPIRE', KEYS[i], ARGV[1])
  end
  if tonumber(redis.call('GET', KEYS[i + 1]) or '0') > 0 then
    redis.call('DECR', KEYS[i + 1])
  end
end
return 0
"""
# release: KEYS are holds only (a DECR alone would leave a -1 behind, without expiry).
_RELEASE_SCRIPT = """
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then
    redis.call('DECR', key)
  end
end
return 0
"""


class RedisCache:
    backend = "redis"

    def __init__(self, url: str, prefix: str = "ipa", *, near_bytes: int = DEFAULT_NEAR_CACHE_BYTES) -> None:
        self._prefix = prefix
        self.client: aioredis.Redis = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=1.0,
            socket_connect_timeout=1.0,
            health_check_interval=30,
        )
        # The broadcasts arrive on a connection of their own that never reconnects silently: a quiet reconnect
        # could hide a missed invalidation, so every failure surfaces and resets the near cache.
        self._subscriber: aioredis.Redis = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=2.0,
            socket_connect_timeout=1.0,
            retry=Retry(NoBackoff(), 0),
        )
        self._reserve = self.client.register_script(_RESERVE_SCRIPT)
        self._confirm = self.client.register_script(_CONFIRM_SCRIPT)
        self._release = self.client.register_script(_RELEASE_SCRIPT)
        self._channel = self._k("invalidations")
        self._listener: asyncio.Task[None] | None = None
        self._closing = False
        self._subscribed = asyncio.Event()  # set once the first subscription is confirmed
        # Off until the subscription is confirmed: before that, another process's bump could go unheard.
        self.near = NearCache(near_bytes, live=False)

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

    async def reserve(self, counters: Sequence[tuple[str, int]]) -> Reservation:
        keys = [full for key, _ in counters for full in (self._k(key), self._k(held_key(key)))]
        try:
            answer = await self._reserve(keys=keys, args=[HOLD_SECONDS, *(limit for _, limit in counters)])
        except RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc
        refused, left, *totals = (int(value) for value in answer)
        if refused == 0:
            return Reservation(tuple(totals))
        return Reservation(refused_by=refused - 1, seconds_left=max(1, left))

    async def confirm(self, keys: Sequence[str], ttl: int) -> None:
        if not keys:
            return
        try:
            await self._confirm(
                keys=[full for key in keys for full in (self._k(key), self._k(held_key(key)))], args=[ttl]
            )
        except RedisError as exc:
            log.warning("cache confirm failed", extra={"error": str(exc)})

    async def release(self, *keys: str) -> None:
        if not keys:
            return
        try:
            await self._release(keys=[self._k(held_key(key)) for key in keys])
        except RedisError as exc:
            log.warning("cache release failed", extra={"error": str(exc)})

    async def version(self, namespace: str) -> int | None:
        try:
            return int(await self.client.get(self._k(f"ver:{namespace}")) or 0)
        except RedisError as exc:
            log.warning("cache version read failed, not caching", extra={"error": str(exc)})
            return None

    async def bump(self, namespace: str) -> None:
        # Order matters: the version first, then the near caches. A request that begins after a near cache moved on
        # then reads the new version, so it cannot refill the near cache from an older shared entry.
        try:
            await self.client.incr(self._k(f"ver:{namespace}"))
        except RedisError as exc:
            log.error("cache invalidation failed", extra={"namespace": namespace, "error": str(exc)})
        self.near.invalidate(namespace)
        try:
            await self._broadcast(namespace)
        except RedisError as exc:
            # The other processes' subscriptions fail on the same outage and reset their near caches.
            log.error("near cache invalidation broadcast failed", extra={"namespace": namespace, "error": str(exc)})

    async def _broadcast(self, namespace: str) -> None:
        """Tell every subscribed process to drop the namespace, and wait until each has confirmed it."""
        token = uuid.uuid4().hex
        receivers = int(await self.client.publish(self._channel, json.dumps({"ns": namespace, "ack": token})))
        ack_key = self._k(f"ack:{token}")
        deadline = time.monotonic() + BROADCAST_ACK_SECONDS
        confirmed = 0
        while confirmed < receivers:
            left = deadline - time.monotonic()
            if left <= 0.01 or await self.client.blpop([ack_key], timeout=left) is None:
                log.warning(
                    "near cache invalidation not confirmed by every process",
                    extra={"namespace": namespace, "receivers": receivers, "confirmed": confirmed},
                )
                break
            confirmed += 1
        if receivers:
            await self.client.unlink(ack_key)

    async def start(self) -> None:
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name=f"cache-invalidations-{os.getpid()}")
        # Give the subscription a moment, so the near cache serves from the first request; a Redis that is down
        # does not hold up start-up (the listener keeps trying).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), SUBSCRIPTION_START_SECONDS)

    async def _listen(self) -> None:
        """Hear invalidation broadcasts for as long as the process runs; reconnect after any failure."""
        while not self._closing:
            try:
                await self._subscription()
            except (RedisError, OSError, TimeoutError) as exc:
                if self.near.live:
                    log.warning("near cache off: invalidation broadcasts lost", extra={"error": str(exc)})
                self.near.reset(live=False)
            await asyncio.sleep(SUBSCRIPTION_RETRY_SECONDS)

    async def _subscription(self) -> None:
        pubsub = self._subscriber.pubsub()
        try:
            await pubsub.subscribe(self._channel)
            # Live only once Redis confirms the subscription: every bump published from then on reaches us.
            deadline = time.monotonic() + SUBSCRIPTION_SILENCE_SECONDS
            while (message := await pubsub.get_message(timeout=SUBSCRIPTION_PING_SECONDS)) is None or message[
                "type"
            ] != "subscribe":
                if time.monotonic() > deadline:
                    raise TimeoutError("Redis did not confirm the subscription")
            self.near.reset(live=True)
            self._subscribed.set()
            heard = pinged = time.monotonic()
            # The flag, not only the cancellation, ends the loop: a cancellation arriving just as a read times out
            # can be absorbed inside redis-py (seen on Python 3.11), and the task would then never stop.
            while not self._closing:
                message = await pubsub.get_message(timeout=SUBSCRIPTION_PING_SECONDS)
                now = time.monotonic()
                if message is not None:
                    heard = now
                    if message["type"] == "message":
                        await self._on_broadcast(str(message["data"]))
                if now - heard > SUBSCRIPTION_SILENCE_SECONDS:
                    raise TimeoutError("no word from Redis on the subscription")
                if now - pinged >= SUBSCRIPTION_PING_SECONDS:
                    await pubsub.ping()
                    pinged = now
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _on_broadcast(self, data: str) -> None:
        try:
            message = json.loads(data)
            namespace, token = str(message["ns"]), str(message["ack"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed invalidation broadcast", extra={"data": data[:200]})
            return
        self.near.invalidate(namespace)
        ack_key = self._k(f"ack:{token}")
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.rpush(ack_key, os.getpid())
            pipe.expire(ack_key, 60)
            await pipe.execute()

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
        self._closing = True
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        self.near.reset(live=False)
        await self._subscriber.aclose()
        await self.client.aclose()


def make_cache(redis_url: str | None, prefix: str, *, near_bytes: int = DEFAULT_NEAR_CACHE_BYTES) -> Cache:
    if redis_url:
        return RedisCache(redis_url, prefix, near_bytes=near_bytes)
    return MemoryCache(prefix, near_bytes=near_bytes)
