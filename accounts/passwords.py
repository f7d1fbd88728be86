"""argon2id password hashing, run off the event loop in a pool of its own (a verify costs tens of milliseconds of CPU).

The cost comes from the settings (`PASSWORD_HASH_TIME_COST`, `PASSWORD_HASH_MEMORY_KIB`); the test suite lowers
it, production keeps argon2's recommended defaults. A stored hash carries its own parameters, so changing the
cost never locks anyone out.

At most `PASSWORD_HASH_CONCURRENCY` hashes run at once per process (by default twice the cores), in threads of
their own, so a burst of logins queues here instead of taking the event loop's shared threads and every core.
A verification that would find more than `PASSWORD_HASH_QUEUE_LIMIT` others already waiting is refused at once
(503 `login_busy`): a login that would wait that long is better retried than left hanging.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from accounts.errors import LoginBusy
from core.settings import Settings, load_settings

T = TypeVar("T")


class _BoundedPool:
    """Threads that run the hashes, and a count of those running or waiting for one."""

    def __init__(self, workers: int, queue_limit: int) -> None:
        self.workers = workers
        self.queue_limit = queue_limit
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        self._lock = threading.Lock()
        self._admitted = 0  # running or queued; counted down by the worker thread when the hash is done

    async def run(self, work: Callable[[], T], *, may_refuse: bool) -> T:
        with self._lock:
            if may_refuse and self._admitted >= self.workers + self.queue_limit:
                raise LoginBusy("too many sign-ins at once; try again in a few seconds")
            self._admitted += 1

        def counted() -> T:
            try:
                return work()
            finally:
                with self._lock:
                    self._admitted -= 1

        try:
            future = asyncio.get_running_loop().run_in_executor(self._executor, counted)
        except BaseException:
            with self._lock:
                self._admitted -= 1
            raise
        # Shielded: a cancelled request leaves its hash to finish in the pool, where it is still counted.
        return await asyncio.shield(future)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=False)


@dataclass(frozen=True, slots=True)
class _Hashing:
    hasher: PasswordHasher
    # Verified against when the username is unknown, so both paths cost the same and usernames cannot be probed.
    dummy_hash: str
    pool: _BoundedPool


_current: _Hashing | None = None


def hashing_concurrency(settings: Settings) -> int:
    """Hashes run at once in this process: the setting, or twice the cores when it is 0."""
    return settings.password_hash_concurrency or 2 * (os.cpu_count() or 1)


def configure(settings: Settings) -> None:
    global _current
    hasher = PasswordHasher(time_cost=settings.password_hash_time_cost, memory_cost=settings.password_hash_memory_kib)
    pool = _BoundedPool(hashing_concurrency(settings), settings.password_hash_queue_limit)
    previous, _current = _current, _Hashing(hasher=hasher, dummy_hash=hasher.hash("not-a-real-password"), pool=pool)
    if previous is not None:
        previous.pool.shutdown()


def _hashing() -> _Hashing:
    if _current is None:
        configure(load_settings())
    assert _current is not None
    return _current


async def hash_password(password: str) -> str:
    """The argon2id hash of `password`; waits its turn in the pool (new accounts are never refused as busy)."""
    hashing = _hashing()
    return await hashing.pool.run(lambda: hashing.hasher.hash(password), may_refuse=False)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; `LoginBusy` when too many verifications are already waiting."""
    hashing = _hashing()

    def verify() -> bool:
        try:
            return hashing.hasher.verify(password_hash or hashing.dummy_hash, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await hashing.pool.run(verify, may_refuse=True)
