"""`python server.py vouchers check`: recompute every balance from the audit ledger and report differences."""

from __future__ import annotations

from sqlalchemy import func, select

from core.db import Database
from core.settings import Settings
from vouchers.ledger import check_ledger
from vouchers.models import Redemption, Voucher, VoucherAudit, VoucherProgram


async def check(settings: Settings) -> int:
    """Prints a one-line summary ("… 0 differences") and each difference; exit status 1 when there are any."""
    db = Database(settings.database_url)
    try:
        async with db.transaction(write=False) as session:
            differences = await check_ledger(session)
            counts = [
                int(await session.scalar(select(func.count()).select_from(model)) or 0)
                for model in (VoucherProgram, Voucher, Redemption, VoucherAudit)
            ]
    finally:
        await db.dispose()
    programs, vouchers, redemptions, audit = counts
    print(
        f"vouchers check: {programs} programmes, {vouchers} vouchers, {redemptions} redemptions, "
        f"{audit} audit rows: {len(differences)} differences"
    )
    for d in differences:
        print(f"  {d.subject} {d.subject_id}: {d.field} stored {d.stored}, audit says {d.from_audit}")
    return 1 if differences else 0
