"""argon2id password hashing, run off the event loop (a verify costs tens of milliseconds of CPU).

The cost comes from the settings (`PASSWORD_HASH_TIME_COST`, `PASSWORD_HASH_MEMORY_KIB`); the test suite lowers
it, production keeps argon2's recommended defaults. A stored hash carries its own parameters, so changing the
cost never locks anyone out.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.settings import Settings, load_settings


@dataclass(frozen=True, slots=True)
class _Hashing:
    hasher: PasswordHasher
    # Verified against when the username is unknown, so both paths cost the same and usernames cannot be probed.
    dummy_hash: str


_current: _Hashing | None = None


def configure(settings: Settings) -> None:
    global _current
    hasher = PasswordHasher(time_cost=settings.password_hash_time_cost, memory_cost=settings.password_hash_memory_kib)
    _current = _Hashing(hasher=hasher, dummy_hash=hasher.hash("not-a-real-password"))


def _hashing() -> _Hashing:
    if _current is None:
        configure(load_settings())
    assert _current is not None
    return _current


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hashing().hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    hashing = _hashing()

    def verify() -> bool:
        try:
            return hashing.hasher.verify(password_hash or hashing.dummy_hash, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)
