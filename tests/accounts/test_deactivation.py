"""Deactivating an account: no more logins, and every token it holds stops working at once — also one whose
principal the token cache holds (which a database change alone leaves alive for up to a minute)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from accounts.models import AccountAudit, AuthToken, User
from accounts.service import deactivate_user
from app.cli import main
from core.auth import Principal, Role
from core.db import Database
from core.errors import NotFound
from core.settings import Settings
from core.state import CACHE
from tests.agencies.builders import make_enterprise
from tests.conftest import AccountFactory

Client = TestClient[Any, Any]


async def test_a_deactivated_users_tokens_stop_at_once(
    client: Client, app: web.Application, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    again = await client.post("/api/v1/auth/login", json={"username": official.username, "password": official.password})
    second = {"Authorization": f"Bearer {(await again.json())['token']}"}
    for headers in (official.headers, second):
        assert (await client.get("/api/v1/me", headers=headers)).status == 200  # both resolved, so both cached

    async with db.transaction() as session:
        await deactivate_user(session, app[CACHE], username=official.username)

    for headers in (official.headers, second):
        for method, path in (("GET", "/api/v1/me"), ("GET", "/api/v1/enterprises"), ("GET", "/api/v1/agencies")):
            response = await client.request(method, path, headers=headers)
            assert response.status == 401, (path, await response.text())
            assert (await response.json())["error"]["code"] == "token_invalid"
    login = await client.post("/api/v1/auth/login", json={"username": official.username, "password": official.password})
    assert login.status == 401
    assert (await login.json())["error"]["code"] == "bad_credentials"
    async with db.transaction() as session:
        tokens = (await session.scalars(select(AuthToken).where(AuthToken.user_id == official.user_id))).all()
        user = await session.get(User, official.user_id)
    assert len(tokens) == 2 and all(token.revoked_at is not None for token in tokens)
    assert user is not None and user.is_active is False


async def test_an_unknown_account_is_named_in_the_refusal(client: Client, app: web.Application, db: Database) -> None:
    with pytest.raises(NotFound) as refused:
        async with db.transaction() as session:
            await deactivate_user(session, app[CACHE], user_id=10_000)
    assert refused.value.code == "user_not_found"


async def test_the_deactivate_user_command(
    client: Client, settings: Settings, make_account: AccountFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in (
        ("DATABASE_URL", settings.database_url),
        ("REDIS_URL", str(settings.redis_url or "")),
        ("CACHE_PREFIX", settings.cache_prefix),
    ):
        monkeypatch.setenv(name, value)
    official = await make_account(Role.OFFICIAL)
    other = await make_account(Role.OFFICIAL)

    assert await asyncio.to_thread(main, ["deactivate-user", "--username", official.username]) == 0
    assert await asyncio.to_thread(main, ["deactivate-user", "--user-id", str(other.user_id)]) == 0
    assert await asyncio.to_thread(main, ["deactivate-user", "--username", "nobody-here"]) == 2

    for account in (official, other):
        response = await client.get("/api/v1/me", headers=account.headers)
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "token_invalid"


async def test_a_deactivation_is_audited_where_the_account_belongs_with_who_did_it(
    app: web.Application, db: Database, make_account: AccountFactory
) -> None:
    district = await make_account(Role.OFFICIAL, region_code="330105")
    administrator = await make_account(Role.OFFICIAL, region_code="330100", is_admin=True)
    other = await make_account(Role.OFFICIAL, region_code="110101")
    staff = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))  # its enterprise: 330106
    acting = Principal(
        user_id=administrator.user_id, username=administrator.username, role=Role.OFFICIAL, region_code="330100"
    )
    async with db.transaction() as session:
        by_command = await deactivate_user(session, app[CACHE], user_id=district.user_id)
        by_official = await deactivate_user(session, app[CACHE], username=other.username, actor=acting)
        assert (by_command.id, by_command.is_active, by_official.id) == (district.user_id, False, other.user_id)
        await deactivate_user(session, app[CACHE], user_id=staff.user_id, actor=acting)
    async with db.transaction(write=False) as session:
        entries = [
            (entry.action, entry.actor_user_id, entry.subject_user_id, entry.region_code, entry.note)
            for entry in await session.scalars(select(AccountAudit).order_by(AccountAudit.id))
        ]
    assert entries == [
        ("user_deactivated", None, district.user_id, "330105", "from the command line"),
        ("user_deactivated", administrator.user_id, other.user_id, "110101", ""),
        ("user_deactivated", administrator.user_id, staff.user_id, "330106", ""),
    ]
