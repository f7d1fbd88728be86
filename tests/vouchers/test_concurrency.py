"""Real concurrency: ≥ 50 simultaneous requests through the app, exact balances and audit rows afterwards.

On PostgreSQL the requests run in parallel transactions and queue on row locks; on SQLite they queue on the
write lock. Either way: no money created or lost, and the ledger check finds 0 differences.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from core.auth import Role
from core.db import Database
from tests.conftest import AccountFactory
from tests.vouchers.builders import EVIDENCE, Client, make_enterprise, make_program
from tests.vouchers.conftest import World
from vouchers.ledger import check_ledger
from vouchers.models import Redemption, Voucher, VoucherAudit, VoucherProgram

N = 60


async def audit_actions(db: Database, voucher_id: int) -> list[str]:
    async with db.transaction(write=False) as session:
        rows = await session.scalars(
            select(VoucherAudit.action).where(VoucherAudit.voucher_id == voucher_id).order_by(VoucherAudit.id)
        )
        return list(rows.all())


async def ledger_differences(db: Database) -> list[Any]:
    async with db.transaction(write=False) as session:
        return list(await check_ledger(session))


async def test_simultaneous_redemptions_of_one_voucher_never_overspend(
    client: Client, world: World, db: Database
) -> None:
    body = {"agency_id": world.agency_id, "service_code": "invention", "price_fen": 100_000}  # 60 000 each

    async def attempt(i: int) -> int:
        response = await client.post(
            f"/api/v1/vouchers/{world.voucher['id']}/redeem",
            json=body,
            headers={**world.enterprise.headers, "Idempotency-Key": f"k-{i}"},
        )
        await response.read()
        return response.status

    statuses = await asyncio.gather(*(attempt(i) for i in range(N)))
    # 500 000 fen: eight redemptions of 60 000, a ninth capped at the remaining 20 000, then nothing is left.
    assert statuses.count(201) == 9
    assert statuses.count(409) == N - 9
    async with db.transaction(write=False) as session:
        voucher = await session.get(Voucher, world.voucher["id"])
        assert voucher is not None
        assert (voucher.balance_fen, voucher.state) == (0, "redeemed")
        amounts = sorted((await session.scalars(select(Redemption.amount_fen))).all())
    assert amounts == [20_000] + [60_000] * 8
    assert await audit_actions(db, world.voucher["id"]) == ["issue"] + ["redeem"] * 9
    assert await ledger_differences(db) == []


async def test_simultaneous_replays_of_one_idempotency_key_have_one_effect(
    client: Client, world: World, db: Database
) -> None:
    body = {"agency_id": world.agency_id, "service_code": "invention", "price_fen": 100_000}
    headers = {**world.enterprise.headers, "Idempotency-Key": "pay-invoice-7"}

    async def attempt() -> tuple[int, str]:
        response = await client.post(f"/api/v1/vouchers/{world.voucher['id']}/redeem", json=body, headers=headers)
        return response.status, await response.text()

    results = await asyncio.gather(*(attempt() for _ in range(N)))
    assert {status for status, _ in results} == {201}
    assert len({text for _, text in results}) == 1  # the same answer, byte for byte
    async with db.transaction(write=False) as session:
        voucher = await session.get(Voucher, world.voucher["id"])
        assert voucher is not None
        assert voucher.balance_fen == 500_000 - 60_000
        assert await session.scalar(select(func.count()).select_from(Redemption)) == 1
    assert await audit_actions(db, world.voucher["id"]) == ["issue", "redeem"]

    different = await client.post(
        f"/api/v1/vouchers/{world.voucher['id']}/redeem", json={**body, "price_fen": 200_000}, headers=headers
    )
    assert different.status == 422
    assert (await different.json())["error"]["code"] == "idempotency_key_reused"
    assert await audit_actions(db, world.voucher["id"]) == ["issue", "redeem"]
    assert await ledger_differences(db) == []


async def test_officials_issuing_at_once_never_pass_the_budget(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    officials = [await make_account(Role.OFFICIAL) for _ in range(3)]
    enterprises = [await make_enterprise(db) for _ in range(6)]
    program = await make_program(client, officials[0].headers, budget_fen=5_000_000, face_value_fen=500_000)

    async def attempt(i: int) -> int:
        response = await client.post(
            f"/api/v1/voucher-programs/{program['id']}/vouchers",
            json={"enterprises": [{"enterprise_id": enterprises[i % len(enterprises)]}]},
            headers=officials[i % len(officials)].headers,
        )
        await response.read()
        return response.status

    statuses = await asyncio.gather(*(attempt(i) for i in range(N)))
    assert statuses.count(201) == 10
    assert statuses.count(409) == N - 10
    async with db.transaction(write=False) as session:
        stored = await session.get(VoucherProgram, program["id"])
        assert stored is not None
        assert stored.committed_fen == stored.budget_fen == 5_000_000
        assert await session.scalar(select(func.count()).select_from(Voucher)) == 10
        issue_rows = await session.scalar(
            select(func.count()).select_from(VoucherAudit).where(VoucherAudit.action == "issue")
        )
        assert issue_rows == 10
    assert await ledger_differences(db) == []


async def test_revoking_while_redemptions_race_keeps_the_books_balanced(
    client: Client, world: World, db: Database
) -> None:
    body = {"agency_id": world.agency_id, "service_code": "invention", "price_fen": 50_000}  # 30 000 each

    spent: list[int] = []

    async def spend() -> int:
        response = await client.post(
            f"/api/v1/vouchers/{world.voucher['id']}/redeem", json=body, headers=world.enterprise.headers
        )
        if response.status == 201:
            spent.append((await response.json())["amount_fen"])
        await response.read()
        return response.status

    async def revoke() -> int:
        response = await client.post(
            f"/api/v1/vouchers/{world.voucher['id']}/revoke",
            json={"reason": "fraud suspected"},
            headers=world.official.headers,
        )
        await response.read()
        return response.status

    tasks = [spend() for _ in range(N)]
    tasks.insert(N // 2, revoke())
    statuses = await asyncio.gather(*tasks)
    assert statuses[N // 2] == 200
    assert statuses.count(201) == len(spent)
    async with db.transaction(write=False) as session:
        voucher = await session.get(Voucher, world.voucher["id"])
        program = await session.get(VoucherProgram, world.program["id"])
        assert voucher is not None and program is not None
        assert (voucher.state, voucher.balance_fen) == ("revoked", 0)
        redeemed = int(await session.scalar(select(func.coalesce(func.sum(Redemption.amount_fen), 0))) or 0)
    assert redeemed == sum(spent) <= 500_000
    # Everything not spent before the revocation went back to the budget.
    assert program.committed_fen == redeemed
    assert await ledger_differences(db) == []


async def test_cancel_racing_the_agencys_confirm_exactly_one_wins(client: Client, world: World, db: Database) -> None:
    """Eight pending redemptions; on each, three cancels (the enterprise) and three confirms (the agency) at once."""
    body = {"agency_id": world.agency_id, "service_code": "invention", "price_fen": 100_000}  # 60 000 each
    ids = []
    for _ in range(8):
        response = await client.post(
            f"/api/v1/vouchers/{world.voucher['id']}/redeem", json=body, headers=world.enterprise.headers
        )
        assert response.status == 201
        ids.append((await response.json())["id"])

    async def attempt(redemption_id: int, kind: str) -> tuple[int, str, int]:
        if kind == "cancel":
            response = await client.post(
                f"/api/v1/redemptions/{redemption_id}/cancel", json={}, headers=world.enterprise.headers
            )
        else:
            response = await client.post(
                f"/api/v1/redemptions/{redemption_id}/confirm", json=EVIDENCE, headers=world.agency.headers
            )
        await response.read()
        return redemption_id, kind, response.status

    tasks = [attempt(rid, kind) for _ in range(3) for rid in ids for kind in ("cancel", "confirm")]
    results = await asyncio.gather(*tasks)
    assert len(results) == 48
    winners: dict[int, str] = {}
    for rid in ids:
        mine = [(kind, status) for r, kind, status in results if r == rid]
        assert sorted(status for _, status in mine) == [200] + [409] * 5, mine
        winners[rid] = next(kind for kind, status in mine if status == 200)
    async with db.transaction(write=False) as session:
        states = dict((await session.execute(select(Redemption.id, Redemption.state))).all())
        voucher = await session.get(Voucher, world.voucher["id"])
        assert voucher is not None
        per_redemption = (
            await session.execute(
                select(VoucherAudit.redemption_id, VoucherAudit.action).where(
                    VoucherAudit.action.in_(("cancel", "confirm"))
                )
            )
        ).all()
    assert states == {rid: "cancelled" if kind == "cancel" else "delivered" for rid, kind in winners.items()}
    assert sorted(per_redemption) == sorted(winners.items())  # one audit row per redemption, the winner's
    cancelled = sum(1 for kind in winners.values() if kind == "cancel")
    assert voucher.balance_fen == 20_000 + 60_000 * cancelled
    assert await ledger_differences(db) == []


async def test_cancel_racing_new_redemptions_of_the_same_voucher(client: Client, world: World, db: Database) -> None:
    """A fully used voucher: one cancel frees 480 000 while 60 redemptions of 30 000 arrive at the same time."""
    first = await client.post(
        f"/api/v1/vouchers/{world.voucher['id']}/redeem",
        json={"agency_id": world.agency_id, "service_code": "invention", "price_fen": 800_000},  # 480 000
        headers=world.enterprise.headers,
    )
    freed = (await first.json())["id"]
    rest = await client.post(
        f"/api/v1/vouchers/{world.voucher['id']}/redeem",
        json={"agency_id": world.agency_id, "service_code": "invention", "price_fen": 100_000},  # the last 20 000
        headers=world.enterprise.headers,
    )
    assert (await rest.json())["voucher_state"] == "redeemed"
    body = {"agency_id": world.agency_id, "service_code": "invention", "price_fen": 50_000}  # 30 000 each
    spent: list[int] = []

    async def spend() -> int:
        response = await client.post(
            f"/api/v1/vouchers/{world.voucher['id']}/redeem", json=body, headers=world.enterprise.headers
        )
        if response.status == 201:
            spent.append((await response.json())["amount_fen"])
        await response.read()
        return response.status

    async def cancel() -> int:
        response = await client.post(
            f"/api/v1/redemptions/{freed}/cancel", json={"reason": "wrong service"}, headers=world.enterprise.headers
        )
        await response.read()
        return response.status

    tasks = [spend() for _ in range(N)]
    tasks.insert(N // 2, cancel())
    statuses = await asyncio.gather(*tasks)
    assert statuses[N // 2] == 200
    assert statuses.count(201) == len(spent)
    assert statuses.count(409) == N - len(spent)  # a redemption before the cancel, or after the money ran out
    assert sum(spent) <= 480_000
    async with db.transaction(write=False) as session:
        voucher = await session.get(Voucher, world.voucher["id"])
        assert voucher is not None
        live = int(
            await session.scalar(
                select(func.coalesce(func.sum(Redemption.amount_fen), 0)).where(Redemption.state != "cancelled")
            )
            or 0
        )
    assert voucher.balance_fen == 480_000 - sum(spent)
    assert voucher.state == ("partially_redeemed" if voucher.balance_fen else "redeemed")
    assert live + voucher.balance_fen == 500_000  # no money created or lost
    # Nothing could be spent before the cancel gave the money back: every new redemption comes after it.
    expected = ["issue", "redeem", "redeem", "cancel"] + ["redeem"] * len(spent)
    assert await audit_actions(db, world.voucher["id"]) == expected
    assert await ledger_differences(db) == []
