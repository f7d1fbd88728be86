"""The assistant: NLU parse latency of the real Rasa model, and end-to-end `/api/v1/chat` reply time.

Needs a trained model (`bot/models/current.tar.gz`) and `.venv-rasa`; without them it is skipped with a note.
It starts its own backend (`server.py run`, SQLite with 300 seeded agencies, one enterprise and 8 staff
accounts) and its own `rasa run --enable-api` whose action endpoint is that backend, so every answer — policy,
agency lookup, vouchers — runs the whole path: backend → gateway → Rasa → `/bot/actions` → database → back.

- `nlu_parse_c1` / `_c8`: `POST /model/parse` straight to Rasa, 1 and 8 concurrent clients, a zh/en/mixed mix.
- `chat_e2e_c1` / `_c4`: `POST /api/v1/chat`, 1 and 4 concurrent clients, 8 conversations (a conversation is
  serialised by Rasa's lock, so concurrency needs several senders); the same mix of messages.
- `healthz_c1`: the backend's `/healthz` in the same run, for the ratios.
Rasa's start-up time (model load until `/status` names a model) is reported in the notes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from typing import Any

import aiohttp

from bench.harness import ROOT, Request, free_port, healthz_requests, measure, ratio, running_server

MODEL = ROOT / "bot" / "models" / "current.tar.gz"
RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
SENDERS = 8
PASSWORD = "bench-pass-2026"
PARSE_TEXTS = [
    "走优先审查发明多久能下来",
    "杭州有没有信用好的做发明专利的代理所",
    "我的券什么时候过期",
    "can I use PPH, we got a US patent",
    "what do the credit levels mean",
    "商标能不能加快审查",
    "我想申请 PPH 加速",
    "专利质押贷款怎么办",
    "hello",
    "比较一下天衡和钱塘两家代理所",
]
# No message that starts the eligibility form: a conversation repeated in a loop would stay inside it.
CHAT_TEXTS = PARSE_TEXTS


def _skip(reason: str) -> dict[str, Any]:
    print(f"bench_assistant: skipped — {reason}")
    return {"title": "Assistant (Rasa NLU parse, /api/v1/chat end to end)", "rows": [], "notes": [f"skipped: {reason}"]}


async def _prepare(database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    for args in (["migrate"], ["seed", "--agencies", "300"]):
        subprocess.run([sys.executable, "server.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: ASYNC221, S603
    from accounts.schemas import NewUser
    from accounts.service import create_user
    from app.schema import load_models
    from core.auth import Role
    from core.credit_code import make_credit_code
    from core.db import Database
    from enterprises.models import Enterprise

    load_models()
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            enterprise = Enterprise(
                name="基准测试科技有限公司", credit_code=make_credit_code("91330106BE0000001"), region_code="330106"
            )
            session.add(enterprise)
            await session.flush()
            for n in range(SENDERS):
                await create_user(
                    session,
                    NewUser(role=Role.ENTERPRISE, username=f"bench{n}", password=PASSWORD, enterprise_id=enterprise.id),
                )
    finally:
        await db.dispose()


async def _tokens(base_url: str) -> list[str]:
    tokens = []
    async with aiohttp.ClientSession() as http:
        for n in range(SENDERS):
            async with http.post(
                f"{base_url}/api/v1/auth/login", json={"username": f"bench{n}", "password": PASSWORD}
            ) as r:
                r.raise_for_status()
                tokens.append((await r.json())["token"])
    return tokens


async def _wait_for_rasa(url: str, process: asyncio.subprocess.Process, token: str, limit: float = 600) -> float:
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        while time.monotonic() - started < limit:
            if process.returncode is not None:
                raise RuntimeError(f"rasa exited with {process.returncode}")
            try:
                async with http.get(
                    f"{url}/status", params={"token": token}, timeout=aiohttp.ClientTimeout(total=2)
                ) as response:
                    if response.status == 200 and (await response.json()).get("model_id"):
                        return time.monotonic() - started
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(1)
    raise RuntimeError("rasa did not load its model in time")


async def main(args: argparse.Namespace) -> dict[str, Any]:
    if not MODEL.exists() or not RASA_BIN.exists():
        return _skip("no trained Rasa model or no .venv-rasa (make -f mk/rasa.mk rasa-train)")
    folder = ROOT / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "assistant.sqlite3"
    for leftover in folder.glob("assistant.sqlite3*"):
        leftover.unlink()
    database_url = f"sqlite+aiosqlite:///{database}"
    await _prepare(database_url)

    from app import local_secrets

    os.environ.update({k: v for k, v in local_secrets.resolved().items() if not os.environ.get(k)})
    token = os.environ["RASA_AUTH_TOKEN"]
    rasa_url = f"http://127.0.0.1:{free_port()}"
    env = {"DATABASE_URL": database_url, "RASA_URL": rasa_url, "CHAT_DEADLINE_SECONDS": "30"}
    async with running_server(env=env) as server:
        endpoints = folder / "assistant-endpoints.yml"
        endpoints.write_text(
            f'action_endpoint:\n  url: "{server.url}/bot/actions"\n'
            "  headers:\n    X-Actions-Token: ${BOT_ACTIONS_TOKEN}\n"  # Rasa reads it from its environment
        )
        # Our token-checking REST channel, which also installs our Rasa patches (bot/rasa_patches.py), as `make run`
        # starts Rasa; the parse cache is off here so that the parse rows measure the NLU pipeline itself.
        credentials = ROOT / "bot" / "credentials.yml"
        log_path = folder / "assistant-rasa.log"
        with log_path.open("wb") as log:
            rasa = await asyncio.create_subprocess_exec(
                str(RASA_BIN), "run", "--enable-api", "--port", rasa_url.rsplit(":", 1)[1], "-m", str(MODEL),
                "--endpoints", str(endpoints), "--credentials", str(credentials), "--auth-token", token,
                cwd=ROOT, env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
                               "RASA_PARSE_CACHE_SIZE": "0"},
                stdout=log, stderr=log, start_new_session=True,
            )  # fmt: skip
        try:
            startup = await _wait_for_rasa(f"{rasa_url}", rasa, token)
            parse = [Request("POST", f"/model/parse?token={token}", json={"text": t}) for t in PARSE_TEXTS]
            tokens = await _tokens(server.url)

            def chat(i: int) -> Request:
                token = tokens[i % SENDERS]
                return Request(
                    "POST",
                    "/api/v1/chat",
                    json={"text": CHAT_TEXTS[(i // SENDERS) % len(CHAT_TEXTS)]},
                    headers={"Authorization": f"Bearer {token}"},
                )

            base = await measure(server.url, healthz_requests(), name="healthz_c1", concurrency=1, seconds=5)
            rows = [base.as_dict()]
            for concurrency in (1, 8):
                result = await measure(
                    rasa_url,
                    lambda i: parse[i % len(parse)],
                    name=f"nlu_parse_c{concurrency}",
                    concurrency=concurrency,
                    seconds=10,
                    warmup_seconds=2,
                )
                rows.append(result.as_dict())
            # Straight on Rasa: a slot event through the HTTP API (what the gateway sent before the language travelled
            # with the message) and the REST webhook (a turn's one call now).
            slot_event = {"event": "slot", "name": "lang", "value": "zh"}
            for name, source in (
                (
                    "rasa_lang_event_c1",
                    lambda i: Request(
                        "POST",
                        f"/conversations/probe{i % SENDERS}/tracker/events?include_events=NONE&token={token}",
                        json=slot_event,
                    ),
                ),
                (
                    "rasa_webhook_c1",
                    lambda i: Request(
                        "POST",
                        f"/webhooks/rest/webhook?token={token}",
                        json={"sender": f"probe{i % SENDERS}", "message": CHAT_TEXTS[(i // SENDERS) % len(CHAT_TEXTS)]},
                    ),
                ),
            ):
                result = await measure(rasa_url, source, name=name, concurrency=1, seconds=10, warmup_seconds=2)
                rows.append(result.as_dict())
            for concurrency in (1, 4):
                result = await measure(
                    server.url,
                    chat,
                    name=f"chat_e2e_c{concurrency}",
                    concurrency=concurrency,
                    seconds=20,
                    warmup_seconds=3,
                )
                rows.append(ratio(result, base))
        finally:
            if rasa.returncode is None:
                os.killpg(rasa.pid, signal.SIGTERM)
                try:
                    await asyncio.wait_for(rasa.wait(), timeout=20)
                except TimeoutError:
                    os.killpg(rasa.pid, signal.SIGKILL)
    return {
        "title": "Assistant (Rasa NLU parse, /api/v1/chat end to end)",
        "rows": rows,
        "notes": [
            f"Rasa start-up until the model answered /status: {startup:.0f} s",
            "chat_e2e = backend auth + one REST webhook call to Rasa (the language travels with the message) "
            "+ (lookups) Rasa calling /bot/actions; SQLite, 300 agencies",
            f"{SENDERS} conversations; Rasa serialises each conversation with its lock store",
        ],
    }


if __name__ == "__main__":
    print(asyncio.run(main(argparse.Namespace())))
