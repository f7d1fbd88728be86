"""Exponential backoff: how long to wait before trying a failed call again (WeChat's API, for one)."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    base: float  # seconds after the first failed attempt; doubled after each further one
    cap: float  # seconds, the longest wait
    jitter: float = 0.0  # each wait spread by ± this fraction, so that many retries do not arrive together

    def seconds(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt` (the first is 1)."""
        delay = min(self.cap, self.base * 2.0 ** (attempt - 1))
        return delay * random.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else delay
