"""Many people chatting at once (issue 15): WeChat followers in safe mode and mini-program users, real Rasa,
PostgreSQL + Redis — answers/s, p50/p90/p99, deferred / lost / answered-twice counts, CPU per answer.

Set-up: a fresh database (`bench_chat_<hex>`, dropped after) with 300 seeded agencies and 64 enterprise staff
accounts; a per-run cache prefix for the backend and a per-run `RASA_REDIS_KEY_PREFIX` for Rasa's tracker and
lock stores (so runs never meet in Redis); the WeChat stand-in in this process answers the token and
`custom/send` calls; one backend (`server.py run`); one or two `rasa run` started exactly as `make run` starts
them (`app.devrun.rasa_processes`: token-checking REST channel with our Rasa patches, Redis stores), their action
endpoint that backend.

Phases, each with its own followers (new conversations):
- `wechat_N` — N followers (16, 64, 256), each sending a mixed question (agency search, policy, vouchers,
  thanks; Chinese and English), signed and AES-encrypted as WeChat sends it, then pausing 0–4 s. WeChat waits 5 s
  and delivers again (3 deliveries); an empty passive reply means the answer follows via `custom/send`, whose
  arrival at the stand-in ends that message's time. Afterwards the database says, per message, whether it was
  deferred, lost (empty passive reply and no `custom/send` record sent) or answered twice (a passive reply and a
  deferred one);
- `api_N` — N mini-program users on `POST /api/v1/chat` with the same questions and pauses;
- `saturation` — 64 mini-program users without pauses: the most answers/s, and their p99;
  every phase (and the unmeasured warm-up) has users of its own: a conversation that went on through earlier
  phases carries a longer tracker, which Rasa reads, replays and writes on every turn (measured: Rasa's CPU per
  answer grows with it), so phases that shared users measured their order, not their load;
- the same WeChat-64 and saturation phases again with two Rasa instances sharing Redis (sticky routing).

Every answer is checked: the busy fallback is counted (`busy`), and an answer in the other language than the
question (`wrong_language`) too. CPU per answer is the backend's and Rasa's processes' CPU time over the phase
divided by the answers given. Identical texts repeat (14 questions), so Rasa's parse cache answers most parses.

    python -m bench.run chat            # 30 s phases
    python -m bench.run chat --quick    # 8 s phases, 16 and 64 followers
    BENCH_CHAT_PYSPY=/tmp/prof python -m bench.run chat   # also a py-spy profile of each process per phase
                                                           # (read with `python -m bench.pyspy_summary FILE`)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.harness import PG_URL, REDIS_URL, ROOT, free_port, percentile, running_server
from wechat_standin.app import STANDIN, StandIn, create_standin_app, openid_for
from wechat_standin.server import WeChatServer, text_message

MODEL = ROOT / "bot" / "models" / "current.tar.gz"
RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
TOKEN = "benchchattoken0123"
APPID = "wxbenchchat00000"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF0"
# Mini-program users with bearer tokens: each phase takes its own (one instance: warm-up 8, api 16 + 64,
# saturation 64; two: warm-up 8, saturation 64).
API_USERS = 256
THINK_SECONDS = (0.0, 4.0)
QUESTIONS: list[tuple[str, str]] = [
    ("专利优先审查需要什么条件？", "zh"),
    ("杭州有没有信用好的做发明专利的代理所", "zh"),
    ("服务券怎么用", "zh"),
    ("谢谢", "zh"),
    ("商标能不能加快审查", "zh"),
    ("专利质押贷款怎么办", "zh"),
    ("我的券什么时候过期", "zh"),
    ("比较一下天衡和钱塘两家代理所", "zh"),
    ("走优先审查发明多久能下来", "zh"),
    ("你好", "zh"),
    ("What is PPH?", "en"),
    ("how do service vouchers work", "en"),
    ("what do the credit levels mean", "en"),
    ("thanks", "en"),
]
# BENCH_CHAT_INSTANCES=1 measures one Rasa only (e.g. against an older tree, for a before/after).
INSTANCES = tuple(int(n) for n in os.environ.get("BENCH_CHAT_INSTANCES", "1,2").split(","))
# BENCH_CHAT_PHASES=wechat_256,saturation runs only the phases named (a re-check of one figure).
PHASES = {name for name in os.environ.get("BENCH_CHAT_PHASES", "").split(",") if name}
# BENCH_CHAT_PYSPY=DIR records a py-spy profile (raw, 50 Hz, non-blocking) of the backend and each Rasa per phase.
PYSPY_DIR = os.environ.get("BENCH_CHAT_PYSPY", "")
PYSPY = ROOT / ".venv" / "bin" / "py-spy"
BUSY_MARKS = ("智能助手暂时繁忙", "The assistant is busy")


def _cjk_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if "\u4e00" <= c <= "\u9fff") / len(letters)


def _language_ok(answer: str, lang: str) -> bool:
    """An English question answered mostly in English, a Chinese one with Chinese (names and links aside)."""
    head = answer.split("\n", 1)[0] if lang == "en" else answer
    share = _cjk_share(head)
    return share < 0.3 if lang == "en" else share > 0.2


# ---------------------------------------------------------------- measuring


@dataclass
class Tally:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    busy: int = 0
    wrong_language: int = 0
    deferred: int = 0
    passive: set[str] = field(default_factory=set)  # WeChat message keys answered passively
    empty: set[str] = field(default_factory=set)  # WeChat message keys answered with an empty passive reply

    def answer(self, seconds: float, text: str, lang: str) -> None:
        self.latencies.append(seconds)
        if any(mark in text for mark in BUSY_MARKS):
            self.busy += 1
        elif not _language_ok(text, lang):
            self.wrong_language += 1


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes and their children that were waited for (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return total / tick


class Users:
    """The mini-program users' bearer tokens, handed out once: every phase chats in conversations of its own."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.used = 0

    def take(self, n: int) -> list[str]:
        if self.used + n > len(self.tokens):
            raise RuntimeError(f"bench_chat needs more than its {len(self.tokens)} users (API_USERS)")
        self.used += n
        return self.tokens[self.used - n : self.used]


