"""`POST /api/v1/auth/wechat-login`: code → code2session at the stand-in → our user and bearer token."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from accounts.models import User
from core.db import Database
from wechat_standin.app import StandIn, openid_for, unionid_for

Client = TestClient[Any, Any]


async def test_first_login_creates_the_user_and_the_next_finds_it(
    client: Client, standin: StandIn, db: Database
) -> None:
    first = await client.post("/api/v1/auth/wechat-login", json={"code": "alice.1"})
    assert first.status == 200, await first.text()
    body = await first.json()
    assert body["created"] is True
    assert body["enterprise_bound"] is False
    assert body["user"]["role"] == "enterprise" and body["user"]["enterprise_id"] is None
    assert "session_key" not in await first.text()

    again = await client.post("/api/v1/auth/wechat-login", json={"code": "alice.2"})
    assert again.status == 200
    second = await again.json()
    assert second["created"] is False
    assert second["user"]["user_id"] == body["user"]["user_id"]
    assert second["token"] != body["token"]

    async with db.transaction() as session:
        [user] = (await session.scalars(select(User))).all()
    assert user.wechat_openid == openid_for(standin.appid, "alice")
    assert user.wechat_unionid == unionid_for("alice")

    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {second['token']}"})
    assert me.status == 200
    assert (await me.json())["user_id"] == body["user"]["user_id"]


async def test_no_unionid_when_wechat_sends_none(client: Client, standin: StandIn, db: Database) -> None:
    response = await client.post("/api/v1/auth/wechat-login", json={"code": "nounion-bob"})
    assert response.status == 200
    async with db.transaction() as session:
        user = await session.scalar(select(User))
    assert user is not None and user.wechat_unionid is None


async def test_a_bad_or_reused_code_is_refused_clearly(client: Client, standin: StandIn, db: Database) -> None:
    bad = await client.post("/api/v1/auth/wechat-login", json={"code": "bad-code"})
    assert bad.status == 401
    assert (await bad.json())["error"]["code"] == "wechat_code_invalid"

    assert (await client.post("/api/v1/auth/wechat-login", json={"code": "carol.1"})).status == 200
    reused = await client.post("/api/v1/auth/wechat-login", json={"code": "carol.1"})
    assert reused.status == 401
    assert "already used" in (await reused.json())["error"]["message"]

    empty = await client.post("/api/v1/auth/wechat-login", json={"code": ""})
    assert empty.status == 422
    assert (await empty.json())["error"]["details"][0]["field"] == "code"
    async with db.transaction() as session:
        assert len((await session.scalars(select(User))).all()) == 1


async def test_wechat_rate_limit_and_outage_are_429_and_503(client: Client, standin: StandIn) -> None:
    standin.failures["jscode2session"].extend([45011, -1])
    limited = await client.post("/api/v1/auth/wechat-login", json={"code": "dave.1"})
    assert limited.status == 429
    busy = await client.post("/api/v1/auth/wechat-login", json={"code": "dave.2"})
    assert busy.status == 503
    assert (await busy.json())["error"]["code"] == "wechat_unavailable"


async def test_login_when_wechat_is_unreachable_is_503(client: Client) -> None:
    # No stand-in running on WECHAT_API_BASE in this test.
    response = await client.post("/api/v1/auth/wechat-login", json={"code": "erin.1"})
    assert response.status == 503
