"""The failed-login throttle's rules, one at a time, on the in-process cache and a fixed clock: each limit refuses
at exactly its count with its scope and a retry time, a success forgets what it should, and the user name's
slow-down doubles its wait up to the maximum and spares the user's own address."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from accounts.errors import LoginThrottled
from accounts.throttle import Attempt, abandoned, admit, failed, succeeded
from core.cache import CacheUnavailable, MemoryCache, Reservation
from core.errors import ServiceUnavailable
from core.settings import Settings, load_settings

NOW = 1_000_000.0
HOME, OFFICE = "198.51.100.7", "203.0.113.9"


def clock() -> float:
    return NOW


def tuned(**overrides: int) -> Settings:
    values: dict[str, int] = {
        "login_max_failures": 3,
        "login_max_failures_per_address": 100,
        "login_failure_window_seconds": 900,
        "login_slowdown_after": 100,
        "login_slowdown_max_seconds": 8,
    }
    values.update(overrides)
    return load_settings(**values)


async def fail(cache: MemoryCache, settings: Settings, username: str, address: str) -> None:
    attempt = await admit(cache, settings, username=username, address=address, clock=clock)
    await failed(cache, settings, attempt)


async def refused(cache: MemoryCache, settings: Settings, username: str, address: str) -> LoginThrottled:
    with pytest.raises(LoginThrottled) as refusal:
        await admit(cache, settings, username=username, address=address, clock=clock)
    assert refusal.value.status == 429
    assert refusal.value.code == "login_throttled"
    return refusal.value


async def test_one_user_name_from_one_address_is_refused_at_its_limit_until_the_window_ends() -> None:
    cache, settings = MemoryCache("t"), tuned()
    for _ in range(3):
        await fail(cache, settings, "alice", HOME)
    refusal = await refused(cache, settings, "alice", HOME)
    assert refusal.details["scope"] == "user_address"
    assert 890 <= refusal.retry_after <= 900
    assert refusal.details["retry_after"] == refusal.retry_after
    assert "for this user name from this address" in str(refusal)
    # Another address, and another user name from this one, are not held back by it.
    await admit(cache, settings, username="alice", address=OFFICE, clock=clock)
    await admit(cache, settings, username="bob", address=HOME, clock=clock)


async def test_one_address_is_refused_at_its_limit_whatever_user_names_it_tries() -> None:
    cache, settings = MemoryCache("t"), tuned(login_max_failures_per_address=4)
    for name in ("a1", "a2", "a3", "a4"):
        await fail(cache, settings, name, HOME)
    refusal = await refused(cache, settings, "a5", HOME)
    assert refusal.details["scope"] == "address"
    assert 890 <= refusal.retry_after <= 900
    await admit(cache, settings, username="a5", address=OFFICE, clock=clock)


async def test_a_success_forgets_that_names_failures_from_that_address_only() -> None:
    cache, settings = MemoryCache("t"), tuned()
    await fail(cache, settings, "alice", HOME)
    await fail(cache, settings, "alice", HOME)
    await fail(cache, settings, "alice", OFFICE)
    await succeeded(cache, await admit(cache, settings, username="alice", address=HOME, clock=clock))
    for _ in range(3):
        await fail(cache, settings, "alice", HOME)
    assert (await refused(cache, settings, "alice", HOME)).details["scope"] == "user_address"
    # The failures from the office were not forgotten: two more reach its limit there.
    await fail(cache, settings, "alice", OFFICE)
    await fail(cache, settings, "alice", OFFICE)
    assert (await refused(cache, settings, "alice", OFFICE)).details["scope"] == "user_address"


async def test_attempts_still_being_checked_hold_their_place_and_an_abandoned_one_gives_it_back() -> None:
    cache, settings = MemoryCache("t"), tuned()
    held = [await admit(cache, settings, username="alice", address=HOME, clock=clock) for _ in range(3)]
    refusal = await refused(cache, settings, "alice", HOME)
    assert (refusal.details["scope"], refusal.retry_after) == ("user_address", 1)  # none counted yet: retry soon
    await abandoned(cache, held[0])
    await admit(cache, settings, username="alice", address=HOME, clock=clock)


async def test_past_the_slow_down_threshold_a_user_name_waits_doubling_up_to_the_maximum() -> None:
    cache, settings = MemoryCache("t"), tuned(login_slowdown_after=2, login_slowdown_max_seconds=8)
    gate = Attempt.of("Alice", HOME).gate_key
    addresses = (f"192.0.2.{n}" for n in range(1, 50))
    await fail(cache, settings, "alice", next(addresses))
    await fail(cache, settings, "ALICE", next(addresses))  # user names are one whatever their case
    assert await cache.get(gate) is None  # two failures: no wait yet
    waits = []
    for _ in range(6):
        await fail(cache, settings, "alice", next(addresses))
        held_until = await cache.get(gate)
        assert held_until is not None
        waits.append(float(held_until) - NOW)
        # While the turn is held, the next attempt is refused with the time left.
        refusal = await refused(cache, settings, "alice", next(addresses))
        assert refusal.details["scope"] == "username"
        assert refusal.retry_after == waits[-1]
        await cache.delete(gate)  # the wait is over
    assert waits == [1, 2, 4, 8, 8, 8]


async def test_the_slow_down_spares_an_address_the_user_signed_in_from() -> None:
    cache, settings = MemoryCache("t"), tuned(login_slowdown_after=1)
    await succeeded(cache, await admit(cache, settings, username="alice", address=HOME, clock=clock))
    await fail(cache, settings, "alice", OFFICE)
    await fail(cache, settings, "alice", "192.0.2.1")  # takes the first turn
    await refused(cache, settings, "alice", "192.0.2.2")
    for _ in range(2):  # below the pair limit, and never made to wait
        await fail(cache, settings, "alice", HOME)


class FailingCache(MemoryCache):
    """The in-process cache, made to fail (as Redis down does) on the operations named in `failing`."""

    def __init__(self) -> None:
        super().__init__("t")
        self.failing: set[str] = set()

    async def reserve(self, counters: Sequence[tuple[str, int]]) -> Reservation:
        if "reserve" in self.failing:
            raise CacheUnavailable("down")
        return await super().reserve(counters)

    async def add(self, key: str, value: str, ttl: int) -> bool:
        if "add" in self.failing:
            raise CacheUnavailable("down")
        return await super().add(key, value, ttl)


async def unavailable(cache: MemoryCache, settings: Settings, username: str, address: str) -> None:
    with pytest.raises(ServiceUnavailable) as refusal:
        await admit(cache, settings, username=username, address=address, clock=clock)
    assert (refusal.value.status, refusal.value.code) == (503, "login_unavailable")
    assert str(refusal.value) == "login is briefly unavailable; try again in a minute"


async def test_a_cache_that_cannot_count_judges_no_login() -> None:
    cache, settings = FailingCache(), tuned()
    cache.failing = {"reserve"}
    await unavailable(cache, settings, "alice", HOME)
    cache.failing = set()
    await admit(cache, settings, username="alice", address=HOME, clock=clock)


async def test_a_cache_failing_while_the_slow_down_takes_its_turn_counts_nothing() -> None:
    cache, settings = FailingCache(), tuned(login_slowdown_after=1)
    await fail(cache, settings, "alice", OFFICE)  # from now on, each attempt at the name takes a turn
    cache.failing = {"add"}
    for _ in range(5):  # past the pair limit of 3, had the failed attempts kept their places
        await unavailable(cache, settings, "alice", HOME)
    cache.failing = set()
    await fail(cache, settings, "alice", HOME)


async def test_a_turn_that_ends_as_it_is_refused_says_retry_in_a_second() -> None:
    class TurnEndsAtOnce(MemoryCache):
        async def add(self, key: str, value: str, ttl: int) -> bool:
            return False  # another attempt holds the turn…

        async def get(self, key: str) -> str | None:
            return None if key.startswith("login:gate:") else await super().get(key)  # …and it has just ended

    cache, settings = TurnEndsAtOnce("t"), tuned(login_slowdown_after=1)
    await fail(cache, settings, "alice", OFFICE)
    refusal = await refused(cache, settings, "alice", HOME)
    assert (refusal.details["scope"], refusal.retry_after, refusal.details["retry_after"]) == ("username", 1, 1)


async def test_the_slow_down_counts_each_user_name_apart() -> None:
    cache, settings = MemoryCache("t"), tuned(login_slowdown_after=2)
    for number, name in enumerate(("a1", "a2", "a3", "a4")):  # failures at other names, from anywhere
        await fail(cache, settings, name, f"192.0.2.{number + 1}")
    for address in ("198.51.100.1", "198.51.100.2"):  # bob's own first failures: no wait, no turn taken
        await fail(cache, settings, "bob", address)
    assert await cache.get(Attempt.of("bob", HOME).gate_key) is None
