"""The JS-SDK: one jsapi_ticket for every worker (the access token's shared store and lock), the signature over the
page URL without its fragment, and only our own phone-view pages signed."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from core.cache import make_cache
from core.settings import Settings
from core.state import CACHE
from core.wechat.client import WeChatClient
from core.wechat.tokens import TokenStore
from wechat.routes import platform_for
from wechat_standin.app import StandIn

Client = TestClient[Any, Any]


async def test_two_workers_share_one_ticket_fetched_once(settings: Settings, standin: StandIn, clean: None) -> None:
    # Two "processes": their own clients, token stores and ticket stores, one shared cache (Redis when set).
    caches = [make_cache(str(settings.redis_url) if settings.redis_url else None, settings.cache_prefix)]
    caches.append(
        caches[0] if settings.redis_url is None else make_cache(str(settings.redis_url), settings.cache_prefix)
    )
    async with aiohttp.ClientSession() as http:
        platforms = []
        for cache in caches:
            client = WeChatClient(
                http, base_url=str(settings.wechat_api_base), appid=settings.wechat_appid, secret=settings.wechat_secret
            )
            platforms.append(
                platform_for(settings, cache, TokenStore(cache, settings.wechat_appid, client.fetch_stable_token))
            )
        tickets = await asyncio.gather(*(p.tickets.get() for p in platforms for _ in range(5)))
    for cache in {id(c): c for c in caches}.values():
        await cache.close()
    assert len(set(tickets)) == 1
    assert tickets[0] == standin.jsapi_ticket
    assert standin.ticket_fetches == 1
    assert standin.calls["ticket/getticket"] == 1
    assert standin.calls["stable_token"] == 1  # the ticket's fetch used the shared access token


async def test_the_config_signs_the_page_without_its_fragment(
    client: Client, standin: StandIn, settings: Settings
) -> None:
    page = f"{settings.public_base}/console/m/agencies/3?from=chat"
    response = await client.get("/api/v1/wechat/jssdk-config", params={"url": page + "#section"})
    assert response.status == 200, await response.text()
    config = await response.json()
    assert config["appId"] == settings.wechat_appid
    assert "updateAppMessageShareData" in config["jsApiList"]
    signed = (
        f"jsapi_ticket={standin.jsapi_ticket}&noncestr={config['nonceStr']}&timestamp={config['timestamp']}&url={page}"
    )
    assert config["signature"] == hashlib.sha1(signed.encode()).hexdigest()  # noqa: S324 - WeChat's algorithm

    # A second page: the same ticket, no second fetch.
    assert (await client.get("/api/v1/wechat/jssdk-config", params={"url": page.replace("3", "4")})).status == 200
    assert standin.ticket_fetches == 1


async def test_a_page_that_is_not_ours_is_not_signed(client: Client, standin: StandIn, settings: Settings) -> None:
    for url in ("https://evil.example/console/m/", f"{settings.public_base}/console/agencies", "/console/m/"):
        response = await client.get("/api/v1/wechat/jssdk-config", params={"url": url})
        assert response.status == 422, url
        body = await response.json()
        assert body["error"]["code"] == "validation_error"
        assert body["error"]["details"][0]["field"] == "url"
    assert standin.calls["ticket/getticket"] == 0


async def test_a_rejected_access_token_is_replaced_once_while_fetching_the_ticket(
    client: Client, standin: StandIn, settings: Settings
) -> None:
    page = f"{settings.public_base}/console/m/"
    assert (await client.get("/api/v1/wechat/jssdk-config", params={"url": page})).status == 200
    token_before = standin.token
    standin.token_expires_at = 0.0  # WeChat now answers 40001 to the access token we hold
    standin.jsapi_ticket_expires_at = 0.0
    await client.app[CACHE].delete(f"wechat:jsapi-ticket:{settings.wechat_appid}")  # the ticket is due
    again = await client.get("/api/v1/wechat/jssdk-config", params={"url": page})
    assert again.status == 200, await again.text()
    assert standin.token != token_before
    assert standin.ticket_fetches == 2
    assert standin.calls["ticket/getticket"] == 3  # refused once with the old token, repeated once
