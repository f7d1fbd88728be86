"""What every benchmark shares: start the real server as a subprocess, drive it with N concurrent clients,
and report latency percentiles and throughput — always beside `/healthz` of the same server in the same run,
because these machines are shared and absolute numbers drift.

    async with running_server(env={"DATABASE_URL": ..., "REDIS_URL": ...}) as server:
        base = await measure(server.url, healthz_requests(), concurrency=64, seconds=10)
        search = await measure(server.url, my_requests, concurrency=64, seconds=10)
        report = ratio(search, base)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import signal
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
# Appended to each suite's database name, so that benches of two checkouts sharing one PostgreSQL server (each with
# its own migrations) do not migrate or drop each other's databases.
DATABASE_SUFFIX = os.environ.get("BENCH_DATABASE_SUFFIX", "")


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    data: bytes | str | None = None
    # Statuses that count as success for this request (e.g. a 409 for an exhausted voucher may be expected).
    ok_statuses: tuple[int, ...] = (200, 201, 204)


RequestSource = Callable[[int], Request]
"""Called with a running counter; returns the next request to send (so mixes and rotations are deterministic)."""


@dataclass
class LoadResult:
    name: str
    requests: int
    errors: int
    seconds: float
    throughput_rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    concurrency: int
    statuses: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: asyncio.subprocess.Process
    log_path: Path

    def rss_kb(self) -> int:
        """Resident memory of the server process (Linux), for growth checks."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


@contextlib.asynccontextmanager
async def running_server(
    env: dict[str, str] | None = None, *, argv: tuple[str, ...] = ("server.py", "run"), ready_timeout: float = 60
) -> AsyncIterator[Server]:
    """`python server.py run` (or `python *argv`) on a free port with `env` on top of ours; stopped (SIGTERM, then
    SIGKILL) after."""
    port = free_port()
    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"server-{port}.log"
    # RATE_LIMITS off: a benchmark drives a few users at machine speed (bench_soak turns them back on).
    full_env = {**os.environ, "PORT": str(port), "LOG_LEVEL": "WARNING", "RATE_LIMITS": "false", **(env or {})}
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *argv, cwd=ROOT, env=full_env, stdout=log, stderr=log, start_new_session=True
        )
        server = Server(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
        try:
            await _wait_ready(server, ready_timeout)
            yield server
        finally:
            await stop_process_group(process)


async def stop_process_group(process: asyncio.subprocess.Process, grace_seconds: float = 10) -> None:
    """SIGTERM the process group, SIGKILL it after the grace period; a group already gone is fine."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), timeout=grace_seconds)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


async def _wait_ready(server: Server, limit_seconds: float) -> None:
    deadline = time.monotonic() + limit_seconds
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if server.process.returncode is not None:
                raise RuntimeError(f"server exited with {server.process.returncode}; see {server.log_path}")
            try:
                async with session.get(f"{server.url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"server not ready after {limit_seconds}s; see {server.log_path}")


def healthz_requests() -> RequestSource:
    request = Request("GET", "/healthz")
    return lambda _i: request


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


async def measure(
    base_url: str,
    source: RequestSource,
    *,
    name: str,
    concurrency: int = 64,
    seconds: float = 10.0,
    max_requests: int | None = None,
    warmup_seconds: float = 1.0,
) -> LoadResult:
    """Drive `concurrency` clients for `seconds` (or until `max_requests`), after a short unmeasured warm-up."""
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    counter = iter(range(10**12))
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(record: bool) -> None:
            nonlocal errors
            request = source(next(counter))
            start = time.perf_counter()
            try:
                async with session.request(
                    request.method,
                    base_url + request.path,
                    json=request.json,
                    data=request.data,
                    headers=request.headers,
                ) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                status = -1
                if record:
                    statuses[type(exc).__name__] = statuses.get(type(exc).__name__, 0) + 1
            elapsed = time.perf_counter() - start
            if not record:
                return
            latencies.append(elapsed)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if status not in request.ok_statuses:
                errors += 1

        async def worker(until: float, record: bool, budget: Iterator[int] | None) -> None:
            while time.perf_counter() < until:
                if budget is not None and next(budget, None) is None:
                    return
                await one(record)

        if warmup_seconds > 0:
            until = time.perf_counter() + warmup_seconds
            await asyncio.gather(*(worker(until, False, None) for _ in range(concurrency)))
        budget = iter(range(max_requests)) if max_requests is not None else None
        start = time.perf_counter()
        until = start + seconds
        await asyncio.gather(*(worker(until, True, budget) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start

    ordered = sorted(latencies)
    return LoadResult(
        name=name,
        requests=len(ordered),
        errors=errors,
        seconds=round(elapsed, 2),
        throughput_rps=round(len(ordered) / elapsed, 1) if elapsed else 0.0,
        p50_ms=round(percentile(ordered, 50) * 1000, 2),
        p90_ms=round(percentile(ordered, 90) * 1000, 2),
        p99_ms=round(percentile(ordered, 99) * 1000, 2),
        max_ms=round((ordered[-1] if ordered else 0.0) * 1000, 2),
        concurrency=concurrency,
        statuses=statuses,
    )


def ratio(result: LoadResult, baseline: LoadResult) -> dict[str, Any]:
    """`result` beside the `/healthz` baseline measured against the same server in the same run."""
    return {
        **result.as_dict(),
        "throughput_vs_healthz": round(result.throughput_rps / baseline.throughput_rps, 3)
        if baseline.throughput_rps
        else None,
        "p99_vs_healthz": round(result.p99_ms / baseline.p99_ms, 2) if baseline.p99_ms else None,
    }


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0
