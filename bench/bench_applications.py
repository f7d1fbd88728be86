"""The opening burst of a first-come-first-served voucher programme: 5,000 enterprises apply in its first 60 s.

PostgreSQL and Redis, two backend processes on one port (`server.py run --reuse-port`, the kernel spreads the
connections), a fresh database `bench_applications` (recreated every run) arranged in-process: 5,000 qualified
enterprises, one staff account and bearer token each, and one programme open for applications, first come first
served, whose budget pays for 3,000 vouchers — so the burst both exhausts the budget and keeps arriving after it.

The load is open-loop, as people arrive: applicant i sends its application at a fixed moment of the 60 s whether or
not earlier ones were answered, half of them in the first 10 s (the rush when the window opens), the rest spread
over the remaining 50 s. Each applicant sends one `POST /api/v1/voucher-programs/{id}/applications` with the
documents the programme asks for. Reported: latency percentiles over the 5,000 answers (aim: p99 ≤ 2 s), the
statuses, the outcomes as the database holds them afterwards (approved / waitlisted; every applicant must have a
definite one), vouchers per enterprise (never 2), committed money against the budget (never over), and
`vouchers check` (the same function as `python server.py vouchers check`; must be 0 differences). `/healthz` of the
same servers is measured first, in the same run, as the yardstick for this shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.bench_soak import SoakWorker
from bench.harness import DATABASE_SUFFIX, PG_URL, REDIS_URL, ROOT, free_port, healthz_requests, measure, percentile

DATABASE = f"bench_applications{DATABASE_SUFFIX}"
APPLICANTS = 5_000
WINDOW_SECONDS = 60.0
RUSH_SECONDS = 10.0  # half the applicants arrive in the first 10 s
FACE_FEN = 500_000
FITS = 3_000  # vouchers the budget pays for
FIRST_ERRORS: dict[str, str] = {}  # a client-side failure's first message, by its kind, for the notes
DOCUMENTS = [{"name": "营业执照", "reference": "file"}, {"name": "专精特新认定证书", "reference": "cert"}]


async def _fresh_database() -> str:
    url = make_url(PG_URL).set(database=DATABASE).render_as_string(hide_password=False)
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    await admin.dispose()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "server.py", "migrate", cwd=ROOT, env={**os.environ, "DATABASE_URL": url},
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    if await process.wait() != 0:
        raise RuntimeError("migrate failed")
    return url


async def _arrange(url: str, applicants: int, fits: int) -> dict[str, Any]:
    """The enterprises, their staff and tokens (rows written in bulk: 5,000 argon2 hashes would take minutes and
    measure nothing here), and the programme — created through the service, as an official would."""
    from accounts.models import AuthToken, User
    from accounts.service import principal_for, token_hash
    from app.schema import load_models
    from core.auth import NATIONWIDE, Role
    from core.credit_code import make_credit_code
    from core.db import Database, utcnow
    from enterprises.models import Enterprise
    from vouchers import service
    from vouchers.schemas import ApplicationSettingsIn, ProgramIn

    load_models()
    db = Database(url)
    now = utcnow()
    tokens = [secrets.token_urlsafe(32) for _ in range(applicants)]
    try:
        async with db.transaction() as session:
            await session.execute(
                insert(Enterprise),
                [
                    {
                        "name": f"申领压测科技{n}有限公司",
                        "credit_code": make_credit_code(f"91330106MA{n:07d}"),
                        "region_code": "330106",
                        "industry": "software",
                        "qualification": "national_little_giant",
                        "certificate_no": f"BURST-{n}",
                        "qualification_expires_on": (now + dt.timedelta(days=365)).date(),
                        "legal_representative": "",
                        "address": "",
                        "phone": "",
                    }
                    for n in range(1, applicants + 1)
                ],
            )
            enterprise_ids = list((await session.scalars(select(Enterprise.id).order_by(Enterprise.id))).all())
            await session.execute(
                insert(User),
                [
                    {"username": f"burst{n}", "role": "enterprise", "display_name": f"burst{n}", "enterprise_id": eid}
                    for n, eid in enumerate(enterprise_ids)
                ],
            )
            user_ids = list((await session.scalars(select(User.id).order_by(User.id))).all())
            expires = now + dt.timedelta(hours=6)
            await session.execute(
                insert(AuthToken),
                [
                    {"user_id": uid, "token_hash": token_hash(token), "expires_at": expires, "client": "password"}
                    for uid, token in zip(user_ids, tokens, strict=True)
                ],
            )
            official = User(
                username="burst_official",
                role=Role.OFFICIAL.value,
                display_name="burst official",
                region_code=NATIONWIDE,
            )
            session.add(official)
            await session.flush()
            program = await service.create_program(
                session,
                principal_for(official),
                ProgramIn(
                    name="开放申领压测专项",
                    region_code="330100",
                    budget_fen=FACE_FEN * fits,
                    face_value_fen=FACE_FEN,
                    share_bp=6000,
                    services=["invention"],
                    valid_from=now - dt.timedelta(days=1),
                    valid_until=now + dt.timedelta(days=90),
                    applications=ApplicationSettingsIn(
                        open_at=now, documents=[d["name"] for d in DOCUMENTS], review="fcfs"
                    ),
                ),
            )
            return {"program": program.id, "tokens": tokens}
    finally:
        await db.dispose()


def arrival(i: int, n: int) -> float:
    """When applicant i (of n) applies, in seconds after the window opens: half in the rush, the rest after it."""
    half = n // 2
    if i < half:
        return RUSH_SECONDS * i / half
    return RUSH_SECONDS + (WINDOW_SECONDS - RUSH_SECONDS) * (i - half) / max(1, n - half)


async def _burst(base_url: str, program_id: int, tokens: list[str]) -> tuple[list[float], dict[str, int], float]:
    """Every applicant applies once at its moment; (latencies in s, statuses, seconds the burst took)."""
    connector = aiohttp.TCPConnector(limit=0)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    path = f"{base_url}/api/v1/voucher-programs/{program_id}/applications"
    body = {"documents": DOCUMENTS}
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as http:
        start = time.perf_counter()

        async def one(i: int, token: str) -> None:
            await asyncio.sleep(max(0.0, start + arrival(i, len(tokens)) - time.perf_counter()))
            sent = time.perf_counter()
            try:
                async with http.post(path, json=body, headers={"Authorization": f"Bearer {token}"}) as response:
                    await response.read()
                    status = str(response.status)
            except (aiohttp.ClientError, TimeoutError) as exc:
                status = type(exc).__name__
                FIRST_ERRORS.setdefault(status, str(exc)[:200])
            latencies.append(time.perf_counter() - sent)
            statuses[status] = statuses.get(status, 0) + 1

        await asyncio.gather(*(one(i, token) for i, token in enumerate(tokens)))
        return latencies, statuses, time.perf_counter() - start


async def _outcomes(url: str, program_id: int) -> dict[str, Any]:
    from core.db import Database
    from vouchers.ledger import check_ledger
    from vouchers.models import Voucher, VoucherApplication, VoucherProgram

    db = Database(url)
    try:
        async with db.transaction(write=False) as session:
            states = dict(
                (
                    await session.execute(
                        select(VoucherApplication.state, func.count())
                        .where(VoucherApplication.program_id == program_id)
                        .group_by(VoucherApplication.state)
                    )
                ).all()
            )
            doubles = await session.scalar(
                select(func.count()).select_from(
                    select(Voucher.enterprise_id)
                    .where(Voucher.program_id == program_id)
                    .group_by(Voucher.enterprise_id)
                    .having(func.count() > 1)
                    .subquery()
                )
            )
            program = await session.get(VoucherProgram, program_id)
            assert program is not None
            vouchers = await session.scalar(select(func.count()).where(Voucher.program_id == program_id))
            differences = len(list(await check_ledger(session)))
    finally:
        await db.dispose()
    return {
        "outcomes": {str(k): int(v) for k, v in states.items()},
        "vouchers": int(vouchers or 0),
        "enterprises_with_two_vouchers": int(doubles or 0),
        "committed_fen": program.committed_fen,
        "budget_fen": program.budget_fen,
        "ledger_differences": differences,
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    applicants, fits = (500, 300) if args.quick else (APPLICANTS, FITS)
    try:
        url = await _fresh_database()
    except (OSError, RuntimeError) as exc:
        return {"title": "Opening burst", "rows": [], "notes": [f"skipped: PostgreSQL not available ({exc})"]}
    world = await _arrange(url, applicants, fits)
    port = free_port()
    env = {
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "CACHE_PREFIX": f"bench-applications-{secrets.token_hex(4)}",
        "WECHAT_PUSH_WORKER": "false",
        "RATE_LIMITS": "false",
        "LOG_LEVEL": "WARNING",
    }
    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    workers = [SoakWorker(f"w{n}", port, env, Path(log_dir)) for n in (1, 2)]
    try:
        for worker in workers:
            await worker.start()
        base_url = f"http://127.0.0.1:{port}"
        base = await measure(base_url, healthz_requests(), name="healthz", concurrency=64, seconds=3.0)
        latencies, statuses, took = await _burst(base_url, world["program"], world["tokens"])
    finally:
        for worker in workers:
            await worker.stop()
    books = await _outcomes(url, world["program"])
    ordered = sorted(latencies)
    errors = sum(n for status, n in statuses.items() if status != "201")
    row = {
        "name": f"apply, {applicants:,} enterprises in {WINDOW_SECONDS:.0f} s (first come first served)",
        "requests": len(ordered),
        "errors": errors,
        "seconds": round(took, 2),
        "throughput_rps": round(len(ordered) / took, 1) if took else 0.0,
        "p50_ms": round(percentile(ordered, 50) * 1000, 2),
        "p90_ms": round(percentile(ordered, 90) * 1000, 2),
        "p99_ms": round(percentile(ordered, 99) * 1000, 2),
        "max_ms": round((ordered[-1] if ordered else 0.0) * 1000, 2),
        "p99_vs_healthz": round(percentile(ordered, 99) * 1000 / base.p99_ms, 2) if base.p99_ms else None,
        "statuses": statuses,
        **books,
    }
    definite = sum(books["outcomes"].get(s, 0) for s in ("approved", "waitlisted", "rejected"))
    notes = [
        f"two backend processes (--reuse-port) on PostgreSQL and Redis; budget for {fits:,} vouchers of "
        f"{FACE_FEN // 100:,} yuan; half the applicants in the first {RUSH_SECONDS:.0f} s, open-loop",
        f"outcomes: {books['outcomes']} — {definite:,} of {applicants:,} applicants with a definite answer; "
        f"{books['vouchers']:,} vouchers, {books['enterprises_with_two_vouchers']} enterprises with two; committed "
        f"{books['committed_fen']:,} of {books['budget_fen']:,} fen",
        f"vouchers check after the burst: {books['ledger_differences']} differences",
        *(f"client-side failures, {kind}: {message}" for kind, message in FIRST_ERRORS.items()),
        f"p99 {row['p99_ms']} ms (aim ≤ 2,000 ms)",
    ]
    return {
        "title": "Opening burst of a first-come-first-served programme",
        "rows": [base.as_dict(), row],
        "notes": notes,
    }
