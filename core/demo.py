"""`python server.py seed`: deterministic demo data across domains, safe to run again (idempotent)."""

from __future__ import annotations

from core.settings import Settings

DEMO_PASSWORD = "demo-pass-2026"


async def seed(settings: Settings, *, agencies: int) -> int:
    print("seed: nothing to seed yet")
    return 0
