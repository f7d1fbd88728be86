"""`python server.py seed`: deterministic demo data across domains, safe to run again (idempotent)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.settings import Settings

if TYPE_CHECKING:
    from core.db import Database

DEMO_PASSWORD = "demo-pass-2026"


async def seed(settings: Settings, *, agencies: int) -> int:
    from app.schema import load_models
    from core.cache import make_cache
    from core.db import Database

    load_models()  # every mapped class, so foreign keys across domains resolve
    db = Database(settings.database_url)
    try:
        await _seed_agencies(db, agencies)
        await _seed_vouchers(db)
        await _seed_onboarding(db)
    finally:
        await db.dispose()
    # Cached search results of a running server must not hide the new rows.
    cache = make_cache(str(settings.redis_url) if settings.redis_url else None, settings.cache_prefix)
    await cache.bump("agencies")
    await cache.close()
    return 0


async def _seed_agencies(db: Database, n: int) -> None:
    from agencies.seed import seed_agencies, seed_agency_accounts

    async with db.transaction() as session:
        report = await seed_agencies(session, n)
        accounts = await seed_agency_accounts(session, report.demo_agency_id, DEMO_PASSWORD)
    print(f"seed: agencies: {report.created} created, {report.existing} already there")
    for line in accounts:
        print(f"seed: account {line}")


async def _seed_vouchers(db: Database) -> None:
    from vouchers.seed import seed_vouchers

    async with db.transaction() as session:
        lines = await seed_vouchers(session, DEMO_PASSWORD)
    for line in lines:
        print(f"seed: vouchers: {line}")


async def _seed_onboarding(db: Database) -> None:
    from sqlalchemy import select

    from accounts.models import User
    from accounts.seed import seed_onboarding

    async with db.transaction() as session:
        staff = await session.scalar(select(User).where(User.username == "enterprise_demo"))
        assert staff is not None and staff.enterprise_id is not None
        lines = await seed_onboarding(session, DEMO_PASSWORD, staff.enterprise_id)
    for line in lines:
        print(f"seed: onboarding: {line}")
