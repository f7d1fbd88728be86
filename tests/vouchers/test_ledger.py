"""The ledger check finds tampering; the audit table refuses updates; the demo seed is idempotent."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from core.db import Database
from core.settings import Settings
from tests.vouchers.builders import Client
from tests.vouchers.conftest import World
from vouchers.commands import check
from vouchers.ledger import check_ledger
from vouchers.models import Voucher, VoucherApplication, VoucherProgram


async def test_check_reports_zero_differences_then_finds_a_tampered_balance(
    world: World, db: Database, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await check(settings) == 0
    assert "1 vouchers, 0 redemptions, 1 audit rows: 0 differences" in capsys.readouterr().out
    async with db.transaction() as session:
        await session.execute(update(Voucher).where(Voucher.id == world.voucher["id"]).values(balance_fen=499_000))
        await session.execute(update(VoucherProgram).values(committed_fen=1))
    assert await check(settings) == 1
    out = capsys.readouterr().out
    assert "differences" in out and "0 differences" not in out
    assert f"voucher {world.voucher['id']}: balance_fen stored 499000, audit says 500000" in out
    assert "committed_fen stored 1, audit says 500000" in out


async def test_the_audit_record_cannot_be_rewritten(world: World, db: Database) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        async with db.transaction() as session:
            await session.execute(text("UPDATE voucher_audit SET amount_fen = 1"))


async def test_demo_seed_is_idempotent_and_gives_the_little_giant_a_voucher(client: Client, db: Database) -> None:
    from vouchers.seed import seed_vouchers

    for _ in range(2):
        async with db.transaction() as session:
            lines = await seed_vouchers(session, "demo-pass-2026")
    assert lines[0].startswith("enterprise_demo / demo-pass-2026")
    async with db.transaction(write=False) as session:
        # The little giant's voucher, and the one approved application's voucher of the programme open for them.
        assert await session.scalar(select(func.count()).select_from(Voucher)) == 2
        assert await session.scalar(select(func.count()).select_from(VoucherProgram)) == 2
        states = (await session.execute(select(VoucherApplication.state).order_by(VoucherApplication.id))).scalars()
        assert list(states) == ["submitted", "submitted", "approved"]
        assert list(await check_ledger(session)) == []
    login = await client.post("/api/v1/auth/login", json={"username": "enterprise_demo", "password": "demo-pass-2026"})
    token = (await login.json())["token"]
    (voucher,) = await (await client.get("/api/v1/me/vouchers", headers={"Authorization": f"Bearer {token}"})).json()
    assert (voucher["balance_fen"], voucher["state"]) == (500_000, "issued")
