"""Spending a voucher (`vouchers.redeeming`): each refusal of the offer by status, code, field and message with nothing
spent; the redemption, audit row and idempotency record as stored, to the fen; the `Idempotency-Key` at its bounds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from aiohttp import ClientResponse
from sqlalchemy import func, select, update

from core.auth import Role
from core.db import Database, utcnow
from core.events import EventBus, RedemptionMade
from tests.conftest import AccountFactory
from tests.vouchers.builders import Client, issue, make_agency, make_enterprise, make_program
from tests.vouchers.conftest import World
from vouchers import redeeming, repository
from vouchers.flags import FlagWorker
from vouchers.models import IdempotencyRecord, Redemption, Voucher, VoucherAudit
from vouchers.routes import FLAG_WORKER


async def redeem(
    client: Client, w: World, *, key: str | None = None, voucher_id: int | None = None, **change: Any
) -> ClientResponse:
    body = {"agency_id": w.agency_id, "service_code": "invention", "price_fen": 100_000, **change}
    headers = dict(w.enterprise.headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    return await client.post(f"/api/v1/vouchers/{voucher_id or w.voucher['id']}/redeem", json=body, headers=headers)


async def spent(db: Database) -> tuple[int, int, int]:
    """Redemptions, audit rows and idempotency records, all vouchers together."""
    async with db.transaction(write=False) as session:
        return (
            await session.scalar(select(func.count()).select_from(Redemption)) or 0,
            await session.scalar(select(func.count()).select_from(VoucherAudit)) or 0,
            await session.scalar(select(func.count()).select_from(IdempotencyRecord)) or 0,
        )


async def refused(response: ClientResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, await response.text()
    error: dict[str, Any] = (await response.json())["error"]
    assert error["code"] == code
    return error


def one_field(error: dict[str, Any], field: str, message: str) -> None:
    assert error["details"] == [{"field": field, "message": message}]
    assert error["message"] == f"{field}: {message}"


# ------------------------------------------------------------------------------------------------ the offer


async def test_an_unknown_voucher_is_404_naming_it(client: Client, world: World, db: Database) -> None:
    before = await spent(db)
    error = await refused(await redeem(client, world, voucher_id=world.voucher["id"] + 1000), 404, "not_found")
    assert error["message"] == f"no voucher {world.voucher['id'] + 1000}"
    assert await spent(db) == before


async def test_another_enterprises_voucher_is_403_not_your_voucher(
    client: Client, world: World, db: Database, make_account: AccountFactory
) -> None:
    other = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))
    before = await spent(db)
    response = await client.post(
        f"/api/v1/vouchers/{world.voucher['id']}/redeem",
        json={"agency_id": world.agency_id, "service_code": "invention", "price_fen": 100_000},
        headers=other.headers,
    )
    error = await refused(response, 403, "not_your_voucher")
    assert error["message"] == "this voucher belongs to another enterprise"
    assert await spent(db) == before


async def test_a_service_the_programme_does_not_cover_is_422_listing_what_it_covers(
    client: Client, world: World, db: Database
) -> None:
    before = await spent(db)
    error = await refused(await redeem(client, world, service_code="design"), 422, "validation_error")
    one_field(
        error, "service_code", "not covered by this programme (covers invention, priority_exam_assist, utility_model)"
    )
    assert await spent(db) == before


async def test_an_unknown_agency_is_422_on_agency_id(client: Client, world: World, db: Database) -> None:
    before = await spent(db)
    error = await refused(await redeem(client, world, agency_id=999_999), 422, "validation_error")
    one_field(error, "agency_id", "no such agency")
    assert await spent(db) == before


@pytest.mark.parametrize(
    ("agency", "program", "message"),
    [
        ({"accepts_vouchers": False}, {}, "this agency does not accept vouchers"),
        (
            {"region_code": "110105"},
            {},
            "this agency is in region 110105, outside the programme's region 330100",
        ),
        ({"region_code": "330000"}, {}, "this agency is in region 330000, outside the programme's region 330100"),
        (
            {"services": (("utility_model", 100_000, 300_000),)},
            {},
            "this agency does not offer invention",
        ),
        ({"level": "C"}, {"min_agency_level": "B"}, "this agency is rated C; the programme needs B or better"),
    ],
)
async def test_an_agency_outside_the_programme_is_422_agency_not_participating(
    client: Client, world: World, db: Database, agency: dict[str, Any], program: dict[str, Any], message: str
) -> None:
    agency_id = await make_agency(db, **agency)
    voucher_id = world.voucher["id"]
    if program:
        made = await make_program(client, world.official.headers, **program)
        (voucher,) = await issue(client, world.official.headers, made["id"], world.enterprise_id)
        voucher_id = voucher["id"]
    before = await spent(db)
    response = await redeem(client, world, agency_id=agency_id, voucher_id=voucher_id)
    one_field(await refused(response, 422, "agency_not_participating"), "agency_id", message)
    assert await spent(db) == before


@pytest.mark.parametrize(("level", "minimum"), [("B", "B"), ("A_plus", "B"), ("A", "A"), ("D", "D")])
async def test_an_agency_rated_at_or_above_the_programmes_minimum_is_accepted(
    client: Client, world: World, db: Database, level: str, minimum: str
) -> None:
    agency_id = await make_agency(db, level=level, region_code="330100")  # the programme's own city code
    made = await make_program(client, world.official.headers, min_agency_level=minimum)
    (voucher,) = await issue(client, world.official.headers, made["id"], world.enterprise_id)
    response = await redeem(client, world, agency_id=agency_id, voucher_id=voucher["id"])
    assert response.status == 201, await response.text()


async def test_a_price_may_be_the_listed_maximum_but_not_one_fen_more(
    client: Client, world: World, db: Database
) -> None:
    before = await spent(db)
    error = await refused(await redeem(client, world, price_fen=800_001), 422, "validation_error")
    one_field(error, "price_fen", "above the agency's listed maximum of 800000 fen for this service")
    assert await spent(db) == before
    response = await redeem(client, world, price_fen=800_000)
    assert response.status == 201, await response.text()
    assert (await response.json())["amount_fen"] == 480_000


async def test_a_share_that_rounds_to_nothing_names_the_price(client: Client, world: World, db: Database) -> None:
    made = await make_program(client, world.official.headers, share_bp=1)
    (voucher,) = await issue(client, world.official.headers, made["id"], world.enterprise_id)
    before = await spent(db)
    error = await refused(
        await redeem(client, world, voucher_id=voucher["id"], price_fen=9_999), 422, "validation_error"
    )
    one_field(error, "price_fen", "too small: the voucher's share of it rounds to 0 fen")
    assert await spent(db) == before
    response = await redeem(client, world, voucher_id=voucher["id"], price_fen=10_000)  # 10 000 × 1 / 10 000 = 1 fen
    assert response.status == 201, await response.text()
    assert (await response.json())["amount_fen"] == 1


# ------------------------------------------------------------------------------------------------ the voucher


async def test_a_voucher_no_longer_spendable_is_409_naming_its_state_and_why(
    client: Client, world: World, db: Database
) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(Voucher).where(Voucher.id == world.voucher["id"]).values(state="settled", state_reason="paid out")
        )
    before = await spent(db)
    error = await refused(await redeem(client, world), 409, "illegal_transition")
    assert error["message"] == f"voucher {world.voucher['id']} is settled and cannot be redeemed"
    assert error["details"] == {"voucher_id": world.voucher["id"], "state": "settled", "reason": "paid out"}
    assert await spent(db) == before


async def test_a_programme_opening_later_is_409_program_closed_naming_when(
    client: Client, world: World, db: Database
) -> None:
    opens = utcnow().replace(microsecond=0) + dt.timedelta(days=2)
    made = await make_program(
        client,
        world.official.headers,
        valid_from=opens.isoformat(),
        valid_until=(opens + dt.timedelta(days=90)).isoformat(),
    )
    (voucher,) = await issue(client, world.official.headers, made["id"], world.enterprise_id)
    before = await spent(db)
    error = await refused(await redeem(client, world, voucher_id=voucher["id"]), 409, "program_closed")
    assert error["message"] == f"the programme opens at {opens.isoformat()}"
    assert error["details"] == {"program_id": made["id"], "valid_from": opens.isoformat()}
    assert await spent(db) == before


async def test_a_programme_is_open_from_the_very_moment_it_opens(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    opens = dt.datetime.fromisoformat(world.program["valid_from"])
    monkeypatch.setattr(redeeming, "utcnow", lambda: opens - dt.timedelta(microseconds=1))
    await refused(await redeem(client, world), 409, "program_closed")
    monkeypatch.setattr(redeeming, "utcnow", lambda: opens)
    response = await redeem(client, world)
    assert response.status == 201, await response.text()


async def test_a_voucher_is_spendable_until_the_very_moment_it_expires(
    client: Client, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The moment the request is handled decides, not the clock read later by whatever it calls."""
    expires = dt.datetime.fromisoformat(world.voucher["expires_at"])
    monkeypatch.setattr(redeeming, "utcnow", lambda: expires - dt.timedelta(microseconds=1))
    response = await redeem(client, world)
    assert response.status == 201, await response.text()
    monkeypatch.setattr(redeeming, "utcnow", lambda: expires)
    before = await spent(db)
    error = await refused(await redeem(client, world), 409, "voucher_expired")
    assert error["details"]["voucher_id"] == world.voucher["id"]
    assert await spent(db) == before


