"""The demo data of onboarding: regional officials, a binding waiting for approval, an enterprise waiting for
verification, an open invitation — seeded once, however often the seed runs."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from accounts.models import AgencyInvitation, EnterpriseMembership, User
from accounts.seed import DEMO_INVITATION_CODE
from app.demo import DEMO_PASSWORD, seed
from core.db import Database
from core.settings import Settings
from tests.support.world import expect


async def test_seeding_twice_tells_the_same_story_once(
    client: TestClient[Any, Any], db: Database, settings: Settings
) -> None:
    for _ in range(2):
        await seed(settings, agencies=5)
    async with db.transaction() as session:
        memberships = (
            await session.execute(select(EnterpriseMembership.status, EnterpriseMembership.registered_enterprise))
        ).all()
        invitations = await session.scalar(select(func.count()).select_from(AgencyInvitation))
        regions = dict(
            (await session.execute(select(User.username, User.region_code).where(User.role == "official"))).all()
        )
    assert sorted(memberships) == [("pending", False), ("pending", True)]
    assert invitations == 1
    assert regions == {
        "official_demo": "000000",
        "official_zj": "330000",
        "official_hz": "330100",
        "official_nb": "330200",
    }

    # The enterprise's administrator sees the waiting binding; the invitation can be accepted.
    login = await expect(
        await client.post("/api/v1/auth/login", json={"username": "enterprise_demo", "password": DEMO_PASSWORD}), 200
    )
    headers = {"Authorization": f"Bearer {login['token']}"}
    waiting = await expect(await client.get("/api/v1/enterprise-memberships?status=pending", headers=headers), 200)
    assert [m["person_name"] for m in waiting["items"]] == ["陈静"]
    accept = {"code": DEMO_INVITATION_CODE, "username": "new_attorney", "password": "correct-horse-battery"}
    assert (await expect(await client.post("/api/v1/invitations/accept", json=accept), 200))["user"]["role"] == "agency"