class CustomSends:
    """Watches the stand-in's `custom/send` log and wakes the follower waiting for an answer to that openid."""

    def __init__(self, standin: StandIn) -> None:
        self.standin = standin
        self.seen = len(standin.sent)
        self.waiting: dict[str, asyncio.Future[str]] = {}

    async def run(self) -> None:
        while True:
            sent = self.standin.sent
            while self.seen < len(sent):
                item = sent[self.seen]
                self.seen += 1
                future = self.waiting.pop(str(item.get("touser")), None)
                if future is not None and not future.done():
                    future.set_result(str(item["body"].get("text", {}).get("content", "")))
            await asyncio.sleep(0.02)

    def expect(self, openid: str) -> asyncio.Future[str]:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.waiting[openid] = future
        return future


async def _wechat_phase(
    name: str, webhook: str, customs: CustomSends, followers: int, seconds: float, tag: str
) -> Tally:
    tally = Tally(name)
    end = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        wechat = WeChatServer(http, webhook, token=TOKEN, appid=APPID, aes_key=AES_KEY)

        async def follower(n: int) -> None:
            rng = random.Random(f"{tag}-{n}")
            openid = openid_for(APPID, f"{tag}-{n}")
            await asyncio.sleep(rng.uniform(*THINK_SECONDS))
            while time.perf_counter() < end:
                question, lang = rng.choice(QUESTIONS)
                msg_id = secrets.randbits(62)
                key = f"m:{openid}:{msg_id}"
                started = time.perf_counter()
                later = customs.expect(openid)
                delivery = await wechat.deliver(text_message(openid, question, msg_id))
                if delivery.status != 200:
                    tally.errors += 1
                elif delivery.reply:
                    tally.passive.add(key)
                    tally.answer(time.perf_counter() - started, delivery.reply, lang)
                else:
                    tally.empty.add(key)
                    tally.deferred += 1
                    try:
                        answer = await asyncio.wait_for(later, timeout=30)
                        tally.answer(time.perf_counter() - started, answer, lang)
                    except TimeoutError:
                        pass  # counted as lost from the database afterwards
                customs.waiting.pop(openid, None)
                await asyncio.sleep(rng.uniform(*THINK_SECONDS))

        await asyncio.gather(*(follower(n) for n in range(followers)))
    return tally


