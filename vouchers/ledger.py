"""The ledger invariant: every stored balance, state and committed sum recomputed from the append-only audit record."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vouchers.models import Redemption, Voucher, VoucherAudit, VoucherProgram
from vouchers.permissions import Action
from vouchers.schemas import LedgerDifference
from vouchers.states import RedemptionState


async def check_ledger(session: AsyncSession) -> list[LedgerDifference]:
    """Recompute every voucher's balance and state, every redemption's state and every program's committed money
    from the audit ledger, and list where the stored value differs. An empty list means the books balance."""
    return [
        *await _voucher_differences(session),
        *await _program_differences(session),
        *await _redemption_differences(session),
    ]


async def _voucher_differences(session: AsyncSession) -> list[LedgerDifference]:
    """Each voucher against its audit rows (balance, last state) and against its redemptions (face minus spent)."""
    from_audit = await _audit_balance_and_state(session)
    spent = await _spent_per_voucher(session)
    differences: list[LedgerDifference] = []

    def differ(voucher_id: int, field: str, stored: int | str, audit: int | str) -> None:
        differences.append(
            LedgerDifference(subject="voucher", subject_id=voucher_id, field=field, stored=stored, from_audit=audit)
        )

    for voucher_id, face, balance, state in await session.execute(
        select(Voucher.id, Voucher.face_value_fen, Voucher.balance_fen, Voucher.state).order_by(Voucher.id)
    ):
        if voucher_id not in from_audit:
            differ(voucher_id, "audit", "present", "missing")
            continue
        audit_balance, audit_state = from_audit[voucher_id]
        if audit_balance != balance:
            differ(voucher_id, "balance_fen", balance, audit_balance)
        if audit_state != state:
            differ(voucher_id, "state", state, str(audit_state))
        if face - spent.get(voucher_id, 0) != balance:
            differ(voucher_id, "face_minus_redemptions", balance, face - spent.get(voucher_id, 0))
    return differences


async def _audit_balance_and_state(session: AsyncSession) -> dict[int, tuple[int, str | None]]:
    """Per voucher with audit rows: the sum of its balance deltas and the state its last row moved it to."""
    rows = (
        await session.execute(
            select(
                VoucherAudit.voucher_id, func.sum(VoucherAudit.balance_delta_fen), func.max(VoucherAudit.id)
            ).group_by(VoucherAudit.voucher_id)
        )
    ).all()
    last_ids = [int(last_id) for _, _, last_id in rows]
    last_states = (
        dict(
            (
                await session.execute(
                    select(VoucherAudit.id, VoucherAudit.to_state).where(VoucherAudit.id.in_(last_ids))
                )
            ).all()
        )
        if last_ids
        else {}
    )
    return {int(vid): (int(balance), last_states.get(int(last_id))) for vid, balance, last_id in rows}


async def _spent_per_voucher(session: AsyncSession) -> dict[int, int]:
    """What each voucher's redemptions took from it: not cancelled ones, less what went from the voucher straight
    back to the budget (its unspent balance on revocation, pending redemptions cancelled after it was revoked)."""
    # A cancelled redemption gave its amount back (to the voucher, or to the budget when the voucher was revoked).
    redeemed = dict(
        (
            await session.execute(
                select(Redemption.voucher_id, func.sum(Redemption.amount_fen))
                .where(Redemption.state != RedemptionState.CANCELLED.value)
                .group_by(Redemption.voucher_id)
            )
        ).all()
    )
    returned = dict(
        (
            await session.execute(
                select(VoucherAudit.voucher_id, func.sum(VoucherAudit.program_delta_fen))
                .where(VoucherAudit.action.in_((Action.REVOKE.value, Action.CANCEL.value)))
                .group_by(VoucherAudit.voucher_id)
            )
        ).all()
    )
    return {int(vid): int(redeemed.get(vid) or 0) - int(returned.get(vid) or 0) for vid in {*redeemed, *returned}}


async def _program_differences(session: AsyncSession) -> list[LedgerDifference]:
    """Each program's committed money against the sum of its audit rows, and against its budget."""
    program_totals = dict(
        (
            await session.execute(
                select(VoucherAudit.program_id, func.sum(VoucherAudit.program_delta_fen)).group_by(
                    VoucherAudit.program_id
                )
            )
        ).all()
    )
    differences: list[LedgerDifference] = []
    for program_id, committed, budget in await session.execute(
        select(VoucherProgram.id, VoucherProgram.committed_fen, VoucherProgram.budget_fen).order_by(VoucherProgram.id)
    ):
        expected = int(program_totals.get(program_id) or 0)
        if expected != committed:
            differences.append(
                LedgerDifference(
                    subject="program",
                    subject_id=program_id,
                    field="committed_fen",
                    stored=committed,
                    from_audit=expected,
                )
            )
        if committed > budget:
            differences.append(
                LedgerDifference(
                    subject="program", subject_id=program_id, field="budget_fen", stored=budget, from_audit=committed
                )
            )
    return differences


async def _redemption_differences(session: AsyncSession) -> list[LedgerDifference]:
    """Each redemption's state against the state its last audit row moved it to."""
    last_redemption_rows = (
        await session.execute(
            select(VoucherAudit.redemption_id, func.max(VoucherAudit.id))
            .where(VoucherAudit.redemption_id.is_not(None))
            .group_by(VoucherAudit.redemption_id)
        )
    ).all()
    last_redemption_ids = {int(last) for _, last in last_redemption_rows}
    redemption_to = (
        dict(
            (
                await session.execute(
                    select(VoucherAudit.redemption_id, VoucherAudit.redemption_to).where(
                        VoucherAudit.id.in_(last_redemption_ids)
                    )
                )
            ).all()
        )
        if last_redemption_ids
        else {}
    )
    differences: list[LedgerDifference] = []
    for redemption_id, state in await session.execute(select(Redemption.id, Redemption.state).order_by(Redemption.id)):
        if redemption_to.get(redemption_id) != state:
            differences.append(
                LedgerDifference(
                    subject="redemption",
                    subject_id=redemption_id,
                    field="state",
                    stored=state,
                    from_audit=str(redemption_to.get(redemption_id)),
                )
            )
    return differences
