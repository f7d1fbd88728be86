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

from agencies.service import get_agency_summary
from core.auth import Principal
from vouchers import repository
from vouchers.holdings import my_vouchers
from vouchers.issuing import issue_vouchers
from vouchers.programs import create_program, list_programs
from vouchers.redeeming import participation_problem
from vouchers.schemas import VoucherOut
from vouchers.states import RedemptionState
from vouchers.transitions import materialise_expiry

__all__ = [
    "ExpiringVoucher",
    "VoucherPay",
    "create_program",
    "delivered_redemption_for_review",
    "issue_vouchers",
    "list_programs",
    "materialise_expiry",
    "my_vouchers",
    "payable_at",
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


@dataclass(frozen=True, slots=True)
class VoucherPay:
    """The signed-in enterprise's best voucher for one service at one agency, and who pays what of a price."""

    voucher_id: int
    program_name: str
    share_bp: int
    balance_fen: int

    def pays(self, price_fen: int) -> int:
        """What the voucher pays of `price_fen`: its share (as a redemption computes it), at most its balance."""
        return min(self.balance_fen, price_fen * self.share_bp // 10000)

    def own_share(self, price_fen: int) -> int:
        return price_fen - self.pays(price_fen)


async def payable_at(
    session: AsyncSession, principal: Principal | None, agency_ids: list[int], service_code: str
) -> dict[int, VoucherPay]:
    """For each agency, the acting enterprise's spendable voucher that could pay `service_code` there (the one
    with the most to give), by the same participation rule a redemption checks; {} for anyone else."""
    vouchers = [v for v in await my_vouchers(session, principal) if v.spendable and v.balance_fen > 0]
    covering = [v for v in vouchers if any(s.code.value == service_code for s in v.services)]
    if not covering:
        return {}
    programs = {v.program_id: await repository.program(session, v.program_id) for v in covering}
    found: dict[int, VoucherPay] = {}
    for agency_id in agency_ids:
        agency = await get_agency_summary(session, agency_id)
        if agency is None:
            continue
        best: VoucherOut | None = None
        for voucher in covering:
            program = programs[voucher.program_id]
            if program is None or participation_problem(agency, program, service_code) is not None:
                continue
            if best is None or (voucher.share_bp, voucher.balance_fen) > (best.share_bp, best.balance_fen):
                best = voucher
        if best is not None:
            found[agency_id] = VoucherPay(best.id, best.program_name, best.share_bp, best.balance_fen)
    return found