# ------------------------------------------------------------------------------------------------ the redemption


async def test_the_redemption_is_stored_as_offered_and_its_event_names_it(
    client: Client, world: World, db: Database, event_bus: EventBus
) -> None:
    made: list[int] = []

    async def listener(_session: Any, event: RedemptionMade) -> None:
        made.append(event.redemption_id)

    event_bus.subscribe(RedemptionMade, listener)
    before = utcnow()
    flag_worker: FlagWorker = client.app[FLAG_WORKER]
    async with flag_worker.held():  # the flags are checked after the commit: read the row as the redemption left it
        response = await redeem(client, world, price_fen=123_457)  # 60 % is 74 074.2: the voucher pays 74 074
        assert response.status == 201, await response.text()
        body = await response.json()
        assert "Idempotent-Replayed" not in response.headers
        async with db.transaction(write=False) as session:
            redemption = await session.get(Redemption, body["id"])
            assert redemption is not None
            audit = (await session.scalars(select(VoucherAudit).where(VoucherAudit.redemption_id == body["id"]))).one()
            voucher = await session.get(Voucher, world.voucher["id"])
            assert voucher is not None
    assert made == [body["id"]]
    stored = {
        k: getattr(redemption, k)
        for k in (
            "voucher_id",
            "program_id",
            "enterprise_id",
            "agency_id",
            "service_code",
            "price_fen",
            "amount_fen",
            "enterprise_share_fen",
            "state",
            "created_by",
            "flags_checked_at",
        )
    }
    assert stored == {
        "voucher_id": world.voucher["id"],
        "program_id": world.program["id"],
        "enterprise_id": world.enterprise_id,
        "agency_id": world.agency_id,
        "service_code": "invention",
        "price_fen": 123_457,
        "amount_fen": 74_074,
        "enterprise_share_fen": 49_383,
        "state": "pending",
        "created_by": world.enterprise.user_id,
        "flags_checked_at": None,
    }
    assert before <= redemption.created_at <= utcnow()
    reason = f"74074 fen of a 123457 fen invention at agency {world.agency_id}"
    assert (audit.action, audit.reason, audit.amount_fen, audit.balance_delta_fen) == (
        "redeem",
        reason,
        74_074,
        -74_074,
    )
    assert (audit.from_state, audit.to_state, audit.balance_after_fen) == ("issued", "partially_redeemed", 425_926)
    assert (audit.redemption_from, audit.redemption_to, audit.created_at) == (None, "pending", redemption.created_at)
    assert (voucher.state, voucher.balance_fen, voucher.state_reason) == (
        "partially_redeemed",
        425_926,
        f"last used: {reason}",
    )
    assert (body["amount_fen"], body["voucher_balance_fen"], body["state"]) == (74_074, 425_926, "pending")


