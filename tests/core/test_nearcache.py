"""The near cache: entries of a namespace stop counting the moment it is invalidated, memory stays within budget."""

from __future__ import annotations

import pytest

from core.nearcache import NearCache


def test_an_entry_is_served_until_its_namespace_is_invalidated() -> None:
    near = NearCache(1024)
    generation = near.generation("agencies")
    assert generation is not None
    near.put("agencies", "/a?x=1", b"page", generation=generation, ttl=60)
    assert near.get("agencies", "/a?x=1") == b"page"
    near.invalidate("other")
    assert near.get("agencies", "/a?x=1") == b"page", "another namespace's bump leaves it alone"
    near.invalidate("agencies")
    assert near.get("agencies", "/a?x=1") is None


def test_a_value_computed_across_an_invalidation_is_not_kept() -> None:
    near = NearCache(1024)
    generation = near.generation("agencies")
    assert generation is not None
    near.invalidate("agencies")  # a write committed while the value was being computed
    near.put("agencies", "/a", b"old rows", generation=generation, ttl=60)
    assert near.get("agencies", "/a") is None
    fresh = near.generation("agencies")
    assert fresh is not None
    near.put("agencies", "/a", b"new rows", generation=fresh, ttl=60)
    assert near.get("agencies", "/a") == b"new rows"


def test_entries_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("core.nearcache.time.monotonic", lambda: clock[0])
    near = NearCache(1024)
    generation = near.generation("agencies")
    assert generation is not None
    near.put("agencies", "/a", b"page", generation=generation, ttl=5)
    clock[0] += 4.9
    assert near.get("agencies", "/a") == b"page"
    clock[0] += 0.2
    assert near.get("agencies", "/a") is None
    assert len(near) == 0


def test_the_least_recently_used_entries_go_first_when_over_budget() -> None:
    near = NearCache(max_bytes=800)
    generation = near.generation("agencies")
    assert generation is not None
    for n in range(8):
        near.put("agencies", f"/k{n}", bytes(90), generation=generation, ttl=60)
    assert near.get("agencies", "/k0") is not None  # used: now the most recent
    near.put("agencies", "/k8", bytes(90), generation=generation, ttl=60)
    assert near.get("agencies", "/k1") is None, "the least recently used entry was dropped"
    assert near.get("agencies", "/k0") is not None
    assert len(near) == 8


def test_a_value_too_large_for_the_budget_is_not_kept() -> None:
    near = NearCache(max_bytes=800)
    generation = near.generation("agencies")
    assert generation is not None
    near.put("agencies", "/big", bytes(200), generation=generation, ttl=60)
    assert near.get("agencies", "/big") is None


def test_not_live_answers_nothing_and_a_reset_forgets_everything() -> None:
    near = NearCache(1024)
    generation = near.generation("agencies")
    assert generation is not None
    near.put("agencies", "/a", b"page", generation=generation, ttl=60)
    near.reset(live=False)  # the invalidation broadcasts were lost
    assert near.generation("agencies") is None
    assert near.get("agencies", "/a") is None
    near.put("agencies", "/a", b"page", generation=generation, ttl=60)
    near.reset(live=True)
    assert near.get("agencies", "/a") is None, "what was computed before the gap does not come back"
    assert len(near) == 0


def test_a_zero_budget_turns_it_off() -> None:
    assert NearCache(0).generation("agencies") is None
