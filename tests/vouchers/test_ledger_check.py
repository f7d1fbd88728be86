"""The ledger check against every kind of tampering, one at a time, on books that went through every kind of move:
it names exactly the row and the field that disagree with the audit record, and nothing else."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from core.db import Database
from tests.vouchers.builders import EVIDENCE, Client, issue, make_enterprise, make_program
from tests.vouchers.conftest import World
from vouchers.ledger import check_ledger
from vouchers.models import Redemption, Voucher, VoucherProgram


async def differences(db: Database) -> list[tuple[str, int, str, Any, Any]]:
    async with db.transaction(write=False) as session:
        found = await check_ledger(session)
    return [(d.subject, d.subject_id, d.field, d.stored, d.from_audit) for d in found]


async def post(client: Client, path: str, headers: dict[str, str], body: dict[str, Any] | None = None) -> Any:
    response = await client.post(path, json=body or {}, headers=headers)
    assert response.status in (200, 201), await response.text()
    return await response.json()


async def busy_books(client: Client, world: World, db: Database) -> dict[str, int]:
    """One voucher with a settled, a rejected and a cancelled redemption; a second, revoked with a pending one
    cancelled after the revocation (its amount goes back to the budget)."""
    redeem = f"/api/v1/vouchers/{world.voucher['id']}/redeem"
    body = {"agency_id": world.agency_id, "service_code": "invention", "price_fen": 100_000}
    ids = [(await post(client, redeem, world.enterprise.headers, body))["id"] for _ in range(3)]
    settled, rejected, cancelled = ids
    for rid in (settled, rejected):
        await post(client, f"/api/v1/redemptions/{rid}/confirm", world.agency.headers, EVIDENCE)
    await post(
        client, f"/api/v1/redemptions/{settled}/settle", world.official.headers, {"decision": "approve", "reason": "ok"}
    )
    await post(
        client, f"/api/v1/redemptions/{rejected}/settle", world.official.headers, {"decision": "reject", "reason": "no"}
    )
    await post(client, f"/api/v1/redemptions/{cancelled}/cancel", world.enterprise.headers)

    (second,) = await issue(client, world.official.headers, world.program["id"], world.enterprise_id)
    body = {"agency_id": world.agency_id, "service_code": "invention", "price_fen": 50_000}
    pending = (await post(client, f"/api/v1/vouchers/{second['id']}/redeem", world.enterprise.headers, body))["id"]
    await post(client, f"/api/v1/vouchers/{second['id']}/revoke", world.official.headers, {"reason": "moved"})
    await post(client, f"/api/v1/redemptions/{pending}/cancel", world.official.headers, {"reason": "revoked"})
    assert await differences(db) == []
    return {"voucher": world.voucher["id"], "revoked": second["id"], "settled": settled, "rejected": rejected}


async def tamper(db: Database, model: Any, row_id: int, **values: Any) -> None:
    async with db.transaction() as session:
        await session.execute(update(model).where(model.id == row_id).values(**values))


async def voucher_without_audit(world: World, db: Database) -> int:
    """A 1 000-fen voucher of the programme for a new enterprise, written straight to its table: no audit row."""
    enterprise = await make_enterprise(db)
    async with db.transaction() as session:
        source = await session.get(Voucher, world.voucher["id"])
        assert source is not None
        forged = Voucher(
            program_id=world.program["id"],
            enterprise_id=enterprise,
            face_value_fen=1_000,
            balance_fen=1_000,
            state="issued",
            expires_at=source.expires_at,
            issued_at=source.issued_at,
            updated_at=source.updated_at,
        )
        session.add(forged)
        await session.flush()
        return forged.id


async def test_books_that_went_through_every_move_balance(client: Client, world: World, db: Database) -> None:
    await busy_books(client, world, db)


async def test_a_tampered_voucher_state_is_named(client: Client, world: World, db: Database) -> None:
    books = await busy_books(client, world, db)
    await tamper(db, Voucher, books["voucher"], state="issued")
    assert await differences(db) == [("voucher", books["voucher"], "state", "issued", "partially_redeemed")]


async def test_a_tampered_balance_disagrees_with_the_audit_and_with_the_redemptions(
    client: Client, world: World, db: Database
) -> None:
    books = await busy_books(client, world, db)
    await tamper(db, Voucher, books["voucher"], balance_fen=400_001)
    assert await differences(db) == [
        ("voucher", books["voucher"], "balance_fen", 400_001, 380_000),
        ("voucher", books["voucher"], "face_minus_redemptions", 400_001, 380_000),
    ]


async def test_a_tampered_redemption_amount_disagrees_with_its_vouchers_balance(
    client: Client, world: World, db: Database
) -> None:
    books = await busy_books(client, world, db)
    await tamper(db, Redemption, books["settled"], amount_fen=60_001, enterprise_share_fen=39_999)
    assert await differences(db) == [("voucher", books["voucher"], "face_minus_redemptions", 380_000, 379_999)]


async def test_a_tampered_redemption_state_is_named(client: Client, world: World, db: Database) -> None:
    books = await busy_books(client, world, db)
    await tamper(db, Redemption, books["rejected"], state="settled")
    assert await differences(db) == [("redemption", books["rejected"], "state", "settled", "rejected")]


async def test_a_tampered_commitment_is_named(client: Client, world: World, db: Database) -> None:
    await busy_books(client, world, db)
    # Issued 500 000 twice; back to the budget: the rejected 60 000, the revoked voucher's unspent 470 000 and the
    # 30 000 of its redemption cancelled after the revocation.
    committed = 1_000_000 - 60_000 - 470_000 - 30_000
    await tamper(db, VoucherProgram, world.program["id"], committed_fen=committed + 1)
    assert await differences(db) == [("program", world.program["id"], "committed_fen", committed + 1, committed)]


async def test_a_voucher_without_audit_rows_is_named(client: Client, world: World, db: Database) -> None:
    await busy_books(client, world, db)
    forged_id = await voucher_without_audit(world, db)
    assert await differences(db) == [("voucher", forged_id, "audit", "present", "missing")]


async def test_a_commitment_above_the_budget_is_named_and_one_at_the_budget_is_not(world: World, db: Database) -> None:
    """A programme spent to exactly its budget is in order. Above it, the table's own check refuses the row: with the
    check set aside in one transaction that is rolled back, the ledger names it as well as the commitment's own
    difference from the audit rows."""
    program_id = world.program["id"]  # one voucher of 500 000 issued: 500 000 committed
    await tamper(db, VoucherProgram, program_id, budget_fen=500_000)
    assert await differences(db) == []
    async with db.transaction() as session:
        connection = await session.connection()
        postgres = connection.dialect.name == "postgresql"
        if postgres:  # DDL is transactional there: the rollback puts the constraint back
            await connection.exec_driver_sql(
                "ALTER TABLE voucher_programs DROP CONSTRAINT ck_voucher_programs_committed_within_budget"
            )
        else:
            await connection.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
        try:
            await session.execute(
                update(VoucherProgram).where(VoucherProgram.id == program_id).values(committed_fen=500_001)
            )
            found = [(d.subject, d.subject_id, d.field, d.stored, d.from_audit) for d in await check_ledger(session)]
        finally:
            if not postgres:
                await connection.exec_driver_sql("PRAGMA ignore_check_constraints = OFF")
            await session.rollback()
    assert found == [
        ("program", program_id, "committed_fen", 500_001, 500_000),
        ("program", program_id, "budget_fen", 500_000, 500_001),
    ]


async def test_a_voucher_without_audit_rows_does_not_hide_the_vouchers_after_it(
    client: Client, world: World, db: Database
) -> None:
    forged_id = await voucher_without_audit(world, db)
    (later,) = await issue(client, world.official.headers, world.program["id"], await make_enterprise(db))
    assert later["id"] > forged_id
    await tamper(db, Voucher, later["id"], balance_fen=499_999)
    assert await differences(db) == [
        ("voucher", forged_id, "audit", "present", "missing"),
        ("voucher", later["id"], "balance_fen", 499_999, 500_000),
        ("voucher", later["id"], "face_minus_redemptions", 499_999, 500_000),
    ]


async def test_differences_are_listed_by_id_whatever_order_the_rows_were_last_written_in(
    client: Client, world: World, db: Database
) -> None:
    """The later rows are changed first: PostgreSQL stores a row's new version after the others, so a table read in
    its stored order would list them first."""
    books = await busy_books(client, world, db)
    unused = await make_program(client, world.official.headers)  # no voucher issued: nothing committed, no audit rows
    await tamper(db, Voucher, books["revoked"], state="issued")
    await tamper(db, Voucher, books["voucher"], state="issued")
    await tamper(db, VoucherProgram, unused["id"], committed_fen=1)
    await tamper(db, VoucherProgram, world.program["id"], committed_fen=440_001)
    await tamper(db, Redemption, books["rejected"], state="settled")
    await tamper(db, Redemption, books["settled"], state="rejected")
    assert await differences(db) == [
        ("voucher", books["voucher"], "state", "issued", "partially_redeemed"),
        ("voucher", books["revoked"], "state", "issued", "revoked"),
        ("program", world.program["id"], "committed_fen", 440_001, 440_000),
        ("program", unused["id"], "committed_fen", 1, 0),
        ("redemption", books["settled"], "state", "rejected", "settled"),
        ("redemption", books["rejected"], "state", "settled", "rejected"),
    ]
