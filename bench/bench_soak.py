"""Soak: mixed traffic (search, agency profiles, redemptions, chat) held for minutes against two backend workers
sharing one port, on PostgreSQL and Redis, with the rate limits on.

It creates its own database (`ipa_soak_<hex>` on BENCH_DATABASE_URL's server, dropped after) and key prefix,
seeds 300 demo agencies, then arranges through the services: an official, 40 enterprise staff accounts, a programme
and vouchers large enough never to run out. A real Rasa serves the chat when a model is trained (not with
`--quick`); otherwise the chat answers with its fallback menu (the path a Rasa outage takes).

The four kinds of request run side by side for the whole soak, each with its own clients, so each reports its
own throughput and p99. Every worker's resident memory is sampled throughout; it must level off (the second
half grows by at most a few MB, against the first half's warm-up). Afterwards the ledger check must find 0
differences. Errors must be 0: every request's expected status is its success status.

    python -m bench.run soak            # 180 s
    python -m bench.run soak --quick    # 30 s, no Rasa
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.harness import PG_URL, REDIS_URL, ROOT, LoadResult, Request, free_port, healthz_requests, measure, ratio

MODEL = ROOT / "bot" / "models" / "current.tar.gz"
RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
USERS = 40
VOUCHERS = 40
PASSWORD = "soak-pass-2026"
QUERIES = ["", "q=杭州", "region=330106", "service=invention", "min_rating=A", "accepts_vouchers=true", "q=知识产权"]
CHAT_TEXTS = [
    "你好",
    "优先审查要多久",
    "杭州有没有做发明专利的代理所",
    "what do the credit levels mean",
    "我的券还有多少",
]


# ---------------------------------------------------------------- servers


class SoakWorker:
    """`server.py run --reuse-port` on the shared port (the harness starts one process per port; here two share)."""

    def __init__(self, name: str, port: int, env: dict[str, str], log_dir: Path) -> None:
        self.name, self.port, self.env = name, port, env
        self.log_path = log_dir / f"soak-{name}-{port}.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "server.py", "run", "--reuse-port",
                cwd=ROOT, env={**os.environ, **self.env, "PORT": str(self.port)},
                stdout=log, stderr=log, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 90
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    raise RuntimeError(f"{self.name} exited; see {self.log_path}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                        if response.status == 200 and self._listening():
                            return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready; see {self.log_path}")

    def _listening(self) -> bool:
        assert self.process is not None
        for fd in Path(f"/proc/{self.process.pid}/fd").iterdir():
            with contextlib.suppress(FileNotFoundError):  # a descriptor closed between the listing and the look
                if "socket:" in os.readlink(fd):
                    return True
        return False

    def rss_kb(self) -> int:
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout=15)
            except TimeoutError:
                os.killpg(self.process.pid, signal.SIGKILL)
                await self.process.wait()


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


async def _arrange(database_url: str) -> dict[str, Any]:
    """Official, enterprise staff and large vouchers, through the services (the soak is about the traffic)."""
    from accounts.schemas import NewUser
    from accounts.service import create_user, principal_for
    from app.schema import load_models
    from core.auth import Role
    from core.credit_code import make_credit_code
    from core.db import Database, utcnow
    from enterprises.models import Enterprise
    from vouchers import service
    from vouchers.schemas import IssueIn, IssueItem, ProgramIn

    load_models()
    db = Database(database_url)
    now = utcnow()
    try:
        async with db.transaction() as session:
            enterprises = [
                Enterprise(
                    name=f"浸泡测试科技{n}有限公司",
                    credit_code=make_credit_code(f"91330106MK{n:07d}"),
                    region_code="330106",
                    qualification="national_little_giant",
                    certificate_no=f"SOAK-{n}",
                    qualification_expires_on=(now + dt.timedelta(days=365)).date(),
                )
                for n in range(1, USERS + 1)
            ]
            session.add_all(enterprises)
            await session.flush()
            official = principal_for(
                await create_user(session, NewUser(role=Role.OFFICIAL, username="soak_official", password=PASSWORD))
            )
            for n, enterprise in enumerate(enterprises):
                await create_user(
                    session,
                    NewUser(role=Role.ENTERPRISE, username=f"soak{n}", password=PASSWORD, enterprise_id=enterprise.id),
                )
            program = await service.create_program(
                session,
                official,
                ProgramIn(
                    name="浸泡测试服务券",
                    region_code="330100",
                    budget_fen=10**12,
                    face_value_fen=10**9,
                    share_bp=6000,
                    services=["invention"],
                    valid_from=now - dt.timedelta(days=1),
                    valid_until=now + dt.timedelta(days=30),
                ),
            )
            issued = await service.issue_vouchers(
                session, official, program.id, IssueIn(enterprises=[IssueItem(enterprise_id=e.id) for e in enterprises])
            )
            return {
                "vouchers": [(v.id, v.enterprise_id) for v in issued.issued],
                "enterprises": [e.id for e in enterprises],
            }
    finally:
        await db.dispose()


async def _participating_agencies(base: str) -> list[tuple[int, int]]:
    """(agency id, its lowest invention price): a redemption must be priced inside the agency's listed range."""
    found = []
    async with aiohttp.ClientSession() as http:
        params = {"service": "invention", "accepts_vouchers": "true", "region": "330100", "page_size": "50"}
        async with http.get(f"{base}/api/v1/agencies", params=params) as response:
            items = (await response.json())["items"]
        for item in items:
            async with http.get(f"{base}/api/v1/agencies/{item['id']}") as response:
                profile = await response.json()
            prices = [s["price_min_fen"] for s in profile["services"] if s["code"] == "invention"]
            if prices:
                found.append((int(item["id"]), int(prices[0])))
    return found


