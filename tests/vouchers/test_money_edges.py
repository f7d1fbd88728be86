"""Fen arithmetic at the edges: the voucher's share of a price rounds down to the fen, a share that rounds to
nothing is refused, the last fen of a balance is spent exactly, and the largest amounts the API accepts add up."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from core.auth import Role
from core.db import Database
from tests.conftest import AccountFactory
from tests.vouchers.builders import Client, issue, make_agency, make_enterprise, make_program
from tests.vouchers.test_flow import assert_books_balance

LARGEST_FEN = 10**12  # the most a programme's budget or a voucher's face value may be
LARGEST_PRICE_FEN = 100_000_000  # the most an agency may list for a service


async def spend_world(
    client: Client,
    db: Database,
    make_account: AccountFactory,
    *,
    share_bp: int,
    face_value_fen: int,
    budget_fen: int = 10_000_000,
    price_max_fen: int = 800_000,
) -> tuple[dict[str, Any], dict[str, str], dict[str, str], int]:
    """A programme with this share and face value, one voucher of it, its enterprise's headers and an agency."""
    official = await make_account(Role.OFFICIAL)
    enterprise_id = await make_enterprise(db)
    agency_id = await make_agency(db, services=[("invention", 1, price_max_fen)])
    program = await make_program(
        client, official.headers, share_bp=share_bp, face_value_fen=face_value_fen, budget_fen=budget_fen
    )
    (voucher,) = await issue(client, official.headers, program["id"], enterprise_id)
    staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id)
    return voucher, staff.headers, official.headers, agency_id


async def redeem(client: Client, voucher_id: int, headers: dict[str, str], agency_id: int, price_fen: int) -> Any:
    body = {"agency_id": agency_id, "service_code": "invention", "price_fen": price_fen}
    return await client.post(f"/api/v1/vouchers/{voucher_id}/redeem", json=body, headers=headers)


@pytest.mark.parametrize(
    ("share_bp", "price_fen", "voucher_pays"),
    [
        (6000, 100_001, 60_000),  # 60 000.6 fen: the voucher pays 60 000, the enterprise the odd fen and the rest
        (6000, 100_003, 60_001),  # 60 001.8 → 60 001
        (3333, 4, 1),  # 1.3332 → one fen
        (9999, 100_000, 99_990),
        (10000, 123_457, 123_457),  # the whole price: nothing to round
        (1, 10_000, 1),  # the smallest share of the smallest price that still pays a fen
    ],
)
async def test_the_voucher_pays_its_share_rounded_down_to_the_fen(
    client: Client, db: Database, make_account: AccountFactory, share_bp: int, price_fen: int, voucher_pays: int
) -> None:
    voucher, headers, _, agency_id = await spend_world(
        client, db, make_account, share_bp=share_bp, face_value_fen=500_000
    )
    response = await redeem(client, voucher["id"], headers, agency_id, price_fen)
    assert response.status == 201, await response.text()
    redemption = await response.json()
    assert redemption["amount_fen"] == voucher_pays
    assert redemption["enterprise_share_fen"] == price_fen - voucher_pays
    assert redemption["voucher_balance_fen"] == 500_000 - voucher_pays
    assert redemption["voucher_state"] == "partially_redeemed"
    await assert_books_balance(db)


