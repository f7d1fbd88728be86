"""The anti-abuse flags of a redemption, raised after its commit by the flag worker (`vouchers.flags`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from core.auth import Role
from core.db import Database
from tests.conftest import AccountFactory
from tests.vouchers.builders import EVIDENCE, Client, issue, make_agency, make_enterprise, make_program
from tests.vouchers.conftest import World
from vouchers.flags import CONCENTRATION_MIN_REDEMPTIONS, FlagWorker
from vouchers.models import Redemption, VoucherFlag
from vouchers.routes import FLAG_WORKER


def worker(client: Client) -> FlagWorker:
    app: web.Application = client.app
    return app[FLAG_WORKER]


async def redeem(client: Client, world: World, voucher_id: int, agency_id: int, price_fen: int) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/vouchers/{voucher_id}/redeem",
        json={"agency_id": agency_id, "service_code": "invention", "price_fen": price_fen},
        headers=world.enterprise.headers,
    )
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def test_concentration_is_judged_on_the_redemptions_up_to_each_one(
    client: Client, world: World, db: Database
) -> None:
    other = await make_agency(db)
    made: list[dict[str, Any]] = []
    async with worker(client).held():  # all of them checked in one batch, after the last one committed
        for agency_id in [other] * 5 + [world.agency_id] * 6:
            made.append(await redeem(client, world, world.voucher["id"], agency_id, 50_000))  # 30,000 fen each
    await worker(client).drain()  # the worker's own loop may have taken the batch first: either way, all checked
    flags = await (await client.get("/api/v1/voucher-flags", headers=world.official.headers)).json()
    # The 10th (the programme's 10th redemption) puts exactly half at the agency: not more than half, no flag; the
    # 11th puts 180,000 of 330,000 there — though by the time the worker looked, both were in.
    assert len(made) == CONCENTRATION_MIN_REDEMPTIONS + 1
    assert [(f["kind"], f["redemption_id"]) for f in flags] == [("agency_concentration", made[10]["id"])]
    assert flags[0]["evidence"] == {
        "agency_amount_fen": 180_000,
        "program_redeemed_fen": 330_000,
        "share": 0.5455,
        "threshold": 0.5,
        "program_redemptions": 11,
    }
    assert await worker(client).drain() == 0  # each redemption is checked once
    async with db.transaction(write=False) as session:
        unchecked = select(func.count()).where(Redemption.flags_checked_at.is_(None))
        assert await session.scalar(unchecked) == 0


async def test_a_redemption_is_not_settled_before_its_flags_are_raised(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    agency_id = await make_agency(db, contact_name="李四", address="杭州市滨江区网商路 9 号", phone="0571-66660000")
    related = await make_enterprise(db, legal_representative="李四")
    program = await make_program(client, official.headers)
    (voucher,) = await issue(client, official.headers, program["id"], related)
    staff = await make_account(Role.ENTERPRISE, enterprise_id=related)
    agency = await make_account(Role.AGENCY, agency_id=agency_id)
    async with worker(client).held():  # the worker has not looked at the redemption when it is settled
        response = await client.post(
            f"/api/v1/vouchers/{voucher['id']}/redeem",
            json={"agency_id": agency_id, "service_code": "invention", "price_fen": 400_000},
            headers=staff.headers,
        )
        assert response.status == 201, await response.text()
        rid = (await response.json())["id"]
        confirm = await client.post(f"/api/v1/redemptions/{rid}/confirm", json=EVIDENCE, headers=agency.headers)
        assert confirm.status == 200, await confirm.text()
        settled = await client.post(
            f"/api/v1/redemptions/{rid}/settle",
            json={"decision": "approve", "reason": "related party known to the office; service checked"},
            headers=official.headers,
        )
        assert settled.status == 200, await settled.text()
        body = await settled.json()
    # The related party was flagged by the settlement itself, and decided with it.
    assert sorted((f["kind"], f["status"]) for f in body["flags"]) == [
        ("fast_confirmation", "approved"),
        ("related_party", "approved"),
    ]
    assert await worker(client).drain() == 0
    async with db.transaction(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(VoucherFlag)) == 2
