"""`vouchers.issuing` tested directly where the routes cannot reach (the moment a programme ends), and a revocation."""

from __future__ import annotations

import datetime as dt

import pytest

from core.auth import Role
from core.db import Database
from enterprises.service import enterprise_summaries
from tests.conftest import AccountFactory
from tests.vouchers.builders import Client, make_enterprise, make_program
from tests.vouchers.conftest import World
from vouchers.errors import ProgramClosed
from vouchers.issuing import issue_for_application, issue_for_applications
from vouchers.models import VoucherProgram


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
