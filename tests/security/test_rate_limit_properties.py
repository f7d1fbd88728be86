"""Properties of the fixed-window limiter (hypothesis): within one window every attempt counts against its user and
its address and is refused exactly when either is past its limit, whatever the interleaving; Retry-After always
points at the start of the next window."""

from __future__ import annotations

import asyncio
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from core.cache import MemoryCache
from core.ratelimit import RateLimited, RateLimiter
from core.settings import load_settings

requests = st.lists(
    st.tuples(st.sampled_from([1, 2, 3, None]), st.sampled_from(["203.0.113.1", "203.0.113.2", None])),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(
    sequence=requests,
    per_user=st.integers(0, 6),
    per_address=st.integers(0, 6),
    window=st.integers(1, 600),
    offset=st.floats(0, 0.999),
)
def test_each_user_and_address_gets_exactly_its_limit_per_window(
    sequence: list[tuple[int | None, str | None]], per_user: int, per_address: int, window: int, offset: float
) -> None:
    settings_ = load_settings(
        search_limit_per_user=per_user, search_limit_per_address=per_address, rate_limit_window_seconds=window
    )
    now = 1_700_000_000 // window * window + offset * window  # somewhere inside one window
    limiter = RateLimiter(settings_, clock=lambda: now)
    cache = MemoryCache("prop")
    users: dict[int, int] = {}
    addresses: dict[str, int] = {}

    async def run() -> None:
        for user, address in sequence:
            # The model: every attempt counts against its user and its address; refused when either is over.
            if user is not None and per_user:
                users[user] = users.get(user, 0) + 1
            if address is not None and per_address:
                addresses[address] = addresses.get(address, 0) + 1
            user_over = user is not None and per_user > 0 and users[user] > per_user
            address_over = address is not None and per_address > 0 and addresses[address] > per_address
            try:
                await limiter.hit(cache, "search", user_id=user, address=address)
            except RateLimited as exc:
                assert user_over or address_over
                assert exc.details["scope"] == ("user" if user_over else "address")
                assert 1 <= exc.retry_after <= max(1, math.ceil(window - offset * window))
                continue
            assert not (user_over or address_over)

    asyncio.run(run())
