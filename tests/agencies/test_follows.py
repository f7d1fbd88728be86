"""Enterprise staff follow agencies (idempotently) and list what they follow."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from agencies.service import follower_user_ids
from core.auth import Role
from core.db import Database
from tests.agencies.builders import make_agency, make_enterprise
from tests.conftest import AccountFactory

Client = TestClient[Any, Any]


async def test_follow_twice_unfollow_twice(client: Client, db: Database, make_account: AccountFactory) -> None:
    agency_id = await make_agency(db, name_zh="杭州甲")
    staff = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))
    url = f"/api/v1/agencies/{agency_id}/follow"
    for _ in range(2):
        response = await client.post(url, headers=staff.headers)
        assert response.status == 200
        assert await response.json() == {"agency_id": agency_id, "following": True, "followers": 1}
    detail = await (await client.get(f"/api/v1/agencies/{agency_id}", headers=staff.headers)).json()
    assert detail["following"] is True and detail["followers"] == 1
    follows = await (await client.get("/api/v1/me/follows", headers=staff.headers)).json()
    assert [item["name_zh"] for item in follows["items"]] == ["杭州甲"]
    async with db.transaction() as session:
        assert await follower_user_ids(session, agency_id) == [staff.user_id]
    for _ in range(2):
        assert (await client.delete(url, headers=staff.headers)).status == 204
    follows = await (await client.get("/api/v1/me/follows", headers=staff.headers)).json()
    assert follows["items"] == []


async def test_who_may_follow(client: Client, db: Database, make_account: AccountFactory) -> None:
    agency_id = await make_agency(db)
    official = await make_account(Role.OFFICIAL)
    enterprise = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))
    url = f"/api/v1/agencies/{agency_id}/follow"
    assert (await client.post(url)).status == 401
    assert (await client.delete(url)).status == 401
    assert (await client.get("/api/v1/me/follows")).status == 401
    assert (await client.post(url, headers=official.headers)).status == 403
    assert (await client.get("/api/v1/me/follows", headers=official.headers)).status == 403
    assert (await client.post(f"/api/v1/agencies/{agency_id + 99}/follow", headers=enterprise.headers)).status == 404
    assert (await client.delete(f"/api/v1/agencies/{agency_id + 99}/follow", headers=enterprise.headers)).status == 404
