"""The ledger check against every kind of tampering, one at a time, on books that went through every kind of move:
it names exactly the row and the field that disagree with the audit record, and nothing else."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from core.db import Database
from tests.vouchers.builders import EVIDENCE, Client, issue, make_enterprise
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
    enterprise = await make_enterprise(db)
    async with db.transaction() as session:
        program = await session.get(VoucherProgram, world.program["id"])
        source = await session.get(Voucher, world.voucher["id"])
        assert program is not None and source is not None
        forged = Voucher(
            program_id=program.id,
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
        forged_id = forged.id
    assert await differences(db) == [("voucher", forged_id, "audit", "present", "missing")]
