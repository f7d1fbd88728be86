"""The access token: shared through the cache, refreshed under a lock, refetched once when WeChat rejects it."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from core.cache import make_cache
from core.settings import Settings
from core.wechat.client import WeChatClient
from core.wechat.exceptions import WeChatUnavailable
from core.wechat.tokens import TokenStore
from wechat_standin.app import StandIn

Client = TestClient[Any, Any]


def make_client(http: aiohttp.ClientSession, settings: Settings, cache: Any) -> WeChatClient:
    client = WeChatClient(
        http, base_url=str(settings.wechat_api_base), appid=settings.wechat_appid, secret=settings.wechat_secret
    )
    client.tokens = TokenStore(cache, settings.wechat_appid, client.fetch_stable_token)
    return client


async def test_two_processes_refreshing_at_once_fetch_one_token(
    settings: Settings, standin: StandIn, clean: None
) -> None:
    # Two "processes": separate clients and token stores sharing one cache (Redis when REDIS_URL is set).
    cache = make_cache(str(settings.redis_url) if settings.redis_url else None, settings.cache_prefix)
    other = cache if settings.redis_url is None else make_cache(str(settings.redis_url), settings.cache_prefix)
    async with aiohttp.ClientSession() as http:
        one, two = make_client(http, settings, cache), make_client(http, settings, other)
        assert one.tokens is not None and two.tokens is not None
        tokens = await asyncio.gather(*(store.get() for store in (one.tokens, two.tokens) for _ in range(5)))
        assert len(set(tokens)) == 1
        assert standin.calls["stable_token"] == 1
        assert await one.tokens.get() == tokens[0]
        assert standin.calls["stable_token"] == 1
    await cache.close()
    if other is not cache:
        await other.close()


async def test_a_rejected_token_is_refetched_once_and_the_call_repeated(
    settings: Settings, standin: StandIn, clean: None
) -> None:
    cache = make_cache(str(settings.redis_url) if settings.redis_url else None, settings.cache_prefix)
    async with aiohttp.ClientSession() as http:
        client = make_client(http, settings, cache)
        await client.send_custom_text("oUser", "first")
        standin.token_expires_at = 0.0  # WeChat now answers 40001 for the cached token
        await client.send_custom_text("oUser", "second")
    await cache.close()
    assert [item["body"]["text"]["content"] for item in standin.sent] == ["first", "second"]
    assert standin.token_fetches == 2
    assert standin.calls["custom/send"] == 3


async def test_when_wechat_is_unreachable_waiting_callers_fail_at_once(settings: Settings, clean: None) -> None:
    # No stand-in on WECHAT_API_BASE here: the first fetch fails, the others must not each queue on the lock.
    cache = make_cache(str(settings.redis_url) if settings.redis_url else None, settings.cache_prefix)
    async with aiohttp.ClientSession() as http:
        client = make_client(http, settings, cache)
        assert client.tokens is not None
        started = asyncio.get_running_loop().time()
        results = await asyncio.gather(*(client.tokens.get() for _ in range(20)), return_exceptions=True)
        elapsed = asyncio.get_running_loop().time() - started
    await cache.close()
    assert all(isinstance(r, WeChatUnavailable) for r in results)
    assert elapsed < 2.0
