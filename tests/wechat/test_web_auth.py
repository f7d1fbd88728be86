"""Web authorization for the phone view: our start → the stand-in's authorization page → our callback → a one-time
hand-over → a bearer token; the same user the official-account chat knows. State bound to the browser, codes
used once, return paths only our own pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiohttp
from aiohttp.test_utils import TestClient

from core.settings import Settings
from wechat_standin.app import StandIn, official_openid_for, openid_for
from wechat_standin.server import WeChatServer, new_msg_id, text_message

from .conftest import RecordingEngine

Client = TestClient[Any, Any]


async def start(client: Client, next_path: str = "/m/agencies/1") -> str:
    """Our start: a redirect to WeChat's authorization page (the state cookie now in the client's jar)."""
    response = await client.get("/api/v1/auth/wechat-oauth", params={"next": next_path}, allow_redirects=False)
    assert response.status == 302, await response.text()
    return response.headers["Location"]


async def authorize(authorize_url: str) -> dict[str, str]:
    """The stand-in's authorization page, as WeChat's browser would open it: the code and state it sends back."""
    assert authorize_url.endswith("#wechat_redirect")
    async with (
        aiohttp.ClientSession() as http,
        http.get(authorize_url.split("#", 1)[0], allow_redirects=False) as response,
    ):
        assert response.status == 302, await response.text()
        back = urlsplit(response.headers["Location"])
    assert back.path == "/api/v1/auth/wechat-oauth/callback"
    return {key: values[0] for key, values in parse_qs(back.query).items()}


async def callback(client: Client, params: dict[str, str]) -> aiohttp.ClientResponse:
    return await client.get("/api/v1/auth/wechat-oauth/callback", params=params, allow_redirects=False)


async def sign_in(client: Client, location: str) -> dict[str, Any]:
    """What the phone view's /m/signin page does with the hand-over link in its fragment."""
    token = location.split("#t=", 1)[1]
    response = await client.post("/api/v1/auth/sign-in-link", json={"token": token})
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def test_inside_wechat_the_follower_lands_signed_in_on_the_page_as_the_chat_knows_them(
    client: Client, standin: StandIn, wx: WeChatServer, engine: RecordingEngine, settings: Settings
) -> None:
    alice = official_openid_for(standin.appid, "alice")
    standin.followers[alice] = "alice"

    authorize_url = await start(client, "/m/agencies/7?follow=1")
    assert authorize_url.startswith(f"{settings.wechat_api_base}connect/oauth2/authorize?appid={standin.appid}")
    assert "scope=snsapi_base" in authorize_url
    back = await authorize(authorize_url)
    response = await callback(client, back)
    assert response.status == 302, await response.text()
    location = response.headers["Location"]
    assert location.startswith(f"{settings.public_base}/console/m/signin?next=")
    assert unquote(location.split("next=", 1)[1].split("#", 1)[0]) == "/m/agencies/7?follow=1"

    signed = await sign_in(client, location)
    assert signed["next"] == "/m/agencies/7?follow=1"
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {signed['token']}"})
    user = await me.json()
    assert user["role"] == "enterprise" and user["enterprise_id"] is None

    # The chat knows the same person as the same user.
    delivery = await wx.deliver(text_message(alice, "我的服务券", new_msg_id()))
    assert delivery.status == 200
    assert engine.turns[-1].principal is not None
    assert engine.turns[-1].principal.user_id == user["user_id"]

    # Signing in again (another page, another day) finds the same user.
    again = await callback(client, await authorize(await start(client, "/m/vouchers")))
    assert (await sign_in(client, again.headers["Location"]))["user"]["user_id"] == user["user_id"]


async def test_the_follower_and_the_mini_program_user_are_one_account_by_unionid(
    client: Client, standin: StandIn
) -> None:
    standin.followers[official_openid_for(standin.appid, "alice")] = "alice"
    response = await callback(client, await authorize(await start(client)))
    follower = (await sign_in(client, response.headers["Location"]))["user"]["user_id"]

    login = await client.post("/api/v1/auth/wechat-login", json={"code": "alice.mini"})
    assert login.status == 200
    body = await login.json()
    assert body["user"]["user_id"] == follower
    assert body["created"] is False


async def test_a_tampered_state_is_refused_with_a_page_that_says_what_to_do(client: Client, standin: StandIn) -> None:
    back = await authorize(await start(client))
    response = await callback(
        client, {**back, "state": back["state"][:-1] + ("0" if back["state"][-1] != "0" else "1")}
    )
    assert response.status == 403
    assert response.headers["X-Error-Code"] == "oauth_state_invalid"
    page = await response.text()
    assert response.content_type == "text/html"
    assert "请回到公众号" in page and "/console/m/login" in page
    # The untampered state still works once: the refusal used nothing up.
    assert (await callback(client, back)).status == 302