async def _api_phase(name: str, base: str, tokens: list[str], users: int, seconds: float, think: bool) -> Tally:
    tally = Tally(name)
    end = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as http:

        async def user(n: int) -> None:
            rng = random.Random(f"{name}-{n}")
            headers = {"Authorization": f"Bearer {tokens[n]}"}
            if think:
                await asyncio.sleep(rng.uniform(*THINK_SECONDS))
            while time.perf_counter() < end:
                question, lang = rng.choice(QUESTIONS)
                started = time.perf_counter()
                try:
                    async with http.post(f"{base}/api/v1/chat", json={"text": question}, headers=headers) as r:
                        body = await r.json(content_type=None)
                        status = r.status
                except (aiohttp.ClientError, TimeoutError):
                    status, body = -1, None
                if status != 200 or not isinstance(body, dict):
                    tally.errors += 1
                else:
                    tally.answer(time.perf_counter() - started, "\n".join(x["text"] for x in body["replies"]), lang)
                if think:
                    await asyncio.sleep(rng.uniform(*THINK_SECONDS))

        await asyncio.gather(*(user(n) for n in range(users)))
    return tally


# ---------------------------------------------------------------- the world


async def _fresh_database(name: str) -> str:
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


async def _drop_database(name: str) -> None:
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


async def _arrange(database_url: str) -> list[str]:
    """Seeded agencies, one enterprise and API_USERS staff with bearer tokens (written in bulk: argon2 hashes
    would take minutes and measure nothing here)."""
    env = {**os.environ, "DATABASE_URL": database_url}
    for argv in (["migrate"], ["seed", "--agencies", "300"]):
        subprocess.run([sys.executable, "server.py", *argv], cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: ASYNC221, S603
    from accounts.models import AuthToken, User
    from accounts.service import token_hash
    from app.schema import load_models
    from core.credit_code import make_credit_code
    from core.db import Database, utcnow
    from enterprises.models import Enterprise

    load_models()
    db = Database(database_url)
    tokens = [secrets.token_urlsafe(32) for _ in range(API_USERS)]
    try:
        async with db.transaction() as session:
            enterprise = Enterprise(
                name="并发对话测试科技有限公司", credit_code=make_credit_code("91330106BC0000001"), region_code="330106"
            )
            session.add(enterprise)
            await session.flush()
            await session.execute(
                insert(User),
                [
                    {
                        "username": f"chat{n}",
                        "role": "enterprise",
                        "display_name": f"chat{n}",
                        "enterprise_id": enterprise.id,
                    }
                    for n in range(API_USERS)
                ],
            )
            user_ids = list((await session.scalars(select(User.id).where(User.username.like("chat%")))).all())
            expires = utcnow() + dt.timedelta(hours=6)
            await session.execute(
                insert(AuthToken),
                [
                    {"user_id": uid, "token_hash": token_hash(token), "expires_at": expires, "client": "password"}
                    for uid, token in zip(sorted(user_ids), tokens, strict=True)
                ],
            )
    finally:
        await db.dispose()
    return tokens


async def _custom_records(database_url: str, keys: set[str]) -> dict[str, set[int]]:
    """inbound key → the seqs of its custom messages that were sent."""
    from core.db import Database
    from wechat.models import CustomMessage

    db = Database(database_url)
    found: dict[str, set[int]] = {}
    try:
        async with db.transaction(write=False) as session:
            rows = (
                await session.execute(
                    select(CustomMessage.inbound_key, CustomMessage.seq).where(CustomMessage.state == "sent")
                )
            ).all()
    finally:
        await db.dispose()
    for key, seq in rows:
        if key in keys:
            found.setdefault(key, set()).add(seq)
    return found


@dataclass
class RasaFleet:
    urls: list[str]
    processes: list[asyncio.subprocess.Process]
    startup_seconds: float
    key_prefix: str = ""

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    async def stop(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), timeout=20)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()