async def _tokens(base: str) -> list[str]:
    tokens = []
    async with aiohttp.ClientSession() as http:
        for n in range(USERS):
            login = {"username": f"soak{n}", "password": PASSWORD}
            async with http.post(f"{base}/api/v1/auth/login", json=login) as response:
                response.raise_for_status()
                tokens.append((await response.json())["token"])
    return tokens


async def _start_rasa(port: int, worker_url: str, log_dir: Path) -> tuple[asyncio.subprocess.Process, float]:
    endpoints = log_dir / "soak-endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "{worker_url}/bot/actions"\n'
        "  headers:\n    X-Actions-Token: ${BOT_ACTIONS_TOKEN}\n"  # Rasa reads it from its environment
    )
    # Our token-checking REST channel (and with it our Rasa patches, bot/rasa_patches.py), as `make run` starts Rasa.
    from app import local_secrets

    os.environ.update({k: v for k, v in local_secrets.resolved().items() if not os.environ.get(k)})
    token = os.environ["RASA_AUTH_TOKEN"]
    credentials = ROOT / "bot" / "credentials.yml"
    with (log_dir / "soak-rasa.log").open("wb") as log:
        rasa = await asyncio.create_subprocess_exec(
            str(RASA_BIN), "run", "--enable-api", "--port", str(port), "-m", str(MODEL),
            "--endpoints", str(endpoints), "--credentials", str(credentials), "--auth-token", token,
            cwd=ROOT, env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"},
            stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
    started = time.monotonic()
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        while time.monotonic() - started < 600:
            if rasa.returncode is not None:
                raise RuntimeError("rasa exited; see var/bench/soak-rasa.log")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.get(
                    f"{url}/status", params={"token": token}, timeout=aiohttp.ClientTimeout(total=2)
                ) as response:
                    if response.status == 200 and (await response.json()).get("model_id"):
                        return rasa, time.monotonic() - started
            await asyncio.sleep(1)
    raise RuntimeError("rasa did not load its model in time")


# ---------------------------------------------------------------- the soak


def _levelled(samples: list[int]) -> tuple[int, int, bool]:
    """(growth over the first half, growth over the second half, levelled off) in KB."""
    if len(samples) < 4:
        return 0, 0, True
    mid = len(samples) // 2
    first, second = samples[mid] - samples[0], samples[-1] - samples[mid]
    return first, second, second <= max(8 * 1024, first // 2)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    quick = bool(getattr(args, "quick", False))
    seconds = 30.0 if quick else max(180.0, float(getattr(args, "seconds", 10)))
    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    run = secrets.token_hex(3)
    base = make_url(PG_URL)
    name = f"ipa_soak_{run}"
    database_url = base.set(database=name).render_as_string(hide_password=False)
    await _admin(PG_URL, f'CREATE DATABASE "{name}"')
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "CACHE_PREFIX": f"soak-{run}",
        "RATE_LIMITS": "true",
        "LOG_LEVEL": "WARNING",
        "WECHAT_PUSH_WORKER": "false",
        "CHAT_DEADLINE_SECONDS": "4",
    }
    notes: list[str] = []
    rasa: asyncio.subprocess.Process | None = None
    workers: list[SoakWorker] = []
    try:
        for command in (["migrate"], ["seed", "--agencies", "300"]):
            subprocess.run(  # noqa: ASYNC221, S603
                [sys.executable, "server.py", *command], cwd=ROOT, env={**os.environ, **env}, check=True,
                capture_output=True,
            )  # fmt: skip
        world = await _arrange(database_url)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        use_rasa = MODEL.exists() and RASA_BIN.exists() and not quick
        rasa_port = free_port()
        env = {**env, "RASA_URL": f"http://127.0.0.1:{rasa_port}" if use_rasa else "http://127.0.0.1:9"}
        if not use_rasa:
            notes.append("chat answered by the fallback menu (no Rasa: --quick or no trained model)")
        workers = [SoakWorker(f"worker{n}", port, env, log_dir) for n in (1, 2)]
        for worker in workers:
            await worker.start()
        if use_rasa:
            rasa, startup = await _start_rasa(rasa_port, url, log_dir)
            notes.append(f"chat through one real Rasa (model loaded in {startup:.0f} s)")
        agencies = await _participating_agencies(url)
        tokens = await _tokens(url)
        vouchers: list[tuple[int, int]] = world["vouchers"]
        token_of = dict(zip(world["enterprises"], tokens, strict=True))

        def search(i: int) -> Request:
            return Request("GET", f"/api/v1/agencies?{QUERIES[i % len(QUERIES)]}&page={1 + i % 5}")

        def profile(i: int) -> Request:
            return Request("GET", f"/api/v1/agencies/{agencies[i % len(agencies)][0]}")

        def redeem(i: int) -> Request:
            voucher, enterprise = vouchers[i % len(vouchers)]
            agency, price = agencies[i % len(agencies)]
            return Request(
                "POST",
                f"/api/v1/vouchers/{voucher}/redeem",
                json={"agency_id": agency, "service_code": "invention", "price_fen": price},
                headers={"Authorization": f"Bearer {token_of[enterprise]}", "Idempotency-Key": f"soak-{run}-{i}"},
                ok_statuses=(201,),
            )

        def chat(i: int) -> Request:
            return Request(
                "POST",
                "/api/v1/chat",
                json={"text": CHAT_TEXTS[(i // USERS) % len(CHAT_TEXTS)]},
                headers={"Authorization": f"Bearer {tokens[i % USERS]}"},
            )

        baseline = await measure(url, healthz_requests(), name="healthz", concurrency=16, seconds=5)
        samples: dict[str, list[int]] = {w.name: [] for w in workers}
        interval = 3.0 if quick else 10.0

        async def sample() -> None:
            while True:
                for worker in workers:
                    samples[worker.name].append(worker.rss_kb())
                await asyncio.sleep(interval)

        sampler = asyncio.create_task(sample())
        # Chat clients stay under the per-user limit (30 a minute): 40 users, each asked at most every ~2 s.
        results: list[LoadResult] = list(
            await asyncio.gather(
                measure(url, search, name="soak_search", concurrency=12, seconds=seconds, warmup_seconds=0),
                measure(url, profile, name="soak_profile", concurrency=4, seconds=seconds, warmup_seconds=0),
                measure(url, redeem, name="soak_redeem", concurrency=6, seconds=seconds, warmup_seconds=0),
                measure(url, chat, name="soak_chat", concurrency=4, seconds=seconds, warmup_seconds=0),
            )
        )
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        for worker in workers:
            samples[worker.name].append(worker.rss_kb())
        check = subprocess.run(  # noqa: ASYNC221
            [sys.executable, "server.py", "vouchers", "check"], cwd=ROOT, env={**os.environ, **env},
            capture_output=True, text=True,
        )  # fmt: skip
        rows: list[dict[str, Any]] = [baseline.as_dict(), *(ratio(r, baseline) for r in results)]
        total = sum(r.requests for r in results)
        errors = sum(r.errors for r in results)
        memory: dict[str, Any] = {}
        levelled_all = True
        for worker_name, values in samples.items():
            first, second, levelled = _levelled(values)
            levelled_all &= levelled
            memory[worker_name] = {
                "rss_start_mb": round(values[0] / 1024, 1),
                "rss_end_mb": round(values[-1] / 1024, 1),
                "growth_first_half_mb": round(first / 1024, 1),
                "growth_second_half_mb": round(second / 1024, 1),
                "levelled_off": levelled,
                "samples_mb": [round(v / 1024, 1) for v in values],
            }
        rows.append(
            {
                "name": "soak_total",
                "requests": total,
                "errors": errors,
                "seconds": seconds,
                "throughput_rps": round(total / seconds, 1),
                "p99_ms": max(r.p99_ms for r in results),
            }
        )
        notes += [
            f"two workers (--reuse-port) on PostgreSQL and Redis, rate limits on, {seconds:.0f} s",
            f"errors {errors} (must be 0); ledger check exit {check.returncode} (0 = no differences)",
            "memory levelled off in every worker" if levelled_all else "MEMORY STILL GROWING in a worker",
            *(f"{k}: RSS {v['rss_start_mb']} → {v['rss_end_mb']} MB" for k, v in memory.items()),
        ]
        return {
            "title": "Soak: search, profiles, redemptions and chat held against two workers (PostgreSQL, Redis)",
            "rows": rows,
            "memory": memory,
            "ledger_check_exit": check.returncode,
            "errors": errors,
            "ok": errors == 0 and check.returncode == 0 and levelled_all,
            "notes": notes,
        }
    finally:
        for worker in workers:
            await worker.stop()
        if rasa is not None and rasa.returncode is None:
            os.killpg(rasa.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(rasa.wait(), timeout=20)
            except TimeoutError:
                os.killpg(rasa.pid, signal.SIGKILL)
        await _admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