@pytest.mark.parametrize(("share_bp", "price_fen"), [(3333, 3), (6000, 1), (1, 9_999), (9999, 1)])
async def test_a_price_whose_share_rounds_to_nothing_is_422_and_spends_nothing(
    client: Client, db: Database, make_account: AccountFactory, share_bp: int, price_fen: int
) -> None:
    voucher, headers, _, agency_id = await spend_world(
        client, db, make_account, share_bp=share_bp, face_value_fen=500_000
    )
    response = await redeem(client, voucher["id"], headers, agency_id, price_fen)
    assert response.status == 422, await response.text()
    error = (await response.json())["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["field"] == "price_fen"
    detail = await (await client.get(f"/api/v1/vouchers/{voucher['id']}", headers=headers)).json()
    assert (detail["balance_fen"], detail["state"], detail["redemptions"]) == (500_000, "issued", [])


async def test_the_last_fen_is_spent_exactly_and_the_share_is_capped_at_the_balance(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    voucher, headers, _, agency_id = await spend_world(client, db, make_account, share_bp=10000, face_value_fen=1_000)
    first = await (await redeem(client, voucher["id"], headers, agency_id, 999)).json()
    assert (first["amount_fen"], first["voucher_balance_fen"], first["voucher_state"]) == (999, 1, "partially_redeemed")

    # The share (5 fen) is more than the one fen left: the voucher pays that fen, the enterprise the rest.
    last = await redeem(client, voucher["id"], headers, agency_id, 5)
    assert last.status == 201, await last.text()
    body = await last.json()
    assert (body["amount_fen"], body["enterprise_share_fen"]) == (1, 4)
    assert (body["voucher_balance_fen"], body["voucher_state"]) == (0, "redeemed")

    spent = await redeem(client, voucher["id"], headers, agency_id, 5)
    assert spent.status == 409
    assert (await spent.json())["error"]["code"] == "illegal_transition"
    await assert_books_balance(db)


async def test_the_largest_amounts_are_spent_and_reported_to_the_fen(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    voucher, headers, official, agency_id = await spend_world(
        client,
        db,
        make_account,
        share_bp=9999,
        face_value_fen=LARGEST_FEN,
        budget_fen=LARGEST_FEN,
        price_max_fen=LARGEST_PRICE_FEN,
    )
    response = await redeem(client, voucher["id"], headers, agency_id, LARGEST_PRICE_FEN)
    assert response.status == 201, await response.text()
    redemption = await response.json()
    share = LARGEST_PRICE_FEN * 9999 // 10000
    assert (redemption["amount_fen"], redemption["enterprise_share_fen"]) == (share, LARGEST_PRICE_FEN - share)
    assert redemption["voucher_balance_fen"] == LARGEST_FEN - share

    report = await (
        await client.get(f"/api/v1/voucher-programs/{voucher['program_id']}/report", headers=official)
    ).json()
    assert report["totals"]["issued_fen"] == LARGEST_FEN
    assert report["totals"]["redeemed_fen"] == share
    assert report["totals"]["remaining_budget_fen"] == 0
    await assert_books_balance(db)


async def test_issuing_may_use_the_budget_and_the_yearly_cap_to_the_last_fen_and_not_one_more(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    program = await make_program(
        client, official.headers, budget_fen=1_000_001, face_value_fen=500_000, per_enterprise_year_cap_fen=600_001
    )
    url = f"/api/v1/voucher-programs/{program['id']}/vouchers"
    first, second, third = [await make_enterprise(db) for _ in range(3)]

    def items(*pairs: tuple[int, int]) -> dict[str, Any]:
        return {"enterprises": [{"enterprise_id": e, "face_value_fen": f} for e, f in pairs]}

    # Exactly at the cap: allowed; one fen more for that enterprise this year: refused, nothing issued.
    response = await client.post(url, json=items((first, 500_000), (first, 100_001)), headers=official.headers)
    assert response.status == 201, await response.text()
    response = await client.post(url, json=items((first, 1), (second, 1)), headers=official.headers)
    assert response.status == 409
    error = (await response.json())["error"]
    assert error["code"] == "enterprise_cap_exceeded"
    assert error["details"] == {"enterprise_id": first, "already_fen": 600_001, "requested_fen": 1, "cap_fen": 600_001}
    year = dt.datetime.now(dt.UTC).year
    assert error["message"] == (
        f"enterprise {first} would receive 600002 fen from this programme in {year}; the cap is 600001 fen"
    )

    # 400 000 fen are left: exactly that is allowed, one fen more is not.
    response = await client.post(url, json=items((second, 200_000), (third, 200_001)), headers=official.headers)
    assert response.status == 409
    error = (await response.json())["error"]
    assert error["code"] == "budget_exceeded"
    assert error["details"] == {"requested_fen": 400_001, "remaining_fen": 400_000, "budget_fen": 1_000_001}
    assert error["message"] == "issuing 400001 fen would exceed the programme's remaining budget of 400000 fen"
    response = await client.post(url, json=items((second, 200_000), (third, 200_000)), headers=official.headers)
    assert response.status == 201, await response.text()
    assert (await response.json())["remaining_budget_fen"] == 0


async def test_a_voucher_may_be_worth_the_programmes_face_value_but_not_one_fen_more(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    program = await make_program(client, official.headers, face_value_fen=500_000)
    enterprise = await make_enterprise(db)
    url = f"/api/v1/voucher-programs/{program['id']}/vouchers"
    over = {"enterprises": [{"enterprise_id": enterprise, "face_value_fen": 500_001}]}
    response = await client.post(url, json=over, headers=official.headers)
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["details"][0]["field"].endswith("face_value_fen")
    whole = {"enterprises": [{"enterprise_id": enterprise, "face_value_fen": 500_000}]}
    response = await client.post(url, json=whole, headers=official.headers)
    assert response.status == 201, await response.text()
    assert [(v["face_value_fen"], v["balance_fen"]) for v in (await response.json())["issued"]] == [(500_000, 500_000)]