async def test_spending_the_balance_to_the_last_fen_leaves_the_voucher_redeemed(
    client: Client, world: World, db: Database
) -> None:
    first = await redeem(client, world, price_fen=798_333)  # 478 999.8 → 478 999 fen; 21 001 left
    assert (await first.json())["voucher_balance_fen"] == 21_001
    last = await redeem(client, world, price_fen=35_002)  # 21 001.2 → 21 001 fen: exactly the balance
    body = await last.json()
    assert (body["amount_fen"], body["enterprise_share_fen"], body["voucher_balance_fen"]) == (21_001, 14_001, 0)
    assert body["voucher_state"] == "redeemed"
    async with db.transaction(write=False) as session:
        voucher = await session.get(Voucher, world.voucher["id"])
        assert voucher is not None
        assert (voucher.state, voucher.balance_fen) == ("redeemed", 0)


# ------------------------------------------------------------------------------------------------ Idempotency-Key


@pytest.mark.parametrize("key", ["k", "k" * 200])
async def test_a_key_of_1_to_200_characters_replays_the_first_answer_once(
    client: Client, world: World, db: Database, key: str
) -> None:
    first = await redeem(client, world, key=key)
    assert first.status == 201, await first.text()
    after_first = await spent(db)
    again = await redeem(client, world, key=key)
    assert again.status == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await again.text() == await first.text()
    assert await spent(db) == after_first
    async with db.transaction(write=False) as session:
        record = (await session.scalars(select(IdempotencyRecord))).one()
    assert (record.user_id, record.key, record.status, record.response) == (
        world.enterprise.user_id,
        key,
        201,
        await first.text(),
    )
    assert len(record.request_hash) == 64


