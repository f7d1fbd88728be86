"""From plan to agency: region + service + field, best credit first, voucher-payable agencies marked with what
the enterprise pays itself (the vouchers' own participation rule and share)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from core.auth import Role
from core.db import Database
from tests.agencies.builders import make_agency
from tests.conftest import AccountFactory
from tests.vouchers.builders import issue, make_enterprise, make_program

Client = TestClient[Any, Any]
AGENCIES = "/api/v1/fast-track/agencies"
ASSIST = ("priority_exam_assist", 200_000, 500_000)


async def test_agencies_for_a_route_best_credit_first_with_vouchers_marked(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    best = await make_agency(db, region_code="330106", services=(ASSIST,), fields=("new_energy",), score=98)
    good_no_vouchers = await make_agency(
        db, region_code="330108", services=(ASSIST,), fields=("new_energy",), score=88, accepts_vouchers=False
    )
    await make_agency(db, region_code="330106", services=(("invention", 1, 2),), fields=("new_energy",), score=99)
    await make_agency(db, region_code="320500", services=(ASSIST,), fields=("new_energy",), score=99)
    official = await make_account(Role.OFFICIAL)
    enterprise_id = await make_enterprise(db, region_code="330106")
    program = await make_program(client, official.headers)  # 60 % of the price, Hangzhou, priority_exam_assist
    (voucher,) = await issue(client, official.headers, program["id"], enterprise_id)
    staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id)

    query = "?track=priority_exam&field=new_energy"
    mine = await (await client.get(AGENCIES + query, headers=staff.headers)).json()
    assert mine["service"] == "priority_exam_assist" and mine["field"] == "new_energy"
    assert mine["region"] == "330100" and mine["region_from_profile"] is True
    # Hangzhou only, the service offered, best rating first (the Suzhou agency and the invention-only one are out).
    assert [item["agency"]["id"] for item in mine["items"]] == [best, good_no_vouchers]
    marked = mine["items"][0]["voucher"]
    assert marked["voucher_id"] == voucher["id"] and marked["share_bp"] == 6000
    # The enterprise pays 40 % of the listed price range (the voucher's 60 % is within its 5,000 yuan balance).
    assert (marked["own_share_min_fen"], marked["own_share_max_fen"]) == (80_000, 200_000)
    assert mine["items"][1]["voucher"] is None  # that agency takes no vouchers

    anonymous = await (await client.get(AGENCIES + query + "&region=330100")).json()
    assert [item["agency"]["id"] for item in anonymous["items"]] == [best, good_no_vouchers]
    assert all(item["voucher"] is None for item in anonymous["items"])
    assert anonymous["region_from_profile"] is False


async def test_a_balance_smaller_than_the_share_caps_what_the_voucher_pays(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency = await make_agency(db, region_code="330106", services=(ASSIST,), fields=("new_energy",), score=95)
    official = await make_account(Role.OFFICIAL)
    enterprise_id = await make_enterprise(db, region_code="330106")
    program = await make_program(client, official.headers)
    await issue(client, official.headers, program["id"], enterprise_id, face_value_fen=100_000)
    staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id)
    answer = await (await client.get(AGENCIES + "?track=priority_exam", headers=staff.headers)).json()
    (item,) = answer["items"]
    assert item["agency"]["id"] == agency
    # 60 % of 200,000 is 120,000 but the voucher holds 100,000: the enterprise pays 100,000 of the low price.
    assert item["voucher"]["own_share_min_fen"] == 100_000
    assert item["voucher"]["own_share_max_fen"] == 400_000


async def test_bad_route_or_region_is_a_422(client: Client) -> None:
    for query, field in (("?track=fastest", "query.track"), ("?track=pph&region=990000", "query.region")):
        response = await client.get(AGENCIES + query)
        assert response.status == 422
        assert (await response.json())["error"]["details"][0]["field"] == field
