"""The whole backend on private servers: a migrated database on the private PostgreSQL, the private Redis, N
workers sharing one port, and the security tests' world built through them."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiohttp

from bench.harness import free_port
from tests.support.services import PrivatePostgres, Worker, prepared_database
from tests.support.world import World, build_world, real_server_accounts


@dataclass
class Stack:
    database_url: str
    env: dict[str, str]
    workers: list[Worker]
    world: World
    http: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return self.workers[0].url

    def logs(self) -> str:
        return "\n".join(worker.log_text() for worker in self.workers)


def stack_env(database_url: str, redis_url: str, rasa_url: str, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "RASA_URL": rasa_url,
        "CACHE_PREFIX": "stack",
        "WECHAT_PUSH_WORKER": "false",
        "WECHAT_API_BASE": "http://127.0.0.1:9",
        "WECHAT_AES_KEY": "",
        **extra,
    }


@contextlib.asynccontextmanager
async def running_stack(
    postgres: PrivatePostgres,
    database_name: str,
    *,
    redis_url: str,
    rasa_url: str = "http://127.0.0.1:9",
    workers: int = 1,
    **extra_env: str,
) -> AsyncIterator[Stack]:
    database_url = prepared_database(postgres, database_name)
    env = stack_env(database_url, redis_url, rasa_url, **extra_env)
    port = free_port()
    started = [Worker(port=port, env=env, name=f"worker{n + 1}") for n in range(workers)]
    # A new connection per request: with several workers the kernel spreads them (SO_REUSEPORT), and a worker
    # that died leaves no pooled connection behind.
    http = aiohttp.ClientSession(
        base_url=f"http://127.0.0.1:{port}",
        connector=aiohttp.TCPConnector(force_close=True),
        timeout=aiohttp.ClientTimeout(total=30),
    )
    try:
        for worker in started:
            await worker.start()
        world = await build_world(http, real_server_accounts(database_url, http))
        yield Stack(database_url=database_url, env=env, workers=started, world=world, http=http)
    finally:
        await http.close()
        for worker in started:
            await worker.stop()


@dataclass
class Traffic:
    """Requests sent in a loop by a few clients while a test breaks something; every answer is counted."""

    http: aiohttp.ClientSession
    requests: list[Callable[[], tuple[str, str, dict[str, str]]]]
    clients: int = 4
    statuses: Counter[str] = field(default_factory=Counter)
    slowest: float = 0.0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._client(n)) for n in range(self.clients)]

    async def stop(self) -> Counter[str]:
        self._stop.set()
        await asyncio.gather(*self._tasks)
        return self.statuses

    async def _client(self, n: int) -> None:
        i = n
        while not self._stop.is_set():
            method, path, headers = self.requests[i % len(self.requests)]()
            i += 1
            started = time.monotonic()
            try:
                async with self.http.request(method, path, headers=headers) as response:
                    await response.read()
                    self.statuses[f"{method} {path.split('?')[0]} {response.status}"] += 1
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.statuses[f"{method} {path.split('?')[0]} {type(exc).__name__}"] += 1
            self.slowest = max(self.slowest, time.monotonic() - started)
            await asyncio.sleep(0.02)
