"""The ledger invariant: every stored balance, state and committed sum recomputed from the append-only audit record."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vouchers.models import Redemption, Voucher, VoucherAudit, VoucherProgram
from vouchers.permissions import Action
from vouchers.schemas import LedgerDifference
from vouchers.states import RedemptionState


async def check_ledger(session: AsyncSession) -> list[LedgerDifference]:
    """Recompute every voucher's balance and state, every redemption's state and every programme's committed money
    from the audit ledger, and list where the stored value differs. An empty list means the books balance."""
    differences: list[LedgerDifference] = []
    audit = (
        await session.execute(
            select(
                VoucherAudit.voucher_id,
                func.sum(VoucherAudit.balance_delta_fen),
                func.max(VoucherAudit.id),
                func.sum(func.coalesce(VoucherAudit.program_delta_fen, 0)),
            ).group_by(VoucherAudit.voucher_id)
        )
    ).all()
    from_audit = {int(vid): (int(balance), int(last_id)) for vid, balance, last_id, _ in audit}
    last_states = (
        dict(
            (
                await session.execute(
                    select(VoucherAudit.id, VoucherAudit.to_state).where(
                        VoucherAudit.id.in_([last for _, last in from_audit.values()])
                    )
                )
            ).all()
        )
        if from_audit
        else {}
    )
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
    # What went from a voucher straight back to the budget: its unspent balance on revocation, and pending
    # redemptions cancelled after it was revoked.
    revoked = dict(
        (
            await session.execute(
                select(VoucherAudit.voucher_id, func.sum(VoucherAudit.program_delta_fen))
                .where(VoucherAudit.action.in_((Action.REVOKE.value, Action.CANCEL.value)))
                .group_by(VoucherAudit.voucher_id)
            )
        ).all()
    )
    for voucher_id, face, balance, state in await session.execute(
        select(Voucher.id, Voucher.face_value_fen, Voucher.balance_fen, Voucher.state).order_by(Voucher.id)
    ):
        if voucher_id not in from_audit:
            differences.append(
                LedgerDifference(
                    subject="voucher", subject_id=voucher_id, field="audit", stored="present", from_audit="missing"
                )
            )
            continue
        audit_balance, last_id = from_audit[voucher_id]
        if audit_balance != balance:
            differences.append(
                LedgerDifference(
                    subject="voucher",
                    subject_id=voucher_id,
                    field="balance_fen",
                    stored=balance,
                    from_audit=audit_balance,
                )
            )
        if last_states.get(last_id) != state:
            differences.append(
                LedgerDifference(
                    subject="voucher",
                    subject_id=voucher_id,
                    field="state",
                    stored=state,
                    from_audit=str(last_states.get(last_id)),
                )
            )
        spent = int(redeemed.get(voucher_id) or 0) - int(revoked.get(voucher_id) or 0)
        if face - spent != balance:
            differences.append(
                LedgerDifference(
                    subject="voucher",
                    subject_id=voucher_id,
                    field="face_minus_redemptions",
                    stored=balance,
                    from_audit=face - spent,
                )
            )

    program_totals = dict(
        (
            await session.execute(
                select(VoucherAudit.program_id, func.sum(VoucherAudit.program_delta_fen)).group_by(
                    VoucherAudit.program_id
                )
            )
        ).all()
    )
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