async def _start_rasa(urls: list[str], backend_port: int, key_prefix: str, log_dir: Path) -> RasaFleet:
    """One `rasa run` per URL exactly as `make run` starts them (Redis stores under this run's key prefix)."""
    from app.devrun import rasa_processes
    from core.settings import load_settings

    settings = load_settings(rasa_url=",".join(urls), port=backend_port, redis_url=REDIS_URL)
    started = time.monotonic()
    processes = []
    logs = []
    for spec in rasa_processes(settings):
        env = {**os.environ, **spec.env, "RASA_REDIS_KEY_PREFIX": key_prefix}
        logs.append(log_dir / f"chat-{spec.name}-{key_prefix}.log")
        with logs[-1].open("wb") as log:
            processes.append(
                await asyncio.create_subprocess_exec(
                    *spec.argv, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
                )
            )
    fleet = RasaFleet(urls, processes, 0.0)
    try:
        async with aiohttp.ClientSession() as http:
            for url, process in zip(urls, processes, strict=True):
                while True:
                    if process.returncode is not None:
                        raise RuntimeError(f"rasa at {url} exited; see {log_dir}")
                    if time.monotonic() - started > 900:
                        raise RuntimeError("rasa did not load its model in time")
                    with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
                        async with http.get(
                            f"{url}/status",
                            params={"token": settings.rasa_auth_token},
                            timeout=aiohttp.ClientTimeout(total=3),
                        ) as response:
                            if response.status == 200 and (await response.json()).get("model_id"):
                                break
                    await asyncio.sleep(1)
    except BaseException:
        await fleet.stop()
        raise
    fleet.startup_seconds = time.monotonic() - started
    for path in logs:
        if "Falling back to use the InMemoryTrackerStore" in path.read_text(errors="replace"):
            await fleet.stop()
            raise RuntimeError(f"{path}: Rasa could not reach Redis (in-memory tracker store): instances would drift")
    return fleet


# ---------------------------------------------------------------- phases


def _row(
    tally: Tally, seconds: float, cpu: tuple[float, float], instances: int, records: dict[str, set[int]] | None
) -> dict[str, Any]:
    ordered = sorted(tally.latencies)
    answers = len(ordered)
    by_rasa = answers - tally.busy  # the busy fallback costs Rasa nothing
    row: dict[str, Any] = {
        "name": tally.name,
        "instances": instances,
        "answers": answers,
        "throughput_rps": round(answers / seconds, 1) if seconds else 0.0,
        "rasa_answers_rps": round(by_rasa / seconds, 1) if seconds else 0.0,  # answers/s less the busy menus
        "seconds": round(seconds, 1),
        "p50_ms": round(percentile(ordered, 50) * 1000, 1),
        "p90_ms": round(percentile(ordered, 90) * 1000, 1),
        "p99_ms": round(percentile(ordered, 99) * 1000, 1),
        "max_ms": round((ordered[-1] if ordered else 0.0) * 1000, 1),
        "errors": tally.errors,
        "busy": tally.busy,
        "wrong_language": tally.wrong_language,
        "backend_cpu_ms_per_answer": round(cpu[0] * 1000 / by_rasa, 1) if by_rasa else None,
        "rasa_cpu_ms_per_answer": round(cpu[1] * 1000 / by_rasa, 1) if by_rasa else None,
    }
    if records is not None:
        row["deferred"] = len(tally.empty)
        row["lost"] = sum(1 for key in tally.empty if 0 not in records.get(key, set()))
        row["answered_twice"] = sum(1 for key in tally.passive if 0 in records.get(key, set()))
    return row


