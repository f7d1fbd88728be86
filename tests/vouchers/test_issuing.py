"""`vouchers.issuing` tested directly where the routes cannot reach (the moment a programme ends), and a revocation."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.auth import Role
from core.db import Database
from enterprises.models import Enterprise
from enterprises.service import enterprise_summaries
from tests.conftest import AccountFactory
from tests.vouchers.builders import Client, issue, make_enterprise, make_program
from tests.vouchers.conftest import World
from vouchers.errors import ProgramClosed
from vouchers.issuing import issue_for_application, issue_for_applications
from vouchers.models import Voucher, VoucherProgram


async def test_a_programme_issues_up_to_the_microsecond_before_it_ends_and_nothing_from_that_moment(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    """`valid_until` is the first moment the programme is over (as for the vouchers' expiry): at it exactly, an
    approval and a first-come batch are refused as closed; a microsecond before, the voucher is issued."""
    official = await make_account(Role.OFFICIAL)
    program_id = (await make_program(client, official.headers))["id"]
    enterprise_id = await make_enterprise(db)
    async with db.transaction() as session:
        program = await session.get(VoucherProgram, program_id)
        assert program is not None
        enterprise = (await enterprise_summaries(session, [enterprise_id]))[enterprise_id]
        ended = program.valid_until

        with pytest.raises(ProgramClosed) as closed:
            await issue_for_application(session, None, program, enterprise, "approved", ended)
        assert closed.value.code == "program_closed"
        assert closed.value.details == {"program_id": program_id, "valid_until": ended.isoformat()}
        [refusal] = await issue_for_applications(session, program, [(1, enterprise)], ended)
        assert isinstance(refusal, ProgramClosed)
        assert program.committed_fen == 0

        last = ended - dt.timedelta(microseconds=1)
        voucher = await issue_for_application(session, None, program, enterprise, "approved", last)
        assert (voucher.enterprise_id, voucher.face_value_fen, voucher.issued_at) == (
            enterprise_id,
            program.face_value_fen,
            last,
        )
        assert program.committed_fen == program.face_value_fen


async def test_a_revocation_is_recorded_with_its_reason_and_refused_to_everyone_but_the_programmes_officials(
    client: Client, world: World, make_account: AccountFactory
) -> None:
    """Revoking gives the unspent balance back: the voucher says why, its history names the official and the amount;
    an unknown voucher is 404, another region's official and the other roles are refused and change nothing."""
    url = f"/api/v1/vouchers/{world.voucher['id']}/revoke"
    body = {"reason": "enterprise moved out of the region"}
    elsewhere = await make_account(Role.OFFICIAL, region_code="330200")
    response = await client.post(url, json=body, headers=elsewhere.headers)
    error = (await response.json())["error"]
    assert (response.status, error["code"]) == (403, "outside_jurisdiction")
    for who in (world.enterprise, world.agency):
        response = await client.post(url, json=body, headers=who.headers)
        assert (response.status, (await response.json())["error"]["code"]) == (403, "forbidden")
    response = await client.post("/api/v1/vouchers/999999/revoke", json=body, headers=world.official.headers)
    error = (await response.json())["error"]
    assert (response.status, error["code"], error["message"]) == (404, "not_found", "no voucher 999999")

    response = await client.post(url, json=body, headers=world.official.headers)
    assert response.status == 200, await response.text()
    revoked = await response.json()
    assert (revoked["state"], revoked["balance_fen"]) == ("revoked", 0)
    assert revoked["state_reason"] == "revoked: enterprise moved out of the region"
    detail = await (await client.get(f"/api/v1/vouchers/{world.voucher['id']}", headers=world.official.headers)).json()
    last = detail["history"][-1]
    assert {k: last[k] for k in ("action", "from_state", "to_state", "amount_fen", "balance_delta_fen")} == {
        "action": "revoke",
        "from_state": "issued",
        "to_state": "revoked",
        "amount_fen": world.voucher["face_value_fen"],
        "balance_delta_fen": -world.voucher["face_value_fen"],
    }
    assert (last["program_delta_fen"], last["actor_user_id"], last["reason"]) == (
        -world.voucher["face_value_fen"],
        world.official.user_id,
        "enterprise moved out of the region",
    )


async def test_an_issue_answers_with_its_vouchers_and_totals_and_records_who_issued_them_and_why(
    client: Client, world: World, db: Database
) -> None:
    """The answer lists each voucher (full balance, the reason as its state reason, no agencies listed: officials
    issue, enterprises spend) with the count, the total and the budget left; the voucher row names the official and
    its history the issue with its amounts and reason. Without a reason the voucher says which programme issued it."""
    assert world.voucher["state_reason"] == f"issued from programme {world.program['name']}"
    first, second = await make_enterprise(db), await make_enterprise(db)
    response = await client.post(
        f"/api/v1/voucher-programs/{world.program['id']}/vouchers",
        json={
            "enterprises": [{"enterprise_id": first}, {"enterprise_id": second, "face_value_fen": 200_000}],
            "reason": "second batch, 2026",
        },
        headers=world.official.headers,
    )
    assert response.status == 201, await response.text()
    body = await response.json()
    face = world.program["face_value_fen"]
    assert (body["program_id"], body["count"], body["total_face_value_fen"], body["remaining_budget_fen"]) == (
        world.program["id"],
        2,
        face + 200_000,
        world.program["budget_fen"] - 2 * face - 200_000,
    )
    issued = body["issued"]
    assert [(v["enterprise_id"], v["face_value_fen"], v["balance_fen"]) for v in issued] == [
        (first, face, face),
        (second, 200_000, 200_000),
    ]
    for voucher in issued:
        assert (voucher["state"], voucher["state_reason"], voucher["spendable"]) == (
            "issued",
            "second batch, 2026",
            True,
        )
        assert (voucher["usable_at"], voucher["expires_at"]) == ([], world.program["valid_until"])
    async with db.transaction(write=False) as session:
        rows = [await session.get(Voucher, v["id"]) for v in [world.voucher, *issued]]
    assert [row.issued_by if row else -1 for row in rows] == [world.official.user_id] * 3
    detail = await (await client.get(f"/api/v1/vouchers/{issued[1]['id']}", headers=world.official.headers)).json()
    (entry,) = detail["history"]
    assert {k: entry[k] for k in ("action", "from_state", "to_state", "amount_fen", "balance_delta_fen")} == {
        "action": "issue",
        "from_state": None,
        "to_state": "issued",
        "amount_fen": 200_000,
        "balance_delta_fen": 200_000,
    }
    assert (entry["program_delta_fen"], entry["actor_user_id"], entry["reason"], entry["at"]) == (
        200_000,
        world.official.user_id,
        "second batch, 2026",
        issued[1]["issued_at"],
    )


@pytest.mark.parametrize(("validity_days", "ends_with_the_programme"), [(30, False), (365, True)])
async def test_a_voucher_lasts_its_validity_days_from_its_issue_but_never_past_the_programmes_end(
    client: Client, world: World, db: Database, validity_days: int, ends_with_the_programme: bool
) -> None:
    program = await make_program(client, world.official.headers, voucher_validity_days=validity_days)
    (voucher,) = await issue(client, world.official.headers, program["id"], world.enterprise_id)
    expires_at = dt.datetime.fromisoformat(voucher["expires_at"])
    issued_at = dt.datetime.fromisoformat(voucher["issued_at"])
    if ends_with_the_programme:
        assert expires_at == dt.datetime.fromisoformat(program["valid_until"])
    else:
        assert expires_at == issued_at + dt.timedelta(days=validity_days)


async def test_issuing_from_an_unknown_programme_is_404_naming_it_and_issues_nothing(
    client: Client, world: World
) -> None:
    response = await client.post(
        "/api/v1/voucher-programs/999999/vouchers",
        json={"enterprises": [{"enterprise_id": world.enterprise_id}]},
        headers=world.official.headers,
    )
    error = (await response.json())["error"]
    assert (response.status, error["code"], error["message"]) == (404, "not_found", "no voucher programme 999999")
    mine = await (await client.get("/api/v1/me/vouchers", headers=world.enterprise.headers)).json()
    assert [v["id"] for v in mine] == [world.voucher["id"]]


async def test_a_programmes_vouchers_are_listed_to_its_officials_and_refused_to_everyone_else(
    client: Client, world: World, db: Database, make_account: AccountFactory
) -> None:
    """The list holds the programme's vouchers only, in the order issued, without the agencies (an official's view);
    another region's official is refused by jurisdiction, the enterprise and the agency by role, an unknown
    programme is 404."""
    other_program = await make_program(client, world.official.headers)
    await issue(client, world.official.headers, other_program["id"], world.enterprise_id)
    second = await make_enterprise(db)
    (voucher,) = await issue(client, world.official.headers, world.program["id"], second)
    url = f"/api/v1/voucher-programs/{world.program['id']}/vouchers"
    response = await client.get(url, headers=world.official.headers)
    assert response.status == 200, await response.text()
    listed = await response.json()
    assert [(v["id"], v["program_id"], v["enterprise_id"]) for v in listed] == [
        (world.voucher["id"], world.program["id"], world.enterprise_id),
        (voucher["id"], world.program["id"], second),
    ]
    assert all(v["usable_at"] == [] and v["spendable"] for v in listed)

    elsewhere = await make_account(Role.OFFICIAL, region_code="330200")
    response = await client.get(url, headers=elsewhere.headers)
    error = (await response.json())["error"]
    assert (response.status, error["code"], error["message"]) == (
        403,
        "outside_jurisdiction",
        f"programme {world.program['id']} is in region 330100, outside your jurisdiction (330200)",
    )
    for who in (world.enterprise, world.agency):
        response = await client.get(url, headers=who.headers)
        assert (response.status, (await response.json())["error"]["code"]) == (403, "forbidden")
    response = await client.get("/api/v1/voucher-programs/999999/vouchers", headers=world.official.headers)
    error = (await response.json())["error"]
    assert (response.status, error["code"], error["message"]) == (404, "not_found", "no voucher programme 999999")


async def test_a_csv_row_whose_enterprise_cannot_have_its_voucher_is_refused_by_line_and_column_and_nothing_is_issued(
    client: Client, world: World, db: Database
) -> None:
    """From a file the refusal names each row's line and the column at fault (the face value, or the enterprise's
    credit code), and the message the first of them."""
    unqualified = await make_enterprise(db, qualification="none")
    async with db.transaction(write=False) as session:
        codes = dict((await session.execute(select(Enterprise.id, Enterprise.credit_code))).all())
    text = (
        "credit_code,face_value_fen\n"
        f"{codes[world.enterprise_id]},500001\n"
        f"{codes[unqualified]},\n"
        f"{codes[world.enterprise_id]},100000\n"
    )
    url = f"/api/v1/voucher-programs/{world.program['id']}/vouchers"
    response = await client.post(
        url, data=text.encode(), headers={**world.official.headers, "Content-Type": "text/csv"}
    )
    error = (await response.json())["error"]
    assert (response.status, error["code"]) == (422, "not_eligible")
    assert error["message"] == "line 2: above the programme's face value of 500000 fen; nothing was issued"
    assert error["details"] == [
        {"line": 2, "column": "face_value_fen", "message": "above the programme's face value of 500000 fen"},
        {
            "line": 3,
            "column": "credit_code",
            "message": "enterprise qualification is none; needs provincial_specialized",
        },
    ]
    listed = await (await client.get(url, headers=world.official.headers)).json()
    assert [v["id"] for v in listed] == [world.voucher["id"]]
