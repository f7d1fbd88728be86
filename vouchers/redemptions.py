"""What follows a redemption (made in `vouchers.redeeming`): the agency confirms delivery, an official settles or
rejects it, or it is cancelled while pending; reading redemptions and the anti-abuse flags on them.

Each write locks the voucher, then the redemption, then (when money returns to the budget) the program, and reads
the redemption's state again under those locks (see `vouchers.transitions`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import Principal, Role
from core.db import utcnow
from core.errors import NotFound, field_error
from vouchers import flags as flagging
from vouchers import repository
from vouchers.errors import (
    DecisionRequired,
    IllegalTransition,
    NotYourAgency,
    NotYourVoucher,
    RedemptionNotPending,
)
from vouchers.models import Redemption, Voucher, VoucherFlag, VoucherProgram
from vouchers.permissions import PERMISSIONS, Action
from vouchers.programs import check_jurisdiction, program_or_404
from vouchers.schemas import CancelIn, ConfirmIn, FlagOut, FlagQuery, RedemptionOut, RedemptionQuery, SettleIn
from vouchers.states import RedemptionState, VoucherState, voucher_state_after_redemptions
from vouchers.transitions import expire_if_due, expiry_reason, transition
from vouchers.views import flag_out, redemption_out


async def _redemption_for(session: AsyncSession, redemption_id: int) -> Redemption:
    redemption = await repository.redemption(session, redemption_id)
    if redemption is None:
        raise NotFound(f"no redemption {redemption_id}")
    return redemption


async def _locked(session: AsyncSession, found: Redemption) -> tuple[Voucher, Redemption]:
    """The redemption's voucher and the redemption itself, locked in that order, the redemption read afresh."""
    voucher = await repository.lock_voucher(session, found.voucher_id)
    redemption = await repository.lock_redemption(session, found.id)
    assert voucher is not None and redemption is not None
    return voucher, redemption


async def _state_after(
    session: AsyncSession,
    voucher: Voucher,
    redemption: Redemption,
    redemption_to: RedemptionState,
    balance_delta: int = 0,
) -> VoucherState:
    """The voucher's state once this redemption has moved to `redemption_to` (and its balance by `balance_delta`)."""
    states = [
        redemption_to if rid == redemption.id else state
        for rid, state in await repository.redemption_states_by_id(session, voucher.id)
    ]
    return voucher_state_after_redemptions(
        VoucherState(voucher.state), voucher.balance_fen + balance_delta, voucher.face_value_fen, states
    )


async def confirm(
    session: AsyncSession, principal: Principal | None, redemption_id: int, data: ConfirmIn
) -> RedemptionOut:
    """The agency confirms it delivered the service, with its evidence."""
    actor = PERMISSIONS.check(principal, Action.CONFIRM)
    found = await _redemption_for(session, redemption_id)
    if not PERMISSIONS.scope(actor, Action.CONFIRM).covers(agency_id=found.agency_id):
        raise NotYourAgency("this redemption was made at another agency")
    voucher, redemption = await _locked(session, found)
    if redemption.state != RedemptionState.PENDING:
        raise IllegalTransition(
            f"redemption {redemption.id} is {redemption.state}; only a pending one can be confirmed",
            details={"redemption_id": redemption.id, "state": redemption.state},
        )
    if redemption.enterprise_share_fen > 0 and data.payment_proof is None:
        raise field_error(
            "payment_proof", f"the enterprise's own share of {redemption.enterprise_share_fen} fen needs proof"
        )
    now = utcnow()
    await expire_if_due(session, actor, voucher, now)
    redemption.contract_no = data.contract_no
    redemption.invoice_no = data.invoice_no
    redemption.payment_proof = data.payment_proof
    redemption.deliverable = data.deliverable
    redemption.confirmed_by = actor.user_id
    redemption.confirmed_at = now
    to = await _state_after(session, voucher, redemption, RedemptionState.DELIVERED)
    await transition(
        session,
        actor,
        Action.CONFIRM,
        voucher,
        to=to,
        redemption=redemption,
        amount=redemption.amount_fen,
        reason=f"delivered: contract {data.contract_no}, invoice {data.invoice_no}, deliverable {data.deliverable}",
        state_reason="service delivered, awaiting settlement" if to is VoucherState.DELIVERED else None,
        now=now,
    )
    flagging.on_confirm(session, redemption)
    await session.flush()
    return redemption_out(redemption, voucher=voucher)


