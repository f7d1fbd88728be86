"""Conversations end to end with the real Rasa: `/api/v1/chat` → gateway → `rasa run` → `/bot/actions` → database.

Starts its own `rasa run --enable-api` (from `.venv-rasa`, with the trained model) whose action endpoint is this
test's server. Skipped only when there is no trained model or no `.venv-rasa`: `make test` trains first, so
there it runs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from app.factory import create_app
from core.auth import Role
from core.db import Database
from core.settings import Settings
from tests.agencies.builders import make_agency
from tests.conftest import Account, AccountFactory
from tests.vouchers.builders import issue, make_enterprise, make_program

Client = TestClient[Any, Any]
MODEL = Path("bot/models/current.tar.gz")
RASA_BIN = Path(".venv-rasa/bin/rasa")
STARTUP_SECONDS = 300

pytestmark = pytest.mark.skipif(
    not (MODEL.exists() and RASA_BIN.exists()),
    reason="no trained Rasa model (bot/models/current.tar.gz) or no .venv-rasa: make -f mk/rasa.mk rasa-train",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def wait_for_rasa(url: str, process: asyncio.subprocess.Process, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                pytest.fail(f"rasa exited with {process.returncode}:\n{tail(log)}")
            try:
                async with http.get(f"{url}/status", timeout=aiohttp.ClientTimeout(total=2)) as response:
                    if response.status == 200 and (await response.json()).get("model_id"):
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(1)
    pytest.fail(f"rasa was not ready within {STARTUP_SECONDS} s:\n{tail(log)}")


async def say(client: Client, account: Account, text: str) -> list[dict[str, Any]]:
    response = await client.post("/api/v1/chat", json={"text": text}, headers=account.headers)
    assert response.status == 200, await response.text()
    replies: list[dict[str, Any]] = (await response.json())["replies"]
    assert replies, text
    return replies


def joined(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r["text"] for r in replies)


async def test_chinese_and_english_conversations_end_to_end(
    settings: Settings,
    clean: None,
    db: Database,
    make_account: AccountFactory,
    aiohttp_client: Callable[..., Awaitable[Client]],
    tmp_path: Path,
) -> None:
    rasa_url = f"http://127.0.0.1:{free_port()}"
    app = create_app(settings.model_copy(update={"rasa_url": rasa_url, "chat_deadline_seconds": 30.0}))
    client = await aiohttp_client(app)
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{client.server.port}/bot/actions"\n')
    # Only the REST channel, which the gateway talks to.
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("rest:\n")
    log = tmp_path / "rasa.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            str(RASA_BIN),
            "run",
            "--enable-api",
            "--port",
            rasa_url.rsplit(":", 1)[1],
            "-m",
            str(MODEL),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(credentials),
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"},
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        await wait_for_rasa(rasa_url, process, log)
        ready = await (await client.get("/readyz")).json()
        assert ready["checks"]["rasa"]["status"] == "up"

        tianheng = await make_agency(
            db, name_zh="杭州天衡专利代理事务所（普通合伙）", short_name="天衡专利", region_code="330106", score=98
        )
        official = await make_account(Role.OFFICIAL)
        enterprise_id = await make_enterprise(db)
        program = await make_program(client, official.headers, name="杭州市知识产权服务券 2026")
        await issue(client, official.headers, program["id"], enterprise_id)
        staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id)

        # Chinese: a policy answer with its source, an agency from the live database, the user's own vouchers.
        timeline = joined(await say(client, staff, "走优先审查发明多久能下来"))
        assert "45日" in timeline and "来源：" in timeline, timeline
        found = await say(client, staff, "杭州有没有信用好的做发明专利的代理所")
        links = [c["link"] for r in found for c in r["cards"]]
        assert f"pages/agency/detail?id={tianheng}" in links, found
        mine = joined(await say(client, staff, "我的券什么时候过期"))
        assert "1张可用服务券" in mine, mine

        # The eligibility form: free-text answers, the questions the rules need, then the verdict.
        form = [
            ("我们的发明专利能走优先审查吗", "哪一类"),
            ("发明", "技术领域"),
            ("做锂电池的", "国外"),
            ("不是", "实施"),
            # Free text the model does not read as another intent (it takes the button's "已经在实施" for a
            # greeting at the time of writing: reported to the Rasa side).
            ("已经量产", "第一次审查意见"),
            ("没有", "结论：符合优先审查条件"),
        ]
        for text, expected in form:
            answer = joined(await say(client, staff, text))
            assert expected in answer, (text, answer)
        assert "省级知识产权局或国务院有关部门签署" in answer and "来源：" in answer, answer

        # English, same conversation: the reply language follows the message.
        pph = joined(await say(client, staff, "can I use PPH, we got a US patent"))
        assert "PPH" in pph and "Source:" in pph, pph
        vouchers = joined(await say(client, staff, "show me my vouchers"))
        assert "usable voucher" in vouchers, vouchers
        # A tapped button sends its payload: the conversation keeps its language.
        tapped = joined(await say(client, staff, "/ask_priority_exam_timeline"))
        assert "45 days" in tapped and "Source:" in tapped, tapped
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=20)
            except TimeoutError:
                os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