@pytest.mark.parametrize("key", ["", "k" * 201])
async def test_a_key_of_no_or_over_200_characters_is_422_and_spends_nothing(
    client: Client, world: World, db: Database, key: str
) -> None:
    before = await spent(db)
    error = await refused(await redeem(client, world, key=key), 422, "validation_error")
    one_field(error, "Idempotency-Key", "must be 1 to 200 characters")
    assert await spent(db) == before


@pytest.mark.parametrize(
    "change", [{"price_fen": 100_001}, {"service_code": "utility_model"}, {"agency_id": "other"}, {"voucher": "other"}]
)
async def test_a_key_used_again_for_another_request_is_422_and_spends_nothing(
    client: Client, world: World, db: Database, change: dict[str, Any]
) -> None:
    assert (await redeem(client, world, key="once")).status == 201
    if change.get("agency_id") == "other":
        change = {"agency_id": await make_agency(db)}
    if change.get("voucher") == "other":
        made = await make_program(client, world.official.headers)
        (voucher,) = await issue(client, world.official.headers, made["id"], world.enterprise_id)
        change = {"voucher_id": voucher["id"]}
    before = await spent(db)
    error = await refused(await redeem(client, world, key="once", **change), 422, "idempotency_key_reused")
    assert error["message"] == "this Idempotency-Key was already used for a different request"
    assert error["details"] == [
        {"field": "Idempotency-Key", "message": "already used with a different body or voucher"}
    ]
    assert await spent(db) == before


async def test_without_a_key_the_same_request_spends_twice(client: Client, world: World, db: Database) -> None:
    assert (await redeem(client, world)).status == 201
    again = await redeem(client, world)
    assert again.status == 201
    assert "Idempotent-Replayed" not in again.headers
    assert (await again.json())["voucher_balance_fen"] == 380_000
    assert (await spent(db))[2] == 0


async def test_a_key_taken_by_a_request_not_yet_committed_when_read_is_409_in_use_and_spends_nothing(
    client: Client, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests with one key for two vouchers lock different rows: both may read "no record" before either
    commits; the second's write then meets the first's record (the key's uniqueness) and is answered 409."""
    assert (await redeem(client, world, key="raced")).status == 201
    before = await spent(db)
    balance = (await spent_voucher(db, world.voucher["id"]))[1]

    async def read_before_the_other_committed(*_args: Any) -> None:
        return None

    monkeypatch.setattr(repository, "idempotency_record", read_before_the_other_committed)
    error = await refused(await redeem(client, world, key="raced"), 409, "idempotency_key_in_use")
    assert (
        error["message"] == "another request with this Idempotency-Key is being processed; retry it to get its answer"
    )
    assert await spent(db) == before
    assert (await spent_voucher(db, world.voucher["id"]))[1] == balance


async def spent_voucher(db: Database, voucher_id: int) -> tuple[str, int]:
    async with db.transaction(write=False) as session:
        voucher = await session.get(Voucher, voucher_id)
        assert voucher is not None
        return voucher.state, voucher.balance_fen