async def settle(
    session: AsyncSession, principal: Principal | None, redemption_id: int, data: SettleIn
) -> RedemptionOut:
    """An official pays (approve) or rejects a delivered redemption; a flagged one needs the explicit decision."""
    actor = PERMISSIONS.check(principal, Action.SETTLE)
    found = await _redemption_for(session, redemption_id)
    check_jurisdiction(actor, Action.SETTLE, await program_or_404(session, found.program_id))
    voucher, redemption = await _locked(session, found)
    if redemption.state != RedemptionState.DELIVERED:
        raise IllegalTransition(
            f"redemption {redemption.id} is {redemption.state}; only a delivered one can be settled",
            details={"redemption_id": redemption.id, "state": redemption.state},
        )
    await flagging.check_before_settling(session, redemption, voucher)
    open_flags = [
        f
        for f in (await repository.flags_of_redemptions(session, [redemption.id]))[redemption.id]
        if f.status == "open"
    ]
    decision = _decision(redemption, open_flags, data)
    action = Action.SETTLE if decision == "approve" else Action.REJECT
    target = RedemptionState.SETTLED if decision == "approve" else RedemptionState.REJECTED
    now = utcnow()
    await expire_if_due(session, actor, voucher, now)
    program = await repository.lock_program(session, voucher.program_id) if action is Action.REJECT else None
    to = await _state_after(session, voucher, redemption, target)
    returned = redemption.amount_fen if action is Action.REJECT else 0
    await transition(
        session,
        actor,
        action,
        voucher,
        to=to,
        redemption=redemption,
        program=program,
        amount=redemption.amount_fen,
        program_delta=-returned,
        reason=data.reason or "approved",
        state_reason="every redemption decided" if to is VoucherState.SETTLED else None,
        now=now,
    )
    redemption.decision_reason = data.reason or "approved"
    redemption.settled_by = actor.user_id
    redemption.settled_at = now
    for flag in open_flags:
        flag.status = "approved" if decision == "approve" else "rejected"
        flag.resolved_by = actor.user_id
        flag.resolved_at = now
        flag.resolution_reason = data.reason
    await session.flush()
    all_flags = (await repository.flags_of_redemptions(session, [redemption.id]))[redemption.id]
    return redemption_out(redemption, all_flags, voucher)


def _decision(
    redemption: Redemption, open_flags: Sequence[VoucherFlag], data: SettleIn
) -> Literal["approve", "reject"]:
    """Approve unless told otherwise — but a flagged redemption needs the decision said, and with its reason, and a
    rejection always needs its reason."""
    if open_flags and data.decision is None:
        raise DecisionRequired(
            f"redemption {redemption.id} is flagged; settle it with a decision (approve or reject) and a reason",
            details={
                "redemption_id": redemption.id,
                "flags": [flag_out(f).model_dump(mode="json") for f in open_flags],
            },
        )
    if open_flags and data.reason is None:
        raise field_error("reason", "a decision on a flagged redemption needs its reason")
    decision = data.decision or "approve"
    if decision == "reject" and data.reason is None:
        raise field_error("reason", "a rejection needs its reason")
    return decision


async def cancel(
    session: AsyncSession, principal: Principal | None, redemption_id: int, data: CancelIn
) -> RedemptionOut:
    """Withdraw a redemption the agency has not confirmed yet: staff of the redeeming enterprise (a reason is
    optional) or an official (a reason is required). The amount goes back on the voucher — which becomes spendable
    again, or, past its expiry, lapses with the rest of the balance; on a revoked voucher it returns to the budget."""
    actor = PERMISSIONS.check(principal, Action.CANCEL)
    found = await _redemption_for(session, redemption_id)
    if actor.is_official:
        check_jurisdiction(actor, Action.CANCEL, await program_or_404(session, found.program_id))
    elif not PERMISSIONS.scope(actor, Action.CANCEL).covers(enterprise_id=found.enterprise_id):
        raise NotYourVoucher("this redemption was made by another enterprise")
    if actor.is_official and data.reason is None:
        raise field_error("reason", "an official cancelling a redemption must give the reason")
    voucher, redemption = await _locked(session, found)
    if redemption.state != RedemptionState.PENDING:
        raise RedemptionNotPending(
            f"redemption {redemption.id} is {redemption.state}; only a pending one (not yet confirmed by the agency) "
            "can be cancelled",
            details={"redemption_id": redemption.id, "state": redemption.state},
        )
    now = utcnow()
    await expire_if_due(session, actor, voucher, now)
    back = await _amount_back(session, voucher, redemption, now)
    by = "an official" if actor.is_official else "the enterprise"
    await transition(
        session,
        actor,
        Action.CANCEL,
        voucher,
        to=back.to,
        redemption=redemption,
        program=back.program,
        amount=redemption.amount_fen,
        balance_delta=back.balance_delta,
        program_delta=back.program_delta,
        reason=f"cancelled by {by}: {data.reason or 'no reason given'}",
        state_reason=back.state_reason,
        now=now,
    )
    redemption.cancel_reason = data.reason or ""
    redemption.cancelled_by = actor.user_id
    redemption.cancelled_at = now
    await session.flush()
    return redemption_out(redemption, voucher=voucher)


