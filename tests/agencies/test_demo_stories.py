"""`python server.py seed` tells the credit and review stories every screen needs on first start: the first demo
agencies have credit histories with reasons, agency_demo's agency an objection decided and one under objection,
and reviews by enterprise_demo's enterprise, one answered — and seeding again adds nothing."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from agencies.models import AgencyAudit, CreditEvent, CreditObjection, Review
from app.demo import DEMO_PASSWORD, seed
from core.db import Database
from core.settings import Settings

Client = TestClient[Any, Any]


async def token(client: Client, username: str) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status == 200, await response.text()
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def counts(db: Database) -> tuple[int, ...]:
    found = []
    async with db.transaction(write=False) as session:
        for model in (CreditEvent, CreditObjection, Review, AgencyAudit):
            found.append(int(await session.scalar(select(func.count()).select_from(model)) or 0))
    return tuple(found)


async def test_the_demo_agency_has_a_credit_story_an_objection_and_answered_reviews(
    client: Client, db: Database, settings: Settings
) -> None:
    assert await seed(settings, agencies=12) == 0
    first = await counts(db)
    staff = await token(client, "agency_demo")
    me = await (await client.get("/api/v1/me", headers=staff)).json()
    agency_id = me["agency_id"]

    detail = await (await client.get(f"/api/v1/agencies/{agency_id}")).json()
    assert (detail["rating"]["level"], detail["rating"]["under_objection"]) == ("B", True)
    assert [h["cause"] for h in reversed(detail["rating_history"])] == ["import", "event", "event", "reversal", "event"]
    history_dates = [h["changed_at"] for h in reversed(detail["rating_history"])]
    assert history_dates == sorted(history_dates), "the story is dated in order, the evaluation first"

    record = await (await client.get(f"/api/v1/agencies/{agency_id}/credit-events", headers=staff)).json()
    assert all(e["reason"] for e in record["events"])
    objections = await (await client.get("/api/v1/credit-objections", headers=staff)).json()
    states = sorted((o["state"], o["decision_reason"] is not None) for o in objections["items"])
    assert states == [("pending", False), ("reversed", True)]
    official = await token(client, "official_demo")
    queue = await (await client.get("/api/v1/credit-objections?state=pending", headers=official)).json()
    assert [o["agency_id"] for o in queue["items"]] == [agency_id], "the official's queue has something to decide"

    reviews = await (await client.get(f"/api/v1/agencies/{agency_id}/reviews")).json()
    assert reviews["summary"] == {"count": 2, "average": 4.0}
    assert sorted(r["reply"] is not None for r in reviews["items"]) == [False, True]
    page = await (await client.get("/api/v1/agencies", params={"q": "求是"})).json()
    card = next(c for c in page["items"] if c["id"] == agency_id)
    assert (card["review_count"], card["review_average"], card["under_objection"]) == (2, 4.0, True)
    # Other demo agencies have histories too.
    async with db.transaction(write=False) as session:
        with_events = await session.scalar(select(func.count(func.distinct(CreditEvent.agency_id))))
    assert with_events is not None and with_events >= 5

    assert await seed(settings, agencies=12) == 0
    assert await counts(db) == first, "seeding again adds nothing"
