"""One-time links the chat sends: "电脑端登录" (MY_ACCOUNT) signs the follower in once outside WeChat; without
unionid linking, a second link joins the follower to the mini-program account explicitly, once."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

import accounts.links
from core.settings import Settings, load_settings
from wechat_standin.app import StandIn, official_openid_for
from wechat_standin.server import WeChatServer, event_message, new_msg_id, text_message

from .conftest import RecordingEngine

Client = TestClient[Any, Any]


def sign_in_token(reply: str) -> str:
    match = re.search(r'/console/m/signin#t=([A-Za-z0-9_\-]+)"', reply)
    assert match, reply
    return match.group(1)


async def test_the_chat_sends_a_one_time_sign_in_link_for_this_follower(
    client: Client, standin: StandIn, wx: WeChatServer, engine: RecordingEngine, settings: Settings
) -> None:
    alice = official_openid_for(standin.appid, "alice")
    delivery = await wx.deliver(event_message(alice, "CLICK", "MY_ACCOUNT"))
    assert delivery.reply is not None and "10 分钟内有效，只能使用一次" in delivery.reply
    assert f'href="{settings.public_base}/console/m/signin#t=' in delivery.reply
    assert "data-miniprogram-path" not in delivery.reply  # unionid linking: nothing to link by hand
    token = sign_in_token(delivery.reply)

    used = await client.post("/api/v1/auth/sign-in-link", json={"token": token})
    assert used.status == 200
    user = (await used.json())["user"]
    again = await client.post("/api/v1/auth/sign-in-link", json={"token": token})
    assert again.status == 401 and (await again.json())["error"]["code"] == "sign_in_link_invalid"

    # The account the link signed in is the one the chat now knows this follower by.
    await wx.deliver(text_message(alice, "你好", new_msg_id()))
    assert engine.turns[-1].principal is not None and engine.turns[-1].principal.user_id == user["user_id"]


async def test_an_expired_sign_in_link_is_refused(
    client: Client, standin: StandIn, wx: WeChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivery = await wx.deliver(event_message(official_openid_for(standin.appid, "bob"), "CLICK", "MY_ACCOUNT"))
    assert delivery.reply is not None
    token = sign_in_token(delivery.reply)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
    monkeypatch.setattr(accounts.links, "utcnow", lambda: later)
    refused = await client.post("/api/v1/auth/sign-in-link", json={"token": token})
    assert refused.status == 401 and (await refused.json())["error"]["code"] == "sign_in_link_invalid"


class TestWithoutUnionids:
    @pytest.fixture
    async def settings(self, settings: Settings) -> Settings:
        return load_settings(**{**settings.model_dump(), "wechat_unionid_linking": False})

    async def test_the_follower_is_linked_to_the_mini_program_account_once_by_the_chats_link(
        self, client: Client, standin: StandIn, wx: WeChatServer, engine: RecordingEngine
    ) -> None:
        login = await client.post("/api/v1/auth/wechat-login", json={"code": "carol.1"})
        mini = await login.json()
        headers = {"Authorization": f"Bearer {mini['token']}"}
        carol = official_openid_for(standin.appid, "carol")
        standin.followers[carol] = "carol"

        await wx.deliver(text_message(carol, "你好", new_msg_id()))
        assert engine.turns[-1].principal is None  # no unionids: the chat cannot know her yet

        delivery = await wx.deliver(event_message(carol, "CLICK", "MY_ACCOUNT"))
        assert delivery.reply is not None
        match = re.search(r'data-miniprogram-path="pages/account/link\?t=([A-Za-z0-9_\-]+)"', delivery.reply)
        assert match, delivery.reply
        linked = await client.post("/api/v1/me/wechat/link", json={"token": match.group(1)}, headers=headers)
        assert linked.status == 200, await linked.text()
        assert (await linked.json())["user_id"] == mini["user"]["user_id"]

        await wx.deliver(text_message(carol, "我的服务券", new_msg_id()))
        assert engine.turns[-1].principal is not None
        assert engine.turns[-1].principal.user_id == mini["user"]["user_id"]

        reused = await client.post("/api/v1/me/wechat/link", json={"token": match.group(1)}, headers=headers)
        assert reused.status == 401 and (await reused.json())["error"]["code"] == "sign_in_link_invalid"

    async def test_a_follower_of_another_real_account_is_not_taken_over(
        self, client: Client, standin: StandIn, wx: WeChatServer
    ) -> None:
        dan = official_openid_for(standin.appid, "dan")
        first = await wx.deliver(event_message(dan, "CLICK", "MY_ACCOUNT"))
        assert first.reply is not None
        link = re.search(r"pages/account/link\?t=([A-Za-z0-9_\-]+)", first.reply)
        assert link
        # Dan's follower account is made real by a mini-program login linking it first …
        dan_mini = await (await client.post("/api/v1/auth/wechat-login", json={"code": "dan.1"})).json()
        ok = await client.post(
            "/api/v1/me/wechat/link",
            json={"token": link.group(1)},
            headers={"Authorization": f"Bearer {dan_mini['token']}"},
        )
        assert ok.status == 200
        # … so another account using a second link for the same follower is refused. (A click in the same second
        # would be WeChat's retry of the first: events are told apart by their CreateTime.)
        await asyncio.sleep(1.1)
        second = await wx.deliver(event_message(dan, "CLICK", "MY_ACCOUNT"))
        assert second.reply is not None
        other_link = re.search(r"pages/account/link\?t=([A-Za-z0-9_\-]+)", second.reply)
        assert other_link
        eve = await (await client.post("/api/v1/auth/wechat-login", json={"code": "eve.1"})).json()
        taken = await client.post(
            "/api/v1/me/wechat/link",
            json={"token": other_link.group(1)},
            headers={"Authorization": f"Bearer {eve['token']}"},
        )
        assert taken.status == 409 and (await taken.json())["error"]["code"] == "wechat_follower_taken"
