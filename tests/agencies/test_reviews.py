"""Reviews: enterprise staff review an agency after a voucher-paid service there was delivered, once per redemption."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from core.auth import Role
from core.db import Database
from tests.conftest import AccountFactory
from tests.vouchers.builders import EVIDENCE, make_enterprise
from tests.vouchers.conftest import World

Client = TestClient[Any, Any]


async def redeem(client: Client, w: World) -> int:
    body = {"agency_id": w.agency_id, "service_code": "invention", "price_fen": 400_000}
    response = await client.post(f"/api/v1/vouchers/{w.voucher['id']}/redeem", json=body, headers=w.enterprise.headers)
    assert response.status in (200, 201), await response.text()
    redemption_id: int = (await response.json())["id"]
    return redemption_id


async def confirm(client: Client, w: World, redemption_id: int) -> None:
    response = await client.post(
        f"/api/v1/redemptions/{redemption_id}/confirm", json=EVIDENCE, headers=w.agency.headers
    )
    assert response.status == 200, await response.text()


def review(redemption_id: int, rating: int = 5) -> dict[str, Any]:
    return {"redemption_id": redemption_id, "rating": rating, "comment": "答复及时，撰写质量高"}


async def test_a_delivered_service_can_be_reviewed_once(client: Client, world: World) -> None:
    redemption_id = await redeem(client, world)
    url = f"/api/v1/agencies/{world.agency_id}/reviews"
    early = await client.post(url, json=review(redemption_id), headers=world.enterprise.headers)
    assert early.status == 403
    assert (await early.json())["error"]["code"] == "no_delivered_service"
    await confirm(client, world, redemption_id)
    response = await client.post(url, json=review(redemption_id, 4), headers=world.enterprise.headers)
    assert response.status == 201, await response.text()
    assert (await response.json())["rating"] == 4
    again = await client.post(url, json=review(redemption_id, 1), headers=world.enterprise.headers)
    assert again.status == 409
    listing = await (await client.get(url)).json()
    assert listing["summary"] == {"count": 1, "average": 4.0}
    assert [r["comment"] for r in listing["items"]] == ["答复及时，撰写质量高"]
    detail = await (await client.get(f"/api/v1/agencies/{world.agency_id}")).json()
    assert detail["reviews"] == {"count": 1, "average": 4.0}


async def test_who_may_review(client: Client, db: Database, world: World, make_account: AccountFactory) -> None:
    redemption_id = await redeem(client, world)
    await confirm(client, world, redemption_id)
    url = f"/api/v1/agencies/{world.agency_id}/reviews"
    assert (await client.post(url, json=review(redemption_id))).status == 401
    assert (await client.post(url, json=review(redemption_id), headers=world.official.headers)).status == 403
    assert (await client.post(url, json=review(redemption_id), headers=world.agency.headers)).status == 403
    stranger = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))
    assert (await client.post(url, json=review(redemption_id), headers=stranger.headers)).status == 403
    elsewhere = f"/api/v1/agencies/{world.agency_id + 999}/reviews"
    assert (await client.post(elsewhere, json=review(redemption_id), headers=world.enterprise.headers)).status == 404
    bad = await client.post(url, json=review(redemption_id, 6), headers=world.enterprise.headers)
    assert bad.status == 422
    assert (await bad.json())["error"]["details"][0]["field"] == "rating"
    assert (await client.get(elsewhere)).status == 404
