"""Applications under real concurrency: simultaneous requests through the app (parallel transactions queuing on the
programme's row lock on PostgreSQL, on the write lock on SQLite). The budget is never exceeded, no enterprise gets
two vouchers from one programme, every applicant gets a definite answer, and the ledger check finds 0 differences."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from sqlalchemy import func, select

from core.auth import Role
from core.db import Database
from tests.conftest import Account, AccountFactory
from tests.vouchers.builders import Client, make_enterprise, make_program
from tests.vouchers.test_applications import apply, window
from vouchers.ledger import check_ledger
from vouchers.models import Voucher, VoucherApplication, VoucherProgram

APPLICANTS = 40
FACE = 500_000
FITS = 15  # vouchers the budget pays for


async def applicants(db: Database, make_account: AccountFactory, n: int) -> list[Account]:
    return [await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db)) for _ in range(n)]


async def books(db: Database, program_id: int) -> tuple[int, int, list[int], int]:
    """(committed, budget, vouchers per enterprise of the programme, ledger differences)."""
    async with db.transaction(write=False) as session:
        program = await session.get(VoucherProgram, program_id)
        assert program is not None
        per_enterprise = (
            await session.scalars(
                select(func.count()).where(Voucher.program_id == program_id).group_by(Voucher.enterprise_id)
            )
        ).all()
        differences = len(list(await check_ledger(session)))
        return program.committed_fen, program.budget_fen, list(per_enterprise), differences


async def test_an_opening_burst_on_a_first_come_programme_never_passes_the_budget(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    program = await make_program(
        client, official.headers, budget_fen=FITS * FACE, face_value_fen=FACE, applications=window("fcfs")
    )
    staff = await applicants(db, make_account, APPLICANTS)

    async def one(who: Account) -> tuple[int, dict[str, Any]]:
        response = await apply(client, who, program["id"])
        return response.status, await response.json()

    answers = await asyncio.gather(*(one(s) for s in staff))
    assert {status for status, _ in answers} == {201}, answers
    states = Counter(body["state"] for _, body in answers)
    assert states == {"approved": FITS, "waitlisted": APPLICANTS - FITS}
    approved = [body for _, body in answers if body["state"] == "approved"]
    assert len({body["voucher_id"] for body in approved}) == FITS
    # First come, first served: decided one at a time under the programme's lock, every approval before the first
    # waitlisting (nothing gave money back in between).
    last_approval = max(body["decided_at"] for body in approved)
    assert all(body["decided_at"] >= last_approval for _, body in answers if body["state"] == "waitlisted")
    committed, budget, per_enterprise, differences = await books(db, program["id"])
    assert (committed, budget) == (FITS * FACE, FITS * FACE)
    assert per_enterprise == [1] * FITS
    assert differences == 0


async def test_one_enterprise_submitting_many_times_at_once_gets_one_application_and_one_voucher(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    fcfs = await make_program(client, official.headers, applications=window("fcfs"))
    reviewed = await make_program(client, official.headers, applications=window("official"))
    (staff,) = await applicants(db, make_account, 1)

    for program in (fcfs, reviewed):

        async def one(program_id: int = program["id"]) -> tuple[int, dict[str, Any]]:
            response = await apply(client, staff, program_id)
            return response.status, await response.json()

        answers = await asyncio.gather(*(one() for _ in range(30)))
        assert sorted(status for status, _ in answers) == [200] * 29 + [201], answers
        assert len({body["id"] for _, body in answers}) == 1
        assert len({body["state"] for _, body in answers}) == 1
    async with db.transaction(write=False) as session:
        rows = (await session.scalars(select(VoucherApplication))).all()
        assert sorted((a.program_id, a.state) for a in rows) == [
            (fcfs["id"], "approved"),
            (reviewed["id"], "submitted"),
        ]
    assert (await books(db, fcfs["id"]))[2:] == ([1], 0)


async def test_officials_approving_overlapping_batches_at_once_never_issue_twice_or_past_the_budget(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    officials = [await make_account(Role.OFFICIAL) for _ in range(3)]
    program = await make_program(
        client, officials[0].headers, budget_fen=FITS * FACE, face_value_fen=FACE, applications=window("official")
    )
    staff = await applicants(db, make_account, 24)
    ids = [(await (await apply(client, s, program["id"])).json())["id"] for s in staff]

    async def bulk(official: Account, chosen: list[int]) -> dict[str, Any]:
        response = await client.post(
            "/api/v1/voucher-applications/decisions",
            json={"application_ids": chosen, "decision": "approve"},
            headers=official.headers,
        )
        assert response.status == 200, await response.text()
        result: dict[str, Any] = await response.json()
        return result

    async def single(official: Account, application_id: int) -> int:
        response = await client.post(
            f"/api/v1/voucher-applications/{application_id}/decision",
            json={"decision": "approve"},
            headers=official.headers,
        )
        await response.read()
        return response.status

    batches = [ids[:16], ids[8:], list(reversed(ids))]
    results, singles = await asyncio.gather(
        asyncio.gather(*(bulk(o, b) for o, b in zip(officials, batches, strict=True))),
        asyncio.gather(*(single(officials[i % 3], ids[i]) for i in range(0, 24, 3))),
    )
    assert set(singles) <= {200, 409}
    ok = Counter(r["application_id"] for result in results for r in result["results"] if r["ok"])
    ok.update(ids[i] for n, i in enumerate(range(0, 24, 3)) if singles[n] == 200)
    assert set(ok.values()) == {1}  # each application approved by exactly one request
    assert len(ok) == FITS
    refusals = {r["error"]["code"] for result in results for r in result["results"] if not r["ok"]}
    assert refusals <= {"budget_exceeded", "application_decided"}
    async with db.transaction(write=False) as session:
        states = Counter((await session.scalars(select(VoucherApplication.state))).all())
    assert states == {"approved": FITS, "submitted": 24 - FITS}
    committed, budget, per_enterprise, differences = await books(db, program["id"])
    assert (committed, budget, per_enterprise, differences) == (FITS * FACE, FITS * FACE, [1] * FITS, 0)
