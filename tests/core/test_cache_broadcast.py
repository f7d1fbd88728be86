"""Near caches of several processes over one Redis: a bump has dropped the namespace in every process that can
hear it before it returns, and a process that cannot hear the broadcasts does not answer from memory.

Each `RedisCache` below stands for one backend process (its own connections and subscription) on a private Redis,
so the tests can stop that Redis without disturbing anything else.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest

from core.cache import RedisCache
from tests.support.fixtures import redis_server
from tests.support.services import PrivateRedis

__all__ = ["redis_server"]

NAMESPACE = "agencies"


async def live(cache: RedisCache, *, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not cache.near.live:
        assert time.monotonic() < deadline, "the subscription did not come up"
        await asyncio.sleep(0.02)


def keep(cache: RedisCache, key: str, value: bytes, namespace: str = NAMESPACE) -> None:
    generation = cache.near.generation(namespace)
    assert generation is not None
    cache.near.put(namespace, key, value, generation=generation, ttl=300)
    assert cache.near.get(namespace, key) == value


@pytest.fixture
async def processes(redis_server: PrivateRedis) -> AsyncIterator[list[RedisCache]]:
    caches = [RedisCache(redis_server.url, "broadcast") for _ in range(3)]
    for cache in caches:
        await cache.start()
    for cache in caches:
        await live(cache)
    yield caches
    for cache in caches:
        await cache.close()


async def test_a_bump_has_dropped_the_namespace_everywhere_before_it_returns(processes: list[RedisCache]) -> None:
    writer = processes[0]
    for cache in processes:
        keep(cache, "/api/v1/agencies?region=330100", b"old page")
        keep(cache, "/api/v1/other", b"another namespace", namespace="other")
    await writer.bump(NAMESPACE)
    # No waiting: the bump returned only after every process confirmed.
    for cache in processes:
        assert cache.near.get(NAMESPACE, "/api/v1/agencies?region=330100") is None
        assert cache.near.get("other", "/api/v1/other") == b"another namespace"
    assert await writer.version(NAMESPACE) == 1


async def test_a_process_that_does_not_confirm_delays_the_bump_by_the_bound_and_is_reported(
    processes: list[RedisCache], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    writer, stuck, _ = processes
    release = asyncio.Event()
    handle = stuck._on_broadcast

    async def stalled(data: str) -> None:
        await release.wait()
        await handle(data)

    monkeypatch.setattr(stuck, "_on_broadcast", stalled)
    with caplog.at_level(logging.WARNING, logger="core.cache"):
        started = time.monotonic()
        await writer.bump(NAMESPACE)
        waited = time.monotonic() - started
    assert 0.5 < waited < 3, waited
    assert any("not confirmed by every process" in r.getMessage() for r in caplog.records)
    release.set()


async def test_without_redis_no_process_answers_from_memory_until_it_hears_again(
    processes: list[RedisCache], redis_server: PrivateRedis
) -> None:
    for cache in processes:
        keep(cache, "/api/v1/agencies", b"page")
    redis_server.stop()
    deadline = time.monotonic() + 10
    while any(cache.near.live for cache in processes):
        assert time.monotonic() < deadline, "a lost subscription went unnoticed"
        await asyncio.sleep(0.05)
    for cache in processes:
        assert cache.near.generation(NAMESPACE) is None
        assert cache.near.get(NAMESPACE, "/api/v1/agencies") is None
    await processes[0].bump(NAMESPACE)  # logged, never raised: the database stays the source of truth

    redis_server.start()
    for cache in processes:
        await live(cache)
        assert cache.near.get(NAMESPACE, "/api/v1/agencies") is None, "nothing from before the gap comes back"
    keep(processes[1], "/api/v1/agencies", b"page")
    await processes[0].bump(NAMESPACE)
    assert processes[1].near.get(NAMESPACE, "/api/v1/agencies") is None
