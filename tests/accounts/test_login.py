"""Password login, bearer tokens (expiry, logout), the failed-login throttle and create-user."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlalchemy.pool import QueuePool

from accounts import passwords, service
from accounts.models import AuthToken
from accounts.schemas import NewUser
from core.auth import Role
from core.db import Database, utcnow
from tests.conftest import AccountFactory

Client = TestClient[Any, Any]


async def test_login_returns_a_token_that_identifies_the_user(client: Client, make_account: AccountFactory) -> None:
    official = await make_account(Role.OFFICIAL)
    response = await client.get("/api/v1/me", headers=official.headers)
    assert response.status == 200
    body = await response.json()
    assert body["username"] == official.username
    assert body["role"] == "official"


async def test_wrong_password_is_401_without_saying_which_part(client: Client, make_account: AccountFactory) -> None:
    official = await make_account(Role.OFFICIAL)
    wrong = await client.post("/api/v1/auth/login", json={"username": official.username, "password": "nope"})
    unknown = await client.post("/api/v1/auth/login", json={"username": "ghost", "password": "nope"})
    assert wrong.status == unknown.status == 401
    assert (await wrong.json())["error"] == (await unknown.json())["error"]


async def test_missing_field_is_422_naming_it(client: Client) -> None:
    response = await client.post("/api/v1/auth/login", json={"username": "someone"})
    body = await response.json()
    assert response.status == 422
    assert body["error"]["code"] == "validation_error"
    assert body["error"]["details"][0]["field"] == "password"


async def test_malformed_json_is_400(client: Client) -> None:
    response = await client.post("/api/v1/auth/login", data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_json"


async def test_logout_revokes_the_token(client: Client, make_account: AccountFactory) -> None:
    official = await make_account(Role.OFFICIAL)
    assert (await client.get("/api/v1/me", headers=official.headers)).status == 200
    assert (await client.post("/api/v1/auth/logout", headers=official.headers)).status == 204
    after = await client.get("/api/v1/me", headers=official.headers)
    assert after.status == 401
    assert (await after.json())["error"]["code"] == "token_invalid"


async def test_an_expired_token_is_refused(client: Client, db: Database, make_account: AccountFactory) -> None:
    official = await make_account(Role.OFFICIAL)
    async with db.transaction() as session:
        await session.execute(update(AuthToken).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    response = await client.get("/api/v1/me", headers=official.headers)
    assert response.status == 401


async def test_me_without_token_is_401(client: Client) -> None:
    assert (await client.get("/api/v1/me")).status == 401


async def test_repeated_failures_for_a_username_are_throttled(client: Client, make_account: AccountFactory) -> None:
    official = await make_account(Role.OFFICIAL)
    for _ in range(5):
        bad = await client.post("/api/v1/auth/login", json={"username": official.username, "password": "guess"})
        assert bad.status == 401
    blocked = await client.post(
        "/api/v1/auth/login", json={"username": official.username, "password": official.password}
    )
    assert blocked.status == 429
    assert int(blocked.headers["Retry-After"]) > 0


async def test_successful_logins_use_up_no_allowance_of_their_address(
    client: Client, make_account: AccountFactory
) -> None:
    """Each attempt is reserved before its password is checked; a success gives its reservation back."""
    official = await make_account(Role.OFFICIAL)
    login = {"username": official.username, "password": official.password}
    for _ in range(8):
        assert (await client.post("/api/v1/auth/login", json=login)).status == 200
    for _ in range(5):
        bad = await client.post("/api/v1/auth/login", json={**login, "password": "guess"})
        assert bad.status == 401
    assert (await client.post("/api/v1/auth/login", json=login)).status == 429


async def test_creating_a_user_holds_no_connection_while_hashing(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    async def instrumented(password: str) -> str:
        pool = db.engine.pool
        assert isinstance(pool, QueuePool)
        seen.append(pool.checkedout())
        return await passwords.hash_password(password)

    monkeypatch.setattr(service, "hash_password", instrumented)
    async with db.transaction() as session:
        await service.create_user(session, NewUser(role=Role.OFFICIAL, username="newcomer", password="long-enough-1"))
    assert seen == [0]
