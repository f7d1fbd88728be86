"""Voucher redemptions per second on PostgreSQL with 64 concurrent clients, and the ledger check after each phase.

One server process on a fresh database `bench_vouchers` (recreated every run), arranged in-process:
8 participating agencies, one enterprise with its staff token, and two programmes —

- spread: 2,000 vouchers of 5,000 yuan; request i redeems voucher i mod 2,000 (clients rarely meet on a row);
- contention: one voucher of 10,000,000 yuan that all 64 clients redeem at once (every request queues on the
  voucher's row lock: the worst case for `SELECT … FOR UPDATE`).

Every request is a real redemption (price 10 yuan, the voucher pays 6) with its own `Idempotency-Key`, so each
success writes the redemption, its audit row and its idempotency record; the server's flag worker runs the
anti-abuse checks after each commit, in the same process (its work is part of what is measured). After each
phase `vouchers check` (the same function as `python server.py vouchers check`) recomputes every balance from the
audit record; the number of differences is reported (it must be 0), and so is how many redemptions the flag worker
had not checked yet when the phase ended (its lag). `/healthz` of the same server is measured
first, in the same run, as the yardstick for this shared machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import sys
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.harness import DATABASE_SUFFIX, PG_URL, REDIS_URL, Request, healthz_requests, measure, ratio, running_server

DATABASE = f"bench_vouchers{DATABASE_SUFFIX}"
CONCURRENCY = 64
SPREAD_VOUCHERS = 2_000
AGENCIES = 8  # redemptions rotate over them (one agency alone would be flagged for concentration each time)
PRICE_FEN = 1_000  # the voucher pays 60 %: 600 fen per redemption


async def _fresh_database() -> str:
    url = make_url(PG_URL).set(database=DATABASE).render_as_string(hide_password=False)
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    await admin.dispose()
    process = await _spawn([sys.executable, "server.py", "migrate"], {**os.environ, "DATABASE_URL": url})
    if process != 0:
        raise RuntimeError("migrate failed")
    return url


async def _spawn(argv: list[str], env: dict[str, str]) -> int:
    import asyncio

    from bench.harness import ROOT

    process = await asyncio.create_subprocess_exec(*argv, cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL)
    return await process.wait()


async def _arrange(url: str) -> dict[str, Any]:
    """Agency, enterprise + token, the two programmes and their vouchers — through the services, in one go."""
    from accounts.schemas import NewUser
    from accounts.service import create_user, issue_token, principal_for
    from agencies.models import Agency, AgencyService
    from app.schema import load_models
    from core.auth import Role
    from core.credit_code import make_credit_code
    from core.db import Database, utcnow
    from core.settings import load_settings
    from enterprises.models import Enterprise
    from vouchers import service
    from vouchers.schemas import IssueIn, IssueItem, ProgramIn

    load_models()
    settings = load_settings(database_url=url, redis_url=None)
    db = Database(url)
    now = utcnow()
    try:
        async with db.transaction() as session:
            agencies = [
                Agency(
                    name_zh=f"压测{n}号专利代理事务所",
                    credit_code=make_credit_code(f"91330106MA2B{n:05d}"),
                    licence_no=f"BENCH{n}",
                    kind="patent",
                    region_code="330106",
                    founded_year=2010,
                    accepts_vouchers=True,
                    credit_score=95,
                    credit_level="A",
                )
                for n in range(1, AGENCIES + 1)
            ]
            enterprise = Enterprise(
                name="压测科技有限公司",
                credit_code=make_credit_code("91330106MA2C00001"),
                region_code="330106",
                qualification="national_little_giant",
                certificate_no="BENCH",
                qualification_expires_on=(now + dt.timedelta(days=365)).date(),
            )
            session.add_all([*agencies, enterprise])
            await session.flush()
            for agency in agencies:
                session.add(
                    AgencyService(agency_id=agency.id, service_code="invention", price_min_fen=0, price_max_fen=10**7)
                )
            official = principal_for(
                await create_user(
                    session, NewUser(role=Role.OFFICIAL, username="bench_official", password="bench-pass-1")
                )
            )
            staff = await create_user(
                session,
                NewUser(
                    role=Role.ENTERPRISE, username="bench_staff", password="bench-pass-1", enterprise_id=enterprise.id
                ),
            )
            token = (await issue_token(session, settings, staff)).token

            def programme(name: str, face: int, budget: int) -> ProgramIn:
                return ProgramIn(
                    name=name,
                    region_code="330100",
                    budget_fen=budget,
                    face_value_fen=face,
                    share_bp=6000,
                    services=["invention"],
                    valid_from=now - dt.timedelta(days=1),
                    valid_until=now + dt.timedelta(days=30),
                )

            spread = await service.create_program(session, official, programme("spread", 500_000, 10**10))
            issued = await service.issue_vouchers(
                session,
                official,
                spread.id,
                IssueIn(enterprises=[IssueItem(enterprise_id=enterprise.id)] * SPREAD_VOUCHERS),
            )
            hot = await service.create_program(session, official, programme("contention", 10**9, 10**9))
            (one,) = (
                await service.issue_vouchers(
                    session, official, hot.id, IssueIn(enterprises=[IssueItem(enterprise_id=enterprise.id)])
                )
            ).issued
            return {
                "agencies": [a.id for a in agencies],
                "token": token,
                "spread": [v.id for v in issued.issued],
                "hot": one.id,
            }
    finally:
        await db.dispose()


async def _ledger(url: str) -> tuple[int, int, int]:
    """(differences found by the ledger check, redemptions in the database, those the flag worker has not checked)."""
    from core.db import Database
    from vouchers.ledger import check_ledger
    from vouchers.models import Redemption

    db = Database(url)
    try:
        async with db.transaction(write=False) as session:
            differences = await check_ledger(session)
            redemptions = int(await session.scalar(select(func.count()).select_from(Redemption)) or 0)
            unchecked = select(func.count()).where(Redemption.flags_checked_at.is_(None))
            not_checked = int(await session.scalar(unchecked) or 0)
    finally:
        await db.dispose()
    return len(differences), redemptions, not_checked


def _redemptions(world: dict[str, Any], vouchers: list[int], phase: str) -> Any:
    run = secrets.token_hex(4)
    agencies = world["agencies"]

    def source(i: int) -> Request:
        body = {"agency_id": agencies[i % len(agencies)], "service_code": "invention", "price_fen": PRICE_FEN}
        return Request(
            "POST",
            f"/api/v1/vouchers/{vouchers[i % len(vouchers)]}/redeem",
            json=body,
            headers={"Authorization": f"Bearer {world['token']}", "Idempotency-Key": f"{phase}-{run}-{i}"},
            ok_statuses=(201,),
        )

    return source


async def main(args: argparse.Namespace) -> dict[str, Any]:
    seconds = 3.0 if args.quick else args.seconds
    try:
        url = await _fresh_database()
    except (OSError, RuntimeError) as exc:
        return {"title": "Voucher redemptions", "rows": [], "notes": [f"skipped: PostgreSQL not available ({exc})"]}
    world = await _arrange(url)
    env = {
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "CACHE_PREFIX": f"bench-vouchers-{secrets.token_hex(4)}",
        "WECHAT_PUSH_WORKER": "false",
    }
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    async with running_server(env) as server:
        base = await measure(server.url, healthz_requests(), name="healthz", concurrency=CONCURRENCY, seconds=seconds)
        rows.append(base.as_dict())
        for phase, vouchers in (("spread", world["spread"]), ("contention", [world["hot"]])):
            label = f"redeem, {len(vouchers):,} vouchers" if phase == "spread" else "redeem, all clients on one voucher"
            result = await measure(
                server.url, _redemptions(world, vouchers, phase), name=label, concurrency=CONCURRENCY, seconds=seconds
            )
            differences, redemptions, not_checked = await _ledger(url)
            rows.append(
                {
                    **ratio(result, base),
                    "ledger_differences": differences,
                    "redemptions_in_db": redemptions,
                    "flags_not_checked_yet": not_checked,
                }
            )
            notes.append(
                f"{phase}: vouchers check after the phase: {differences} differences ({redemptions} redemptions; "
                f"{not_checked} not yet checked for flags by the worker)"
            )
    notes.append(
        "one server process; PostgreSQL row locks (FOR UPDATE on the voucher); every request a new Idempotency-Key"
    )
    return {"title": f"Voucher redemptions (PostgreSQL + Redis, {CONCURRENCY} clients)", "rows": rows, "notes": notes}