@dataclass(frozen=True, slots=True)
class _AmountBack:
    """Where a cancelled redemption's amount goes, and the voucher's state after."""

    to: VoucherState
    balance_delta: int = 0
    program_delta: int = 0
    program: VoucherProgram | None = None  # locked, when the amount returns to its budget
    state_reason: str | None = None


async def _amount_back(
    session: AsyncSession, voucher: Voucher, redemption: Redemption, now: dt.datetime
) -> _AmountBack:
    amount = redemption.amount_fen
    current = VoucherState(voucher.state)
    if current is VoucherState.REVOKED:
        # A revoked voucher holds nothing: the amount goes where the revocation sent the rest, back to the budget.
        program = await repository.lock_program(session, voucher.program_id)
        return _AmountBack(to=current, program_delta=-amount, program=program)
    if current is VoucherState.EXPIRED or now >= voucher.expires_at:
        # Past its expiry (a fully used voucher is not recorded as expired until now): the amount lapses with the
        # rest of the balance, which stays committed to the program as every lapsed balance does.
        return _AmountBack(
            to=VoucherState.EXPIRED,
            balance_delta=amount,
            state_reason=expiry_reason(voucher, voucher.balance_fen + amount),
        )
    return _AmountBack(
        to=await _state_after(session, voucher, redemption, RedemptionState.CANCELLED, amount),
        balance_delta=amount,
        state_reason=f"redemption {redemption.id} cancelled: {amount} fen back on the voucher",
    )


async def get_redemption(session: AsyncSession, principal: Principal | None, redemption_id: int) -> RedemptionOut:
    actor = PERMISSIONS.check(principal, Action.READ_REDEMPTION)
    redemption = await _redemption_for(session, redemption_id)
    scope = PERMISSIONS.scope(actor, Action.READ_REDEMPTION)
    if actor.is_official:
        check_jurisdiction(actor, Action.READ_REDEMPTION, await program_or_404(session, redemption.program_id))
    elif not scope.covers(agency_id=redemption.agency_id, enterprise_id=redemption.enterprise_id):
        raise (
            NotYourAgency("this redemption is not yours to see")
            if actor.role is Role.AGENCY
            else NotYourVoucher("this redemption is not yours to see")
        )
    flags = (
        (await repository.flags_of_redemptions(session, [redemption.id]))[redemption.id] if actor.is_official else []
    )
    return redemption_out(redemption, flags)


async def list_redemptions(
    session: AsyncSession, principal: Principal | None, query: RedemptionQuery
) -> list[RedemptionOut]:
    """Officials see all; agency staff their agency's (e.g. `state=pending`: awaiting their confirmation);
    enterprise staff their enterprise's; staff of none (a mini-program user not yet bound to an enterprise) none."""
    actor = PERMISSIONS.check(principal, Action.READ_REDEMPTION)
    rows = await repository.redemptions(
        session,
        PERMISSIONS.scope(actor, Action.READ_REDEMPTION),
        program_id=query.program_id,
        state=None if query.state is None else query.state.value,
        limit=query.limit,
    )
    flags = await repository.flags_of_redemptions(session, [r.id for r in rows]) if actor.is_official else {}
    return [redemption_out(r, flags.get(r.id, [])) for r in rows]


async def list_flags(session: AsyncSession, principal: Principal | None, query: FlagQuery) -> list[FlagOut]:
    actor = PERMISSIONS.check(principal, Action.LIST_FLAGS)
    scope = PERMISSIONS.scope(actor, Action.LIST_FLAGS)
    found = await repository.flags(session, scope, program_id=query.program_id, status=query.status)
    return [flag_out(f) for f in found]
