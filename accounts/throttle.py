"""The failed-login throttle: an attempt is counted before its password is checked, by user name *and* address.

Three counters per window (`LOGIN_FAILURE_WINDOW_SECONDS`, from a counter's first count), in the shared cache:

| counter | limit | past it (429 `login_throttled`) |
|---|---|---|
| one user name from one address | `LOGIN_MAX_FAILURES` | scope `user_address` |
| one address, any user names | `LOGIN_MAX_FAILURES_PER_ADDRESS` | scope `address` |
| one user name, any address | none; past `LOGIN_SLOWDOWN_AFTER`, attempts spaced out | scope `username` |

`admit` holds a place for the attempt on all three in one atomic step (`Cache.reserve`) before anything is
verified, so however many attempts race, failures and attempts still being checked together never pass a limit.
`failed` turns the holds into counts; `succeeded` gives them back and forgets the failures of its user name from its
address; `abandoned` (never judged: the hashing queue full, the database down) gives them back. A refusal says when
to retry: the counter's window end, or 1 s when it is full only of attempts still being checked.

Counting a user name from anywhere with a hard limit would let anyone lock an official out by typing their name
five times. Past `LOGIN_SLOWDOWN_AFTER` failures, a user name instead takes one attempt per wait, the wait doubling
with each failure from 1 s up to `LOGIN_SLOWDOWN_MAX_SECONDS`: a guesser on many addresses gets a few dozen tries
per window, and the official waits seconds, not a quarter of an hour. An address that signed in as the user within
`KNOWN_ADDRESS_SECONDS` skips that wait: its attempts are already bound by the two limits above.

User names are hashed into the keys (no name is stored in the cache, and none can forge another key's shape).
When the cache cannot count, no login is judged: 503 `login_unavailable`.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from accounts.errors import LoginThrottled
from core.cache import Cache, CacheUnavailable
from core.errors import ServiceUnavailable
from core.settings import Settings

# How long a successful login exempts its address from the user name's slow-down.
KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600
# The slow-down's wait doubles per failure; past 2**MAX_DOUBLINGS s the maximum setting has long been reached.
MAX_DOUBLINGS = 30

_MESSAGES = {
    "user_address": "too many failed logins for this user name from this address",
    "address": "too many failed logins from this address",
    "username": "too many failed logins for this user name",
}


def _unavailable() -> ServiceUnavailable:
    return ServiceUnavailable("login is briefly unavailable; try again in a minute", code="login_unavailable")


def _throttled(scope: str, retry_after: int) -> LoginThrottled:
    return LoginThrottled(
        f"{_MESSAGES[scope]}; try again in {retry_after} s",
        retry_after=retry_after,
        details={"scope": scope, "retry_after": retry_after},
    )


@dataclass(frozen=True, slots=True)
class Attempt:
    """A login attempt the throttle let through, holding one count on each of its counters."""

    pair_key: str  # this user name from this address
    address_key: str
    name_key: str  # this user name from anywhere
    gate_key: str  # held while the user name's slow-down wait runs
    known_key: str  # present while this address counts as the user's own

    @classmethod
    def of(cls, username: str, address: str) -> Attempt:
        name = hashlib.sha256(username.lower().encode()).hexdigest()[:32]
        return cls(
            pair_key=f"login:pair:{name}:{address}",
            address_key=f"login:addr:{address}",
            name_key=f"login:name:{name}",
            gate_key=f"login:gate:{name}",
            known_key=f"login:known:{name}:{address}",
        )


async def admit(
    cache: Cache, settings: Settings, *, username: str, address: str, clock: Callable[[], float] = time.time
) -> Attempt:
    """Reserve one attempt for `username` from `address`, or refuse it (429 `login_throttled`)."""
    attempt = Attempt.of(username, address)
    counters = [
        (attempt.pair_key, settings.login_max_failures),
        (attempt.address_key, settings.login_max_failures_per_address),
        (attempt.name_key, 0),
    ]
    try:
        reservation = await cache.reserve(counters)
    except CacheUnavailable as exc:
        raise _unavailable() from exc
    if reservation.refused_by is not None:
        scope = ("user_address", "address")[reservation.refused_by]
        raise _throttled(scope, reservation.seconds_left)
    earlier = reservation.counts[2] - 1  # failed, or still being checked, from anywhere
    if earlier >= settings.login_slowdown_after and await cache.get(attempt.known_key) is None:
        await _wait_turn(cache, settings, attempt, earlier - settings.login_slowdown_after, clock)
    return attempt


async def _wait_turn(
    cache: Cache, settings: Settings, attempt: Attempt, doublings: int, clock: Callable[[], float]
) -> None:
    """Take the user name's turn for the next `wait` seconds, or give the reservation back and refuse."""
    wait = min(2 ** min(doublings, MAX_DOUBLINGS), settings.login_slowdown_max_seconds)
    try:
        taken = await cache.add(attempt.gate_key, f"{clock() + wait:.3f}", wait)
    except CacheUnavailable as exc:
        await abandoned(cache, attempt)
        raise _unavailable() from exc
    if taken:
        return
    await abandoned(cache, attempt)
    held_until = await cache.get(attempt.gate_key)
    retry_after = max(1, math.ceil(float(held_until) - clock())) if held_until else 1
    raise _throttled("username", retry_after)


def _counters(attempt: Attempt) -> tuple[str, str, str]:
    return attempt.pair_key, attempt.address_key, attempt.name_key


async def failed(cache: Cache, settings: Settings, attempt: Attempt) -> None:
    """The password was wrong: the attempt counts on all three counters until their window ends."""
    await cache.confirm(_counters(attempt), settings.login_failure_window_seconds)


async def succeeded(cache: Cache, attempt: Attempt) -> None:
    """The password was right: nothing counts, and the user name's failures from this address are forgotten."""
    await cache.release(*_counters(attempt))
    await cache.delete(attempt.pair_key)
    await cache.set(attempt.known_key, "1", KNOWN_ADDRESS_SECONDS)


async def abandoned(cache: Cache, attempt: Attempt) -> None:
    """The attempt was never judged (busy, database down): it does not count."""
    await cache.release(*_counters(attempt))