async def _profiles(name: str, pids: dict[str, int], seconds: float) -> list[asyncio.subprocess.Process]:
    """py-spy recording each process for the phase's length (BENCH_CHAT_PYSPY), raw stacks to DIR/<phase>-<who>.txt."""
    if not PYSPY_DIR:
        return []
    os.makedirs(PYSPY_DIR, exist_ok=True)  # once per phase, before it starts
    spies = []
    for who, pid in pids.items():
        out = Path(PYSPY_DIR) / f"{name}-{who}.txt"
        argv = [str(PYSPY), "record", "--pid", str(pid), "-d", str(int(seconds)), "-r", "50", "--nonblocking"]
        spies.append(
            await asyncio.create_subprocess_exec(
                *argv,
                "--format",
                "raw",
                "-o",
                str(out),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
        )
    return spies


async def _measured(
    name: str, run: Callable[[], Awaitable[Tally]], backend_pid: int, rasa_pids: list[int], seconds_hint: float
) -> tuple[Tally, float, tuple[float, float]]:
    pids = {"backend": backend_pid} | {f"rasa{n}": pid for n, pid in enumerate(rasa_pids)}
    spies = await _profiles(name, pids, seconds_hint)
    backend_before, rasa_before = _cpu_seconds([backend_pid]), _cpu_seconds(rasa_pids)
    started = time.perf_counter()
    tally = await run()
    seconds = time.perf_counter() - started
    for spy in spies:
        await spy.wait()
    cpu = (_cpu_seconds([backend_pid]) - backend_before, _cpu_seconds(rasa_pids) - rasa_before)
    return tally, seconds, cpu


async def _tracker_events(prefix: str) -> dict[str, int]:
    """Every stored conversation under this Rasa fleet's key prefix → the number of events Redis holds for it."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:tracker:*", count=500)]
        values = await client.mget(keys) if keys else []
    finally:
        await client.aclose()
    counts = {}
    for key, value in zip(keys, values, strict=True):
        if value is not None:
            counts[key.decode()] = len(json.loads(value).get("events", []))
    return counts


def _load() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


async def main(args: argparse.Namespace) -> dict[str, Any]:
    title = "Many chatting at once (WeChat safe mode and /api/v1/chat, real Rasa, PostgreSQL + Redis)"
    if not MODEL.exists() or not RASA_BIN.exists():
        return {"title": title, "rows": [], "notes": ["skipped: no trained model or no .venv-rasa"]}
    from app import local_secrets

    os.environ.update({k: v for k, v in local_secrets.resolved().items() if not os.environ.get(k)})
    quick = bool(getattr(args, "quick", False))
    seconds = 8.0 if quick else 30.0
    counts = (16, 64, 256) if PHASES else (16, 64) if quick else (16, 64, 256)
    run_id = secrets.token_hex(4)
    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)

    standin = create_standin_app(APPID, "bench-chat-secret-012345")
    runner = web.AppRunner(standin, access_log=None)
    await runner.setup()
    standin_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", standin_port).start()
    database = f"bench_chat_{run_id}"
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    try:
        database_url = await _fresh_database(database)
        users = Users(await _arrange(database_url))
        customs = CustomSends(standin[STANDIN])
        watcher = asyncio.create_task(customs.run())
        try:
            for instances in INSTANCES:
                urls = [f"http://127.0.0.1:{free_port()}" for _ in range(instances)]
                env = {
                    "DATABASE_URL": database_url,
                    "REDIS_URL": REDIS_URL,
                    "CACHE_PREFIX": f"bench-chat-{run_id}-{instances}",
                    "RASA_URL": ",".join(urls),
                    "WECHAT_TOKEN": TOKEN,
                    "WECHAT_APPID": APPID,
                    "WECHAT_SECRET": "bench-chat-secret-012345",
                    "WECHAT_AES_KEY": AES_KEY,
                    "WECHAT_API_BASE": f"http://127.0.0.1:{standin_port}",
                    "WECHAT_PUSH_WORKER": "false",
                }
                async with running_server(env) as backend:
                    port = int(backend.url.rsplit(":", 1)[1])
                    fleet = await _start_rasa(urls, port, f"benchchat{run_id}n{instances}", log_dir)
                    fleet.key_prefix = f"benchchat{run_id}n{instances}"
                    notes.append(f"{instances} Rasa instance(s) ready in {fleet.startup_seconds:.0f} s")
                    try:
                        rows += await _phases(args, backend.url, backend.process.pid, fleet, users, customs,
                                              database_url, instances, counts, seconds)  # fmt: skip
                    finally:
                        await fleet.stop()
        finally:
            watcher.cancel()
    finally:
        await runner.cleanup()
        with contextlib.suppress(Exception):
            await _drop_database(database)
    notes += [
        "each WeChat message is new (new MsgId), signed and AES-encrypted; WeChat waits 5 s, delivers 3 times",
        "deferred = empty passive reply, answered via custom/send; lost = deferred and never sent; answered_twice = "
        "a passive reply and a custom/send of the same message",
        "busy = the gateway's busy fallback (no place at Rasa in time); wrong_language = answer not in the "
        "question's language; CPU per answer counts the answers Rasa gave (not the busy ones)",
        f"14 distinct questions: Rasa's parse cache answers most parses; think time {THINK_SECONDS[0]:.0f}–"
        f"{THINK_SECONDS[1]:.0f} s except in saturation",
    ]
    return {"title": title, "rows": rows, "notes": notes}


async def _phases(
    args: argparse.Namespace,
    base: str,
    backend_pid: int,
    fleet: RasaFleet,
    users: Users,
    customs: CustomSends,
    database_url: str,
    instances: int,
    counts: tuple[int, ...],
    seconds: float,
) -> list[dict[str, Any]]:
    rows = []
    suffix = "" if instances == 1 else f"_x{instances}"
    # Warm-up: the first turns of a fresh Rasa are slow (lazy graph parts); not measured.
    await _api_phase("warm-up", base, users.take(8), 8, 6.0, think=False)
    plan: list[tuple[str, Callable[[], Awaitable[Tally]], bool]] = []
    for n in counts if instances == 1 else (64,):
        name = f"wechat_{n}{suffix}"
        tag = f"wx{n}{suffix}-{secrets.token_hex(3)}"
        plan.append((name, partial(_wechat_phase, name, f"{base}/wechat", customs, n, seconds, tag), True))
    if instances == 1:
        for n in (16, 64):
            plan.append((f"api_{n}", partial(_api_phase, f"api_{n}", base, users.take(n), n, seconds, True), False))
    name = f"saturation{suffix}"
    plan.append((name, partial(_api_phase, name, base, users.take(64), 64, seconds, False), False))
    if PHASES:
        plan = [step for step in plan if step[0] in PHASES]
    for name, run, wechat in plan:
        load_before = _load()
        stored_before = await _tracker_events(fleet.key_prefix)
        tally, took, cpu = await _measured(name, run, backend_pid, fleet.pids, seconds)
        records = None
        if wechat:
            await asyncio.sleep(3)  # the last deferred answers' records
            records = await _custom_records(database_url, tally.empty | tally.passive)
        row = _row(tally, took, cpu, instances, records)
        # The phase's own conversations (new keys): how long Rasa's stored trackers grew, in events.
        stored = [n for key, n in (await _tracker_events(fleet.key_prefix)).items() if key not in stored_before]
        row["tracker_events_mean"] = round(sum(stored) / len(stored), 1) if stored else 0
        row["tracker_events_max"] = max(stored, default=0)
        row["load_before"] = load_before
        rows.append(row)
        print(f"  {name}: {row}", flush=True)
    return rows


if __name__ == "__main__":
    print(asyncio.run(main(argparse.Namespace(quick=True))))
