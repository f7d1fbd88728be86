"""A redemption made before its voucher expired keeps its own life: the agency still confirms it (and records the
voucher's expiry as it does), and an official still settles it. Whoever touches an overdue voucher records its expiry,
whatever their role."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update

from core.db import Database, utcnow
from tests.vouchers.builders import EVIDENCE, Client
from tests.vouchers.conftest import World
from tests.vouchers.test_flow import assert_books_balance
from vouchers.models import Voucher


async def post(client: Client, path: str, headers: dict[str, str], body: dict[str, Any]) -> Any:
    response = await client.post(path, json=body, headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def redeem_an_invention(client: Client, world: World) -> Any:
    """The enterprise redeems its voucher at the world's agency for an invention filing (100,000 fen)."""
    body = {"agency_id": world.agency_id, "service_code": "invention", "price_fen": 100_000}
    response = await client.post(
        f"/api/v1/vouchers/{world.voucher['id']}/redeem", json=body, headers=world.enterprise.headers
    )
    assert response.status == 201, await response.text()
    return await response.json()


async def lapse(db: Database, voucher_id: int) -> None:
    """The voucher's validity ended a minute ago (nothing has recorded its expiry yet)."""
    async with db.transaction() as session:
        past = utcnow() - dt.timedelta(minutes=1)
        await session.execute(update(Voucher).where(Voucher.id == voucher_id).values(expires_at=past))


async def test_the_agency_confirms_and_the_official_settles_after_the_voucher_expired(
    client: Client, world: World, db: Database
) -> None:
    redemption = await redeem_an_invention(client, world)
    await lapse(db, world.voucher["id"])

    confirmed = await post(client, f"/api/v1/redemptions/{redemption['id']}/confirm", world.agency.headers, EVIDENCE)
    assert confirmed["state"] == "delivered"
    detail = await (await client.get(f"/api/v1/vouchers/{world.voucher['id']}", headers=world.official.headers)).json()
    assert (detail["state"], detail["balance_fen"]) == ("expired", 440_000)
    assert [(h["action"], h["actor_role"]) for h in detail["history"]][-2:] == [
        ("expire", "agency"),
        ("confirm", "agency"),
    ]
    # The expiry is recorded at the moment of the confirmation that found it, not at some later reading of the clock.
    assert detail["history"][-2]["at"] == confirmed["confirmed_at"]

    decision = {"decision": "approve", "reason": "delivered before expiry"}
    settled = await post(client, f"/api/v1/redemptions/{redemption['id']}/settle", world.official.headers, decision)
    assert settled["state"] == "settled"
    await assert_books_balance(db)


async def test_the_official_who_settles_after_the_voucher_lapsed_records_its_expiry_at_the_settlement(
    client: Client, world: World, db: Database
) -> None:
    redemption = await redeem_an_invention(client, world)
    await post(client, f"/api/v1/redemptions/{redemption['id']}/confirm", world.agency.headers, EVIDENCE)
    # The voucher lapses after the confirmation: the settlement is the first to find it overdue.
    await lapse(db, world.voucher["id"])

    decision = {"decision": "approve", "reason": "delivered before expiry"}
    settled = await post(client, f"/api/v1/redemptions/{redemption['id']}/settle", world.official.headers, decision)
    assert (settled["state"], settled["voucher_state"], settled["voucher_balance_fen"]) == (
        "settled",
        "expired",
        440_000,
    )
    detail = await (await client.get(f"/api/v1/vouchers/{world.voucher['id']}", headers=world.official.headers)).json()
    assert (detail["state"], detail["balance_fen"]) == ("expired", 440_000)
    assert [(h["action"], h["actor_user_id"], h["actor_role"]) for h in detail["history"]][-2:] == [
        ("expire", world.official.user_id, "official"),
        ("settle", world.official.user_id, "official"),
    ]
    # The expiry is recorded at the moment of the settlement that found it, not at some later reading of the clock.
    assert detail["history"][-2]["at"] == detail["history"][-1]["at"] == settled["settled_at"]
    await assert_books_balance(db)
