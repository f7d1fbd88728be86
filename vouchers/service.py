"""What other domains use of vouchers — the one module they import voucher functions from.

Defined here: the questions only other domains ask (vouchers about to expire, for reminders; whether a redemption
was delivered, for reviews of agencies). Handed on: a holder's vouchers, the program directory, creating a program
and issuing from it (demo seeding, benchmarks), recording an overdue voucher's expiry.

Inside, a module per concern: `programs`, `issuing` (and revoking), `holdings` (a holder's vouchers), `redeeming`,
`redemptions` (confirm, settle, cancel, flags), `transitions` (the one way state and money change, under row
locks), `views` (rows as the API shows them), `reports`, `ledger`. vouchers' own routes import those directly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from vouchers import repository
from vouchers.holdings import my_vouchers
from vouchers.issuing import issue_vouchers
from vouchers.programs import create_program, list_programs
from vouchers.states import RedemptionState
from vouchers.transitions import materialise_expiry

__all__ = [
    "ExpiringVoucher",
    "create_program",
    "delivered_redemption_for_review",
    "issue_vouchers",
    "list_programs",
    "materialise_expiry",
    "my_vouchers",
    "vouchers_expiring_between",
]


@dataclass(frozen=True, slots=True)
class ExpiringVoucher:
    voucher_id: int
    enterprise_id: int
    program_id: int
    program_name: str
    balance_fen: int
    expires_at: dt.datetime


async def vouchers_expiring_between(
    session: AsyncSession, start: dt.datetime, end: dt.datetime
) -> list[ExpiringVoucher]:
    """Spendable vouchers with balance left whose `expires_at` falls in [start, end) — for expiry reminders."""
    vouchers = await repository.expiring_between(session, start, end)
    names = await repository.program_names(session, {v.program_id for v in vouchers})
    return [
        ExpiringVoucher(v.id, v.enterprise_id, v.program_id, names.get(v.program_id, ""), v.balance_fen, v.expires_at)
        for v in vouchers
    ]


async def delivered_redemption_for_review(
    session: AsyncSession, enterprise_id: int, agency_id: int, redemption_id: int
) -> bool:
    """True when that enterprise redeemed a voucher at that agency and the agency confirmed delivery (or it settled)."""
    redemption = await repository.redemption(session, redemption_id)
    return (
        redemption is not None
        and redemption.enterprise_id == enterprise_id
        and redemption.agency_id == agency_id
        and redemption.state in (RedemptionState.DELIVERED, RedemptionState.SETTLED)
    )
