"""`/wechat` in safe mode: 64 WeChat users' messages, signed and AES-encrypted as WeChat's servers send them, each a
new MsgId; messages/s and p50/p99 reply time beside `/healthz` of the same server in the same run.

The server runs with the chat gateway pointed at a closed port, so every answer is the gateway's fallback menu:
this measures the webhook (signature, decryption, parsing, the shared dedup record, who-is-writing lookup,
rendering, encryption), not Rasa — the assistant's own benchmark measures Rasa. The stand-in answers the server's
WeChat API calls (token, `cgi-bin/user/info`) in this process. Before the load, one message is delivered and its
encrypted reply decrypted and signature-checked with wechatpy, so the numbers are for correct answers.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.harness import PG_URL, REDIS_URL, Request, free_port, healthz_requests, measure, ratio, running_server
from wechat_standin.app import create_standin_app, openid_for
from wechat_standin.server import WeChatServer, text_message

TOKEN = "benchwechattoken0123"
APPID = "wxbench000000000"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
USERS = 64
QUESTIONS = ["专利优先审查需要什么条件？", "怎么找信用好的代理机构", "服务券怎么用", "What is PPH?"]


def wechat_requests(server: WeChatServer) -> Any:
    openids = [openid_for(APPID, f"bench-user-{n}") for n in range(USERS)]
    base_id = secrets.randbits(40) << 20

    def source(i: int) -> Request:
        xml = text_message(openids[i % USERS], QUESTIONS[i % len(QUESTIONS)], base_id + i)
        envelope = server.envelope(xml)
        query = "&".join(f"{k}={v}" for k, v in envelope.params.items())
        return Request("POST", f"/wechat?{query}", data=envelope.body.encode(), headers={"Content-Type": "text/xml"})

    return source


async def _fresh_postgres(name: str) -> str:
    url = make_url(PG_URL)
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


async def _migrate(env: dict[str, str]) -> None:
    import os
    import sys

    process = await asyncio.create_subprocess_exec(
        sys.executable, "server.py", "migrate", env={**os.environ, **env}, stdout=asyncio.subprocess.DEVNULL
    )
    if await process.wait() != 0:
        raise RuntimeError("migration failed")


async def _one_setup(name: str, env: dict[str, str], args: argparse.Namespace) -> list[dict[str, Any]]:
    await _migrate(env)
    async with running_server(env) as backend, aiohttp.ClientSession() as http:
        server = WeChatServer(http, f"{backend.url}/wechat", token=TOKEN, appid=APPID, aes_key=AES_KEY)
        check = await server.deliver(text_message(openid_for(APPID, "check"), "你好", secrets.randbits(50)))
        if check.status != 200 or not check.reply:
            raise RuntimeError(f"the webhook did not answer correctly: {check}")
        seconds = 3.0 if args.quick else args.seconds
        base = await measure(
            backend.url, healthz_requests(), name=f"healthz ({name})", concurrency=USERS, seconds=seconds
        )
        load = await measure(
            backend.url, wechat_requests(server), name=f"wechat safe mode ({name})", concurrency=USERS, seconds=seconds
        )
    return [base.as_dict(), ratio(load, base)]


async def main(args: argparse.Namespace) -> dict[str, Any]:
    # The stand-in answers the server's API calls (token, user/info for the unionid lookup) as WeChat would.
    standin_port = free_port()
    runner = web.AppRunner(create_standin_app(APPID, "bench-secret"), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", standin_port).start()
    try:
        return await _run(args, standin_port)
    finally:
        await runner.cleanup()


async def _run(args: argparse.Namespace, standin_port: int) -> dict[str, Any]:
    common = {
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APPID": APPID,
        "WECHAT_SECRET": "bench-wechat-secret-0123",
        "WECHAT_AES_KEY": AES_KEY,
        "WECHAT_API_BASE": f"http://127.0.0.1:{standin_port}",
        "RASA_URL": f"http://127.0.0.1:{free_port()}",  # closed: the gateway answers with its fallback menu
        "CACHE_PREFIX": f"bench-wechat-{secrets.token_hex(4)}",
        "WECHAT_PUSH_WORKER": "false",
    }
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        sqlite = {**common, "DATABASE_URL": f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}", "REDIS_URL": ""}
        rows += await _one_setup("sqlite + memory cache", sqlite, args)
    try:
        pg_url = await _fresh_postgres("bench_wechat")
    except Exception as exc:  # PostgreSQL not running here: report the embedded default only
        return {"title": "WeChat webhook", "rows": rows, "notes": [f"PostgreSQL/Redis run skipped: {exc}"]}
    rows += await _one_setup("postgres + redis", {**common, "DATABASE_URL": pg_url, "REDIS_URL": REDIS_URL}, args)
    return {
        "title": "WeChat webhook (/wechat, AES safe mode, 64 users, fallback-menu answers)",
        "rows": rows,
        "notes": [
            "each request is a new message (new MsgId): signature + msg_signature check, AES decrypt, parse, "
            "shared dedup record (SET NX), linked-user lookup, render, AES encrypt",
            "the chat gateway answers with its fallback menu (Rasa not involved); see the assistant benchmark for Rasa",
        ],
    }
