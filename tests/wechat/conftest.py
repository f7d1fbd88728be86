"""WeChat tests run against the real stand-in (an aiohttp server on a free port, `WECHAT_API_BASE` pointed at it)
and a recording chat engine installed on the app (our own seam, not WeChat)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from core.chat import ChatButton, ChatReply, ChatTurn
from core.settings import Settings, load_settings
from core.state import CHAT_ENGINE
from wechat_standin.app import STANDIN, StandIn, create_standin_app
from wechat_standin.server import WeChatServer

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
# The reply deadline for the tests that wait it out (marked `short_reply_deadline`), so that they are quick: generous
# still, as a first request on a busy machine (cold connections) can take half a second. Every other test has the
# production deadline, so that a loaded machine cannot turn its passive reply into a deferred one.
DEADLINE = 1.0


class RecordingEngine:
    """Answers "收到：<text>" with two buttons after `delay` seconds; remembers every turn it was given."""

    def __init__(self) -> None:
        self.turns: list[ChatTurn] = []
        self.delay = 0.0
        self.answer: list[ChatReply] | None = None

    async def reply(self, turn: ChatTurn) -> list[ChatReply]:
        self.turns.append(turn)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.answer is not None:
            return self.answer
        return [
            ChatReply(
                text=f"收到：{turn.text}",
                buttons=[
                    ChatButton(title="找代理机构", payload="/find_agency"),
                    ChatButton(title="我的服务券", payload="/my_vouchers"),
                ],
            )
        ]


@pytest.fixture
async def standin_server(aiohttp_server: Callable[..., Awaitable[TestServer]], settings: Settings) -> TestServer:
    port = settings.wechat_api_base.port
    assert port is not None
    return await aiohttp_server(create_standin_app(settings.wechat_appid, settings.wechat_secret), port=port)


@pytest.fixture
def standin(standin_server: TestServer) -> StandIn:
    return standin_server.app[STANDIN]


@pytest.fixture
async def settings(settings: Settings, unused_tcp_port: int, request: pytest.FixtureRequest) -> Settings:
    # The stand-in is started by `standin_server` on this port; settings must exist before it (it reads the AppID).
    # A test that posts as `wx_plain` gets an app in plain mode: in safe mode plain messages are refused.
    plain = "wx_plain" in request.fixturenames
    deadline = (
        DEADLINE if request.node.get_closest_marker("short_reply_deadline") else settings.wechat_reply_deadline_seconds
    )
    return load_settings(
        **{
            **settings.model_dump(),
            "wechat_api_base": f"http://127.0.0.1:{unused_tcp_port}",
            "wechat_aes_key": None if plain else AES_KEY,
            "wechat_reply_deadline_seconds": deadline,
            "wechat_push_worker": False,
        }
    )


@pytest.fixture
def engine() -> RecordingEngine:
    return RecordingEngine()


@pytest.fixture
async def app(app: web.Application, engine: RecordingEngine) -> web.Application:
    app[CHAT_ENGINE] = engine
    return app


Client = TestClient[Any, Any]


@pytest.fixture
def wx(client: Client, settings: Settings, standin_server: TestServer) -> WeChatServer:
    """WeChat's server in safe mode, posting to our webhook."""
    return WeChatServer(
        client.session,
        str(client.make_url("/wechat")),
        token=settings.wechat_token,
        appid=settings.wechat_appid,
        aes_key=AES_KEY,
        wait_seconds=5.0,
    )


@pytest.fixture
def wx_plain(client: Client, settings: Settings, standin_server: TestServer) -> WeChatServer:
    """WeChat's server in plain mode, posting to our webhook in plain mode (no WECHAT_AES_KEY, see `settings`)."""
    return WeChatServer(
        client.session, str(client.make_url("/wechat")), token=settings.wechat_token, appid=settings.wechat_appid
    )
