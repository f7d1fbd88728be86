"""`vouchers.issuing` tested directly where the routes cannot reach: the moment a programme ends."""

from __future__ import annotations

import datetime as dt

import pytest

from core.auth import Role
from core.db import Database
from enterprises.service import enterprise_summaries
from tests.conftest import AccountFactory
from tests.vouchers.builders import Client, make_enterprise, make_program
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
