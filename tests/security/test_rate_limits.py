"""Rate limits on login, chat and search, per user and per client address: 429 with Retry-After, counted in the
shared cache, the client address read from a trusted reverse proxy's X-Forwarded-For only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from app.factory import create_app
from core.auth import Role
from core.settings import Settings
from tests.conftest import AccountFactory

Client = TestClient[Any, Any]
LimitedClient = Callable[..., Awaitable[Client]]
CLOSED_RASA = "http://127.0.0.1:9"  # nothing listens on the discard port: chat answers with its fallback at once


@pytest.fixture
def limited_client(
    settings: Settings, client: Client, aiohttp_client: Callable[..., Awaitable[Client]]
) -> LimitedClient:
    """A second app on the same database with small limits (`client` first, so the tables are emptied once)."""

    async def build(**limits: Any) -> Client:
        tuned = settings.model_copy(update={"rasa_url": CLOSED_RASA, **limits})
        return await aiohttp_client(create_app(tuned))

    return build


def forwarded(address: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    return {**(headers or {}), "X-Forwarded-For": f"198.51.100.77, {address}"}


async def assert_limited(response: Any, scope: str) -> None:
    assert response.status == 429, await response.text()
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 61
    error = (await response.json())["error"]
    assert error["code"] == "rate_limited"
    assert error["details"]["scope"] == scope
    assert error["details"]["retry_after"] == retry_after


async def test_chat_is_limited_per_user_and_other_users_go_on(
    limited_client: LimitedClient, make_account: AccountFactory, enterprise_id: int
) -> None:
    client = await limited_client(chat_limit_per_user=3, chat_limit_per_address=0)
    alice = await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id)
    bob = await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id)
    for _ in range(3):
        assert (await client.post("/api/v1/chat", json={"text": "你好"}, headers=alice.headers)).status == 200
    await assert_limited(await client.post("/api/v1/chat", json={"text": "你好"}, headers=alice.headers), "user")
    assert (await client.post("/api/v1/chat", json={"text": "你好"}, headers=bob.headers)).status == 200


async def test_chat_is_limited_per_address_across_users(
    limited_client: LimitedClient, make_account: AccountFactory, enterprise_id: int
) -> None:
    client = await limited_client(chat_limit_per_user=0, chat_limit_per_address=2)
    users = [await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id) for _ in range(3)]
    office = "203.0.113.10"
    for user in users[:2]:
        ok = await client.post("/api/v1/chat", json={"text": "hi"}, headers=forwarded(office, user.headers))
        assert ok.status == 200
    blocked = await client.post("/api/v1/chat", json={"text": "hi"}, headers=forwarded(office, users[2].headers))
    await assert_limited(blocked, "address")
    elsewhere = await client.post(
        "/api/v1/chat", json={"text": "hi"}, headers=forwarded("203.0.113.11", users[2].headers)
    )
    assert elsewhere.status == 200


async def test_anonymous_search_is_limited_per_address(limited_client: LimitedClient) -> None:
    client = await limited_client(search_limit_per_address=3)
    for _ in range(3):
        assert (await client.get("/api/v1/agencies", headers=forwarded("203.0.113.20"))).status == 200
    await assert_limited(await client.get("/api/v1/agencies", headers=forwarded("203.0.113.20")), "address")
    assert (await client.get("/api/v1/agencies", headers=forwarded("203.0.113.21"))).status == 200


async def test_search_is_limited_per_user_whatever_the_address(
    limited_client: LimitedClient, make_account: AccountFactory
) -> None:
    client = await limited_client(search_limit_per_user=2, search_limit_per_address=0)
    official = await make_account(Role.OFFICIAL)
    for n in range(2):
        response = await client.get("/api/v1/agencies", headers=forwarded(f"203.0.113.{30 + n}", official.headers))
        assert response.status == 200
    blocked = await client.get("/api/v1/agencies", headers=forwarded("203.0.113.39", official.headers))
    await assert_limited(blocked, "user")
    assert (await client.get("/api/v1/agencies", headers=forwarded("203.0.113.39"))).status == 200


async def test_a_local_process_without_a_forwarded_address_has_no_address_limit(
    limited_client: LimitedClient,
) -> None:
    client = await limited_client(search_limit_per_address=2)
    for _ in range(5):
        assert (await client.get("/api/v1/agencies")).status == 200


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(limited_client: LimitedClient) -> None:
    """Only the configured proxy may name the client: here the test client (127.0.0.1) is not trusted, so every
    request counts against its own address whatever it claims."""
    client = await limited_client(search_limit_per_address=2, trusted_proxies="10.0.0.1")
    for n in range(2):
        assert (await client.get("/api/v1/agencies", headers=forwarded(f"203.0.113.{40 + n}"))).status == 200
    await assert_limited(await client.get("/api/v1/agencies", headers=forwarded("203.0.113.49")), "address")


async def test_limits_can_be_turned_off(limited_client: LimitedClient) -> None:
    client = await limited_client(rate_limits=False, search_limit_per_address=1)
    for _ in range(4):
        assert (await client.get("/api/v1/agencies", headers=forwarded("203.0.113.50"))).status == 200


async def test_failed_logins_are_throttled_per_address_behind_the_proxy(
    limited_client: LimitedClient, make_account: AccountFactory
) -> None:
    """Five wrong passwords from one address (different usernames) block that address, not everyone behind the
    same proxy."""
    client = await limited_client()
    official = await make_account(Role.OFFICIAL)
    for n in range(5):
        bad = await client.post(
            "/api/v1/auth/login", json={"username": f"guess{n}", "password": "x"}, headers=forwarded("203.0.113.60")
        )
        assert bad.status == 401
    login = {"username": official.username, "password": official.password}
    blocked = await client.post("/api/v1/auth/login", json=login, headers=forwarded("203.0.113.60"))
    assert blocked.status == 429
    assert int(blocked.headers["Retry-After"]) > 0
    colleague = await client.post("/api/v1/auth/login", json=login, headers=forwarded("203.0.113.61"))
    assert colleague.status == 200


async def test_a_limited_request_changes_nothing_and_leaks_no_reply(
    limited_client: LimitedClient, make_account: AccountFactory, enterprise_id: int
) -> None:
    client = await limited_client(chat_limit_per_user=1)
    user = await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id)
    assert (await client.post("/api/v1/chat", json={"text": "你好"}, headers=user.headers)).status == 200
    blocked = await client.post("/api/v1/chat", json={"text": "你好"}, headers=user.headers)
    assert blocked.status == 429
    assert set(await blocked.json()) == {"error"}