async def test_a_callback_from_another_browser_is_refused(client: Client, standin: StandIn) -> None:
    back = await authorize(await start(client))
    client.session.cookie_jar.clear()  # the victim's browser: no state cookie of this flow
    response = await callback(client, back)
    assert response.status == 403
    assert response.headers["X-Error-Code"] == "oauth_state_invalid"


async def test_a_used_state_is_refused(client: Client, standin: StandIn) -> None:
    back = await authorize(await start(client))
    jar = list(client.session.cookie_jar)
    assert (await callback(client, back)).status == 302
    for morsel in jar:  # the same browser replaying the callback with the cookie it had
        client.session.cookie_jar.update_cookies(
            {morsel.key: morsel.value}, client.make_url("/api/v1/auth/wechat-oauth")
        )
    replay = await callback(client, back)
    assert replay.status == 403
    assert replay.headers["X-Error-Code"] == "oauth_state_used"


async def test_a_reused_code_is_refused(client: Client, standin: StandIn) -> None:
    first = await authorize(await start(client))
    assert (await callback(client, first)).status == 302

    second = await authorize(await start(client))  # a fresh flow in the same browser, the first flow's code
    response = await callback(client, {"code": first["code"], "state": second["state"]})
    assert response.status == 400
    assert response.headers["X-Error-Code"] == "oauth_code_used"
    assert "重新授权" in await response.text()  # a retry link back to the page


async def test_a_code_wechat_already_exchanged_is_refused_even_when_we_did_not_see_it(
    client: Client, standin: StandIn, settings: Settings
) -> None:
    back = await authorize(await start(client))
    standin.used_oauth_codes.add(back["code"])  # used elsewhere (e.g. before our cache was emptied)
    standin.oauth_codes.pop(back["code"])
    response = await callback(client, back)
    assert response.status == 400
    assert response.headers["X-Error-Code"] == "oauth_code_used"


async def test_a_foreign_return_path_is_refused(client: Client, standin: StandIn) -> None:
    for foreign in (
        "https://evil.example/m/",
        "//evil.example/m",
        "/m/../../api/v1/me",
        "/console/m",
        "/m\\evil",
        "/mx",
    ):
        response = await client.get("/api/v1/auth/wechat-oauth", params={"next": foreign}, allow_redirects=False)
        assert response.status == 400, foreign
        assert response.headers["X-Error-Code"] == "oauth_next_invalid"
        assert "Location" not in response.headers
    assert standin.calls["oauth2/authorize"] == 0


async def test_a_hand_over_link_signs_in_once(client: Client, standin: StandIn) -> None:
    response = await callback(client, await authorize(await start(client)))
    token = response.headers["Location"].split("#t=", 1)[1]
    assert (await client.post("/api/v1/auth/sign-in-link", json={"token": token})).status == 200
    again = await client.post("/api/v1/auth/sign-in-link", json={"token": token})
    assert again.status == 401
    assert (await again.json())["error"]["code"] == "sign_in_link_invalid"


async def test_a_follower_who_never_used_the_mini_program_gets_one_user_not_two(
    client: Client, standin: StandIn
) -> None:
    standin.oauth_user = "nounion-dave"  # no Open Platform binding: no unionid anywhere
    first = await callback(client, await authorize(await start(client)))
    second = await callback(client, await authorize(await start(client)))
    one = (await sign_in(client, first.headers["Location"]))["user"]["user_id"]
    two = (await sign_in(client, second.headers["Location"]))["user"]["user_id"]
    assert one == two
    assert openid_for(standin.appid, "nounion-dave") != official_openid_for(standin.appid, "nounion-dave")


async def test_a_follower_who_chatted_as_a_stranger_is_known_at_once_after_signing_in(
    client: Client, standin: StandIn, wx: WeChatServer, engine: RecordingEngine
) -> None:
    standin.oauth_user = "nounion-gus"  # no unionid: before signing in the chat cannot know him
    gus = official_openid_for(standin.appid, "nounion-gus")
    await wx.deliver(text_message(gus, "你好", new_msg_id()))
    assert engine.turns[-1].principal is None  # … and remembers that for a minute
    response = await callback(client, await authorize(await start(client)))
    user = (await sign_in(client, response.headers["Location"]))["user"]
    await wx.deliver(text_message(gus, "我的服务券", new_msg_id()))
    assert engine.turns[-1].principal is not None and engine.turns[-1].principal.user_id == user["user_id"]
