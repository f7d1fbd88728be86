"""Agency search on 50,000 agencies in PostgreSQL with Redis, 64 concurrent connections, a realistic mix of searches.

Three servers on the same data, each measured beside its own `/healthz` in the same run:

- warm: the normal configuration; every query of the mix is requested once before measuring, so answers come from
  the process's near cache (no round trip at all);
- warm, Redis only: `NEAR_CACHE_MB=0`, so every answer comes from Redis (the namespace version and the entry in one
  `MGET`, no SQL) — what a process gets before its near cache has the answer;
- cold: `SEARCH_CACHE_TTL_SECONDS=0`, so every request runs the SQL (a page, then its count when the page is full).

The mix (deterministic, 600 distinct queries): region filters by code, Chinese name and pinyin (provinces weighted
like the agencies, cities), a service, a minimum rating, voucher acceptance, some name searches (`q`), all four
sorts, pages 1-3. The data is seeded once (`server.py seed --agencies N`, deterministic) into the database
`bench_search` and reused while it holds N agencies.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import sys
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from bench.harness import (
    DATABASE_SUFFIX,
    PG_URL,
    REDIS_URL,
    ROOT,
    Request,
    healthz_requests,
    measure,
    ratio,
    running_server,
)

AGENCIES = 50_000
DATABASE = f"bench_search{DATABASE_SUFFIX}"
CONCURRENCY = 64
DISTINCT_QUERIES = 600

REGIONS = [
    ("110000", 10),
    ("北京", 4),
    ("beijing", 2),
    ("440000", 6),
    ("广东", 3),
    ("440300", 4),
    ("深圳", 3),
    ("shenzhen", 1),
    ("440100", 3),
    ("320000", 4),
    ("江苏", 2),
    ("320500", 3),
    ("苏州", 2),
    ("330000", 4),
    ("浙江", 2),
    ("330100", 4),
    ("杭州", 3),
    ("hangzhou", 2),
    ("330200", 2),
    ("310000", 4),
    ("上海", 3),
    ("370000", 2),
    ("370200", 1),
    ("510100", 2),
    ("成都", 1),
    ("420100", 2),
    ("武汉", 1),
    ("350200", 1),
    ("610100", 1),
    ("xian", 1),
    ("430100", 1),
    ("120000", 1),
    ("500000", 1),
    ("210200", 1),
]
SERVICES = [
    ("invention", 8),
    ("utility_model", 4),
    ("trademark_registration", 4),
    ("design", 2),
    ("pct_foreign", 2),
    ("priority_exam_assist", 3),
    ("reexamination_invalidation", 1),
    ("patent_navigation", 1),
    ("pledge_valuation", 1),
    ("litigation_support", 1),
]
NAMES = ["求是", "华进", "天勤", "中和", "永新", "金杜", "恒信", "知行", "致远", "qiushi", "huajin", "专利", "商标"]


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def search_mix(count: int = DISTINCT_QUERIES, seed: int = 2026) -> list[str]:
    """Distinct search URLs a population of mini-program users would send."""
    rng = random.Random(seed)
    urls: list[str] = []
    seen: set[str] = set()
    while len(urls) < count:
        params: dict[str, str] = {}
        if rng.random() < 0.85:
            params["region"] = _pick(rng, REGIONS)
        if rng.random() < 0.7:
            params["service"] = _pick(rng, SERVICES)
        if rng.random() < 0.35:
            params["min_rating"] = rng.choice(["A", "A", "B", "A_plus"])
        if rng.random() < 0.3:
            params["accepts_vouchers"] = "true"
        if rng.random() < 0.15:
            params["q"] = rng.choice(NAMES)
        if rng.random() < 0.1:
            params["field"] = rng.choice(["next_gen_it", "biotech_medicine", "smart_manufacturing", "new_materials"])
        params["sort"] = rng.choices(["relevance", "rating", "attorneys", "price"], weights=[5, 3, 1, 1])[0]
        page = rng.choices([1, 2, 3], weights=[8, 2, 1])[0]
        if page > 1:
            params["page"] = str(page)
        url = "/api/v1/agencies?" + urlencode(params)
        if url not in seen:
            seen.add(url)
            urls.append(url)
    return urls


def requests_from(urls: list[str]) -> Any:
    prepared = [Request("GET", url) for url in urls]
    return lambda i: prepared[i % len(prepared)]


async def _database(n: int) -> str:
    """The bench database holding n demo agencies (created and seeded when missing or of an older schema)."""
    url = make_url(PG_URL).set(database=DATABASE).render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": ""}
    for attempt in (1, 2):
        admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            if attempt == 2:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
            if not await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": DATABASE}):
                await conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
        await admin.dispose()
        await _run([sys.executable, "server.py", "migrate"], env)
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                # A column of the current schema: an older bench database is dropped and seeded again.
                have = int(await conn.scalar(text("SELECT count(services_mask) FROM agencies")) or 0)
            break
        except DBAPIError:
            if attempt == 2:
                raise
        finally:
            await engine.dispose()
    if have < n:
        print(f"  seeding {n} agencies into {DATABASE} (once; reused by later runs) …", flush=True)
        await _run([sys.executable, "server.py", "seed", "--agencies", str(n)], env)
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text("VACUUM ANALYZE"))
    await engine.dispose()
    return url


async def _run(argv: list[str], env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(*argv, cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL)
    if await process.wait() != 0:
        raise RuntimeError(f"{' '.join(argv[1:])} failed")


async def _phase(
    name: str,
    env: dict[str, str],
    urls: list[str],
    seconds: float,
    *,
    prewarm: bool,
    argv: tuple[str, ...] = ("server.py", "run"),
    label: str = "search",
) -> list[dict[str, Any]]:
    async with running_server(env, argv=argv) as server:
        if prewarm:
            await measure(
                server.url,
                requests_from(urls),
                name="prewarm",
                concurrency=8,
                seconds=600,
                max_requests=len(urls),
                warmup_seconds=0,
            )
        base = await measure(
            server.url, healthz_requests(), name=f"healthz ({name})", concurrency=CONCURRENCY, seconds=seconds
        )
        load = await measure(
            server.url, requests_from(urls), name=f"{label} {name}", concurrency=CONCURRENCY, seconds=seconds
        )
    return [base.as_dict(), ratio(load, base)]


async def main(args: argparse.Namespace) -> dict[str, Any]:
    n = 5_000 if args.quick else AGENCIES
    seconds = 3.0 if args.quick else args.seconds
    try:
        url = await _database(n)
    except (OSError, RuntimeError) as exc:
        return {"title": "Agency search", "rows": [], "notes": [f"skipped: PostgreSQL not available ({exc})"]}
    urls = search_mix()
    common = {
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "CACHE_PREFIX": f"bench-search-{secrets.token_hex(4)}",
        "WECHAT_PUSH_WORKER": "false",
    }
    rows = await _phase("warm (cached)", {**common, "SEARCH_CACHE_TTL_SECONDS": "300"}, urls, seconds, prewarm=True)
    rows += await _phase(
        "warm, Redis only",
        {**common, "SEARCH_CACHE_TTL_SECONDS": "300", "NEAR_CACHE_MB": "0"},
        urls,
        seconds,
        prewarm=True,
    )
    rows += await _phase("cold (cache off)", {**common, "SEARCH_CACHE_TTL_SECONDS": "0"}, urls, seconds, prewarm=False)
    # The floor under any cold request: the same app answering one `SELECT 1` through its unit of work.
    rows += await _phase(
        "floor (SELECT 1)",
        common,
        ["/api/v1/bench/select-1"],
        seconds,
        prewarm=False,
        argv=("-m", "bench.floor_app"),
        label="database",
    )
    # The same `SELECT 1` on a bare asyncpg pool in the same app: what the stack under SQLAlchemy allows.
    rows += await _phase(
        "floor, bare asyncpg (no SQLAlchemy)",
        common,
        ["/api/v1/bench/select-1-asyncpg"],
        seconds,
        prewarm=False,
        argv=("-m", "bench.floor_app"),
        label="database",
    )
    warm, cold, floor, bare = rows[1], rows[5], rows[7], rows[9]
    return {
        "title": f"Agency search ({n:,} agencies, PostgreSQL + Redis, {CONCURRENCY} connections, "
        f"{len(urls)} distinct queries)",
        "rows": rows,
        "notes": [
            f"aims: warm p99 < 25 ms (measured {warm['p99_ms']} ms), warm throughput >= 40% of /healthz "
            f"(measured {warm['throughput_vs_healthz']:.0%}), cold throughput >= 10% (measured "
            f"{cold['throughput_vs_healthz']:.0%})",
            "one server process (WORKERS=1) per phase; /healthz measured against the same process just before",
            f"floor: a request whose only work is one SELECT 1 through the unit of work reaches "
            f"{floor['throughput_vs_healthz']:.0%} of /healthz (bench/floor_app.py); every cold search needs at least "
            "that round trip and then a page and a count on 50,000 rows",
            f"the same SELECT 1 on a bare asyncpg pool in the same app (no SQLAlchemy, no session) reaches "
            f"{bare['throughput_vs_healthz']:.0%}: the difference is SQLAlchemy's async execution path",
        ],
    }
