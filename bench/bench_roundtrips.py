"""What one request costs on the wire: PostgreSQL round trips and Redis commands per request kind, counted in-process.

The real app (`create_app`, same middlewares and unit of work) on a fresh PostgreSQL database `bench_roundtrips` and
Redis, driven one request at a time through aiohttp's test server. Every call the app's asyncpg connections make is
counted by kind — the pool's check-out ping, `BEGIN`, `COMMIT` / `ROLLBACK`, a statement prepared (SQLAlchemy's
per-connection statement cache missed), a prepared statement executed — and so is every Redis command. Each kind of
request is sent a few times first (so the statement caches are warm, as under load) and then counted over
`SAMPLES` requests; the table shows the average per request. Not a speed measurement: the figures do not depend on
the machine, only on the code path.

Kinds: the floor (`SELECT 1` through the unit of work, `bench/floor_app.py`'s route), a cold agency search (a full
page and its count), an agency profile, an enterprise's voucher list, a redemption with a new `Idempotency-Key`, and
the search bench's 600 distinct searches cycled (~200 statement shapes: whether the statement cache holds them).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import asyncpg  # type: ignore[import-untyped]
from aiohttp.test_utils import TestServer
from asyncpg.prepared_stmt import PreparedStatement  # type: ignore[import-untyped]

from bench.bench_search import search_mix
from bench.bench_vouchers import PRICE_FEN, _arrange, _fresh_database
from bench.harness import DATABASE_SUFFIX, REDIS_URL

SEARCH = "/api/v1/agencies?region=330100&page_size=5"  # 8 agencies match: a full first page and its count
SAMPLES = 20
WARMUP = 3
COUNTS: Counter[str] = Counter()
SQL: list[str] = []  # the statements of the last request (BENCH_SHOW_SQL=1 prints them)


def _classify_simple(query: str) -> str:
    word = query.strip().rstrip(";").split(None, 1)[0].upper() if query.strip().rstrip(";") else ";"
    return {"BEGIN": "begin", "COMMIT": "commit", "ROLLBACK": "rollback"}.get(word, "other simple query")


@contextlib.contextmanager
def counting() -> Iterator[None]:
    """Count asyncpg's and redis-py's calls that each cost one round trip."""
    import redis.asyncio.client as redis_client

    originals: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = getattr(owner, name)
        originals.append((owner, name, original))
        setattr(owner, name, make(original))

    def simple(original: Any) -> Any:
        async def execute(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            COUNTS[_classify_simple(query) if not args else "statement executed"] += 1
            return await original(self, query, *args, **kwargs)

        return execute

    def prepare(original: Any) -> Any:
        async def wrapped(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            COUNTS["statement prepared"] += 1
            return await original(self, query, *args, **kwargs)

        return wrapped

    def fetch(original: Any) -> Any:
        async def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            COUNTS["statement executed"] += 1
            SQL.append(self.get_query())
            return await original(self, *args, **kwargs)

        return wrapped

    def fetchrow(original: Any) -> Any:
        async def wrapped(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            COUNTS["ping" if query.strip() in (";", "") else "statement executed"] += 1
            return await original(self, query, *args, **kwargs)

        return wrapped

    def redis_command(original: Any) -> Any:
        async def wrapped(self: Any, *args: Any, **options: Any) -> Any:
            COUNTS[f"redis {str(args[0]).upper()}"] += 1
            return await original(self, *args, **options)

        return wrapped

    def redis_pipeline(original: Any) -> Any:
        async def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            COUNTS["redis pipeline"] += 1
            return await original(self, *args, **kwargs)

        return wrapped

    patch(asyncpg.connection.Connection, "execute", simple)
    patch(asyncpg.connection.Connection, "prepare", prepare)
    patch(asyncpg.connection.Connection, "fetchrow", fetchrow)
    patch(PreparedStatement, "fetch", fetch)
    patch(redis_client.Redis, "execute_command", redis_command)
    patch(redis_client.Pipeline, "execute", redis_pipeline)
    try:
        yield
    finally:
        for owner, name, original in reversed(originals):
            setattr(owner, name, original)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from aiohttp import web
    from sqlalchemy import text

    from app.factory import create_app
    from core.http import session
    from core.settings import load_settings
    from vouchers.routes import FLAG_WORKER

    try:
        url = await _fresh_database_named()
    except (OSError, RuntimeError) as exc:
        return {"title": "Round trips per request", "rows": [], "notes": [f"skipped: PostgreSQL not available ({exc})"]}
    world = await _arrange(url)
    settings = load_settings(
        database_url=url,
        redis_url=REDIS_URL,
        cache_prefix=f"bench-rt-{secrets.token_hex(4)}",
        search_cache_ttl_seconds=0,
        wechat_push_worker=False,
        rate_limits=False,
        log_level="WARNING",
    )
    app = create_app(settings)

    async def select_one(request: web.Request) -> web.Response:
        await session(request).execute(text("SELECT 1"))
        return web.json_response({"status": "ok"})

    app.router.add_get("/api/v1/bench/select-1", select_one)
    auth = {"Authorization": f"Bearer {world['token']}"}
    agency = world["agencies"][0]
    counter = iter(range(10**9))

    def redeem() -> tuple[str, str, dict[str, Any], dict[str, str]]:
        i = next(counter)
        body = {"agency_id": world["agencies"][i % 8], "service_code": "invention", "price_fen": PRICE_FEN}
        voucher = world["spread"][i % len(world["spread"])]
        return "POST", f"/api/v1/vouchers/{voucher}/redeem", body, {**auth, "Idempotency-Key": f"rt-{i}"}

    kinds: list[tuple[str, Callable[[], tuple[str, str, Any, dict[str, str]]]]] = [
        ("floor: SELECT 1 (GET)", lambda: ("GET", "/api/v1/bench/select-1", None, {})),
        ("agency search, cold (full page + count)", lambda: ("GET", SEARCH, None, {})),
        ("agency profile", lambda: ("GET", f"/api/v1/agencies/{agency}", None, {})),
        ("my vouchers (signed in)", lambda: ("GET", "/api/v1/me/vouchers", None, auth)),
        ("redemption (new Idempotency-Key)", redeem),
    ]
    mix = iter(search_mix() * 3)  # one pass to warm the caches, two counted
    kinds.append(("search mix, 600 distinct, cycled", lambda: ("GET", next(mix), None, {})))
    rows: list[dict[str, Any]] = []
    server = TestServer(app)
    await server.start_server()
    flag_worker = app[FLAG_WORKER]
    flag_worker.stop()  # its loop ends: the redemptions are checked below, by `drain`, and counted on their own
    try:
        async with aiohttp.ClientSession(str(server.make_url("/"))) as http:
            with counting():
                for name, make in kinds:
                    warmup, samples = (len(search_mix()), 2 * len(search_mix())) if "mix" in name else (WARMUP, SAMPLES)
                    for sample in range(warmup + samples):
                        if sample == warmup:
                            COUNTS.clear()
                        method, path, body, headers = make()
                        SQL.clear()
                        async with http.request(method, path, json=body, headers=headers) as response:
                            await response.read()
                            if response.status >= 300:
                                raise RuntimeError(f"{name}: {response.status} {await response.text()}")
                    if os.environ.get("BENCH_SHOW_SQL"):
                        print(f"-- {name}", *(" ".join(q.split())[:160] for q in SQL), sep="\n  ")
                    rows.append(_row(name, samples))
                    COUNTS.clear()
                    SQL.clear()
                    # The flag worker checks redemptions after their commit: counted on its own, all the kind's
                    # redemptions in one batch.
                    checked = await flag_worker.drain()
                    if checked:
                        if os.environ.get("BENCH_SHOW_SQL"):
                            print("-- flag worker", *(" ".join(q.split())[:160] for q in SQL), sep="\n  ")
                        rows.append(_row(f"flag worker, per redemption ({checked} in one batch)", checked))
                        COUNTS.clear()
    finally:
        await server.close()
    return {
        "title": "Round trips per request (PostgreSQL + Redis, counted in-process)",
        "rows": rows,
        "notes": [
            f"average over {SAMPLES} requests of each kind after {WARMUP} unmeasured ones (statement caches warm)",
            "each asyncpg call counted is one round trip: ping, BEGIN, COMMIT/ROLLBACK, prepare, execute",
        ],
    }


def _row(name: str, samples: int) -> dict[str, Any]:
    per = {k: round(v / samples, 2) for k, v in sorted(COUNTS.items())}
    pg = sum(v for k, v in per.items() if not k.startswith("redis"))
    return {"name": name, "postgresql_round_trips": round(pg, 2), **per}


async def _fresh_database_named() -> str:
    import bench.bench_vouchers as vouchers

    saved = vouchers.DATABASE
    vouchers.DATABASE = f"bench_roundtrips{DATABASE_SUFFIX}"
    try:
        return await _fresh_database()
    finally:
        vouchers.DATABASE = saved
