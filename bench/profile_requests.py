"""Where a request's CPU goes: the server under the vouchers bench's redemption load and the floor's `SELECT 1`,
with py-spy on the server process and the CPU of PostgreSQL's backends serving it.

    .venv/bin/python -m bench.profile_requests [--seconds 15] [--phase PHASE ...]

Phases: spread, contention (redemptions), search-cold (the search bench's mix, no cache), floor, floor-core,
floor-asyncpg (`bench/floor_app.py`'s routes).

Not a suite of `make bench` (it writes nothing to `bench/results.json`): it prints, per phase, CPU milliseconds per
request — the server process (from `/proc`, over the measured window), split by py-spy's samples into the layers
below, and PostgreSQL: the backends connected to the bench database (`pg_stat_activity`, their CPU from `/proc`).
`pg_stat_statements` is not loaded on this cluster (it needs a restart of a shared server), so PostgreSQL's time is
its backends' CPU, which is what a round trip costs there: parsing the protocol message, planning or running the
prepared statement, and the commit.

A sample is charged to the innermost frame of a known layer: asyncpg under SQLAlchemy is asyncpg, SQLAlchemy's
compiler under the ORM is "SQLAlchemy Core", and so on; what no layer claims is "other" (the event loop, the
interpreter's own frames).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import re
import secrets
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.bench_search import AGENCIES, requests_from, search_mix
from bench.bench_search import DATABASE as SEARCH_DATABASE
from bench.bench_search import _database as search_database
from bench.bench_vouchers import DATABASE, _arrange, _fresh_database, _redemptions
from bench.harness import PG_URL, REDIS_URL, ROOT, Request, measure, running_server

# Innermost first: the first layer whose pattern a frame's file matches claims the frame.
LAYERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("asyncpg (driver, protocol, socket writes)", re.compile(r"asyncpg/")),
    ("redis client (token look-up, cache bump)", re.compile(r"redis/")),
    ("SQLAlchemy ORM", re.compile(r"sqlalchemy/orm/")),
    ("SQLAlchemy Core (compile, execute, pool, result)", re.compile(r"sqlalchemy/")),
    ("cache (core/cache.py, near cache)", re.compile(r"core/(cache|nearcache)\.py")),
    ("auth (core/auth.py, accounts)", re.compile(r"core/auth\.py|accounts/")),
    ("pydantic (request and answer models)", re.compile(r"pydantic")),
    ("vouchers / agencies services", re.compile(r"(vouchers|agencies|enterprises|wechat)/[a-z_]+\.py")),
    ("unit of work, db events (core/db.py, core/http.py)", re.compile(r"core/(db|http|events)\.py")),
    ("aiohttp + middlewares (logs, metrics, errors, rate limit)", re.compile(r"aiohttp/|yarl/|multidict/|core/")),
    ("json", re.compile(r"json/")),
)
# The floor app's `SELECT 1` routes (bench/floor_app.py), from the whole unit of work down to bare asyncpg.
FLOOR_PATHS = {
    "floor": "/api/v1/bench/select-1",
    "floor-core": "/api/v1/bench/select-1-core",
    "floor-asyncpg": "/api/v1/bench/select-1-asyncpg",
}
_FRAME = re.compile(r"\((?P<file>[^:)]+)(?::\d+)?\)$")


def layer_of(stack: list[str]) -> str:
    for frame in reversed(stack):
        match = _FRAME.search(frame.strip())
        if match is None:
            continue
        path = match["file"]
        for name, pattern in LAYERS:
            if pattern.search(path):
                return name
    return "other (event loop, interpreter)"


def split(raw: str) -> tuple[int, Counter[str]]:
    total = 0
    layers: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        total += int(count_text)
        layers[layer_of(stack.split(";"))] += int(count_text)
    return total, layers


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def backends(database: str) -> list[int]:
    engine = create_async_engine(PG_URL)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": database})
            return [int(pid) for (pid,) in rows]
    finally:
        await engine.dispose()


def backend_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError):  # a backend that ended
            total += cpu_seconds(pid)
    return total


async def profile(name: str, server_pid: int, url: str, source: Any, database: str, seconds: float) -> dict[str, Any]:
    await measure(url, source, name=f"{name} warm-up", concurrency=64, seconds=2, warmup_seconds=0)
    pids = await backends(database)
    out = Path(tempfile.mkdtemp(prefix="profile-")) / f"{name}.txt"
    spy = await asyncio.create_subprocess_exec(
        str(ROOT / ".venv" / "bin" / "py-spy"),
        *("record", "--pid", str(server_pid), "-d", str(int(seconds)), "-r", "200", "--nonblocking"),
        *("--format", "raw", "-o", str(out)),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    server_before, pg_before = cpu_seconds(server_pid), backend_cpu(pids)
    result = await measure(url, source, name=name, concurrency=64, seconds=seconds, warmup_seconds=0)
    server_cpu, pg_cpu = cpu_seconds(server_pid) - server_before, backend_cpu(pids) - pg_before
    await spy.wait()
    total, layers = split(out.read_text(errors="replace")) if out.exists() else (0, Counter())
    done = result.requests + result.errors
    per_request_ms = 1000 * server_cpu / done
    return {
        "phase": name,
        "requests_per_s": round(result.throughput_rps, 1),
        "p99_ms": round(result.p99_ms, 1),
        "server_cpu_ms_per_request": round(per_request_ms, 3),
        "postgresql_cpu_ms_per_request": round(1000 * pg_cpu / done, 3),
        "postgresql_backends": len(pids),
        "samples": total,
        "layers_ms_per_request": {
            layer: round(per_request_ms * count / total, 3) for layer, count in layers.most_common()
        }
        if total
        else {},
        "profile": str(out),
    }


async def main(args: argparse.Namespace) -> None:
    results: list[dict[str, Any]] = []
    env = {"REDIS_URL": REDIS_URL, "WECHAT_PUSH_WORKER": "false", "CACHE_PREFIX": f"profile-{secrets.token_hex(4)}"}
    redemptions = [p for p in args.phase if p in ("spread", "contention")]
    floors = [p for p in args.phase if p in FLOOR_PATHS]
    if redemptions:
        url = await _fresh_database()
        world = await _arrange(url)
        async with running_server({**env, "DATABASE_URL": url}) as server:
            for phase in redemptions:
                vouchers = world["spread"] if phase == "spread" else [world["hot"]]
                source = _redemptions(world, vouchers, f"profile-{phase}")
                results.append(await profile(phase, server.process.pid, server.url, source, DATABASE, args.seconds))
    if "search-cold" in args.phase:
        url = await search_database(AGENCIES)
        cold = {**env, "DATABASE_URL": url, "SEARCH_CACHE_TTL_SECONDS": "0"}
        async with running_server(cold) as server:
            source = requests_from(search_mix())
            pid = server.process.pid
            results.append(await profile("search-cold", pid, server.url, source, SEARCH_DATABASE, args.seconds))
    if floors:
        url = await _fresh_database()  # an empty schema is enough for SELECT 1
        argv = ("-m", "bench.floor_app")
        async with running_server({**env, "DATABASE_URL": url}, argv=argv) as server:
            for phase in floors:
                source = functools.partial(lambda path, _i: Request("GET", path), FLOOR_PATHS[phase])
                results.append(await profile(phase, server.process.pid, server.url, source, DATABASE, args.seconds))
            results.append(
                await profile(
                    "healthz", server.process.pid, server.url, lambda _i: Request("GET", "/healthz"), "-", args.seconds
                )
            )
    for row in results:
        print(f"\n## {row['phase']}: {row['requests_per_s']} req/s, p99 {row['p99_ms']} ms, {row['samples']} samples")
        print(f"server process CPU per request: {row['server_cpu_ms_per_request']} ms")
        for layer, ms in row["layers_ms_per_request"].items():
            print(f"  {ms:7.3f} ms  {layer}")
        print(f"PostgreSQL backends' CPU per request: {row['postgresql_cpu_ms_per_request']} ms")
        print(f"raw profile: {row['profile']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--phase", action="append", choices=["spread", "contention", "search-cold", *FLOOR_PATHS])
    parsed = parser.parse_args()
    parsed.phase = parsed.phase or ["spread", "contention", "floor"]
    asyncio.run(main(parsed))
    sys.exit(0)
