"""Test instruments for the real-server suites: signed WeChat deliveries, and a counting Rasa stand-in.

The counting stand-in speaks the three calls the chat gateway makes (`/status`, the tracker's slot event, the REST
webhook) and numbers its answers, so a test sees how many times the backend really asked — across processes. The
suites that need the real assistant run the real Rasa (tests/system/test_rasa_instances.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

from bench.harness import free_port
from core.wechat.signature import sign
from tests.conftest import TEST_SECRETS

WECHAT_TOKEN = TEST_SECRETS["WECHAT_TOKEN"]  # the suite's WECHAT_TOKEN, which every server it starts inherits


def wechat_text_xml(openid: str, text: str, msg_id: int, *, created: int | None = None) -> str:
    return (
        "<xml><ToUserName><![CDATA[gh_ipassistant]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{created or int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def wechat_query(token: str = WECHAT_TOKEN, *, timestamp: str | None = None, nonce: str = "nonce123") -> dict[str, str]:
    stamp = timestamp or str(int(time.time()))
    return {"signature": sign(token, stamp, nonce), "timestamp": stamp, "nonce": nonce}


@dataclass
class CountingRasa:
    port: int
    webhook_calls: Counter[str] = field(default_factory=Counter)
    # "answer": answer at once; "silent": accept the request and never answer (a hung Rasa)
    mode: str = "answer"
    runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def total(self) -> int:
        return sum(self.webhook_calls.values())

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/status", self._status)
        app.router.add_post("/conversations/{sender}/tracker/events", self._events)
        app.router.add_post("/webhooks/rest/webhook", self._webhook)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def stop(self) -> None:
        """The port closes: the backend's next call is refused (a stopped Rasa)."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def _status(self, _request: web.Request) -> web.Response:
        return web.json_response({"model_id": "counting-stand-in"})

    async def _events(self, _request: web.Request) -> web.Response:
        if self.mode == "silent":
            await asyncio.sleep(3600)
        return web.json_response({})

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        sender = str(body.get("sender"))
        self.webhook_calls[sender] += 1
        if self.mode == "silent":
            await asyncio.sleep(3600)
        return web.json_response([{"recipient_id": sender, "text": f"answer {self.total} to {body.get('message')}"}])


@asynccontextmanager
async def counting_rasa() -> AsyncIterator[CountingRasa]:
    rasa = CountingRasa(port=free_port())
    await rasa.start()
    try:
        yield rasa
    finally:
        await rasa.stop()
