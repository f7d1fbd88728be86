"""Every rule and every write about vouchers. Other domains call the functions under "For other domains".

Every change of money or state goes through `vouchers.transitions.transition`, under the row locks its docstring
explains.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.catalogue import LEVEL_ORDER, CreditLevel
from agencies.service import AgencySummary, get_agency_summary
from core.auth import Principal, Role
from core.db import utcnow
from core.errors import NotFound, field_error
from core.regions import prefix_of
from enterprises.service import (
    get_enterprise_summary,
)
from vouchers import flags as flagging
from vouchers import repository
from vouchers.errors import (
    DecisionRequired,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    IllegalTransition,
    NotYourAgency,
    NotYourVoucher,
    ProgramClosed,
    RedemptionNotPending,
)
from vouchers.holdings import my_vouchers
from vouchers.issuing import issue_vouchers
from vouchers.models import (
    IdempotencyRecord,
    Redemption,
    Voucher,
    VoucherProgram,
)
from vouchers.permissions import PERMISSIONS, Action
from vouchers.programs import create_program, list_programs
from vouchers.schemas import (
    CancelIn,
    ConfirmIn,
    FlagOut,
    FlagQuery,
    RedeemIn,
    RedemptionOut,
    RedemptionQuery,
    SettleIn,
)
from vouchers.states import (
    SPENDABLE,
    RedemptionState,
    VoucherState,
    voucher_state_after_redemptions,
)
from vouchers.transitions import (
    expire_if_due,
    expired_error,
    expiry_reason,
    transition,
)
from vouchers.views import flag_out, redemption_out

IDEMPOTENCY_KEY_MAX = 200

__all__ = [
    "ExpiringVoucher",
    "create_program",
    "delivered_redemption_for_review",
    "issue_vouchers",
    "list_programs",
    "my_vouchers",
    "vouchers_expiring_between",
]

# ---------------------------------------------------------------- For other domains


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


# ---------------------------------------------------------------- programmes


def _request_hash(voucher_id: int, body: RedeemIn) -> str:
    canonical = json.dumps({"voucher_id": voucher_id, **body.model_dump(mode="json")}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _participation_problem(agency: AgencySummary, program: VoucherProgram, service_code: str) -> str | None:
    if not agency.accepts_vouchers:
        return "this agency does not accept vouchers"
    if not agency.region_code.startswith(prefix_of(program.region_code)):
        return f"this agency is in region {agency.region_code}, outside the programme's region {program.region_code}"
    if not agency.offers(service_code):
        return f"this agency does not offer {service_code}"
    if program.min_agency_level is not None:
        allowed = LEVEL_ORDER[: LEVEL_ORDER.index(CreditLevel(program.min_agency_level)) + 1]
        if CreditLevel(agency.credit_level) not in allowed:
            return (
                f"this agency is rated {agency.credit_level}; the programme needs {program.min_agency_level} or better"
            )
    return None


@dataclass(frozen=True, slots=True)
class RedeemResult:
    status: int
    body: str
    replayed: bool


async def redeem(
    session: AsyncSession,
    principal: Principal | None,
    voucher_id: int,
    data: RedeemIn,
    *,
    idempotency_key: str | None = None,
) -> RedeemResult:
    """Spend part of a voucher at an agency. The same `Idempotency-Key` with the same request replays the first
    answer (one effect); with a different request it is refused (422).

    Everything that depends only on the programme, the agency and the enterprise (which do not change under us) is
    read before the voucher's row lock is taken; under the lock only the voucher's own state, balance and the
    idempotency record are read and the writes made, so concurrent redemptions of one voucher wait as little as
    possible.
    """
    actor = PERMISSIONS.check(principal, Action.REDEEM)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= IDEMPOTENCY_KEY_MAX:
        raise field_error("Idempotency-Key", f"must be 1 to {IDEMPOTENCY_KEY_MAX} characters")
    seen = await repository.voucher(session, voucher_id)
    if seen is None:
        raise NotFound(f"no voucher {voucher_id}")
    if seen.enterprise_id != actor.enterprise_id:
        raise NotYourVoucher("this voucher belongs to another enterprise")
    program = await repository.program(session, seen.program_id)
    assert program is not None
    covered = (await repository.program_services(session, [program.id]))[program.id]
    if data.service_code.value not in covered:
        raise field_error("service_code", f"not covered by this programme (covers {', '.join(covered)})")
    agency = await get_agency_summary(session, data.agency_id)
    if agency is None:
        raise field_error("agency_id", "no such agency")
    problem = _participation_problem(agency, program, data.service_code.value)
    if problem is not None:
        raise field_error("agency_id", problem, code="agency_not_participating")
    listed = next(s for s in agency.services if s.service_code == data.service_code.value)
    if data.price_fen > listed.price_max_fen:
        raise field_error(
            "price_fen", f"above the agency's listed maximum of {listed.price_max_fen} fen for this service"
        )
    wanted = data.price_fen * program.share_bp // 10000
    if wanted <= 0:
        raise field_error("price_fen", "too small: the voucher's share of it rounds to 0 fen")
    enterprise = await get_enterprise_summary(session, seen.enterprise_id)
    assert enterprise is not None
    signals = await flagging.gather(
        session,
        program,
        agency,
        enterprise,
        service_code=data.service_code.value,
        price_fen=data.price_fen,
        maybe_whole_voucher=wanted >= seen.face_value_fen,
    )

    voucher = await repository.lock_voucher(session, voucher_id)  # every redemption of this voucher queues here
    assert voucher is not None
    request_hash = _request_hash(voucher_id, data)
    if idempotency_key is not None:
        record = await repository.idempotency_record(session, actor.user_id, idempotency_key)
        if record is not None:
            if record.request_hash != request_hash:
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was already used for a different request",
                    details=[{"field": "Idempotency-Key", "message": "already used with a different body or voucher"}],
                )
            return RedeemResult(record.status, record.response, replayed=True)
    now = utcnow()
    if await expire_if_due(session, actor, voucher, now):
        raise expired_error(voucher)
    state = VoucherState(voucher.state)
    if state not in SPENDABLE:
        raise IllegalTransition(
            f"voucher {voucher.id} is {state.value} and cannot be redeemed",
            details={"voucher_id": voucher.id, "state": state.value, "reason": voucher.state_reason},
        )
    if now < program.valid_from:
        raise ProgramClosed(
            f"the programme opens at {program.valid_from.isoformat()}",
            details={"program_id": program.id, "valid_from": program.valid_from.isoformat()},
        )
    amount = min(wanted, voucher.balance_fen)
    redemption = Redemption(
        voucher_id=voucher.id,
        program_id=program.id,
        enterprise_id=voucher.enterprise_id,
        agency_id=agency.id,
        service_code=data.service_code.value,
        price_fen=data.price_fen,
        amount_fen=amount,
        enterprise_share_fen=data.price_fen - amount,
        state=RedemptionState.PENDING.value,
        created_by=actor.user_id,
        created_at=now,
    )
    session.add(redemption)
    new_balance = voucher.balance_fen - amount
    to = VoucherState.PARTIALLY_REDEEMED if new_balance > 0 else VoucherState.REDEEMED
    reason = f"{amount} fen of a {data.price_fen} fen {data.service_code.value} at agency {agency.id}"
    await transition(
        session,
        actor,
        Action.REDEEM,
        voucher,
        to=to,
        redemption=redemption,
        amount=amount,
        balance_delta=-amount,
        reason=reason,
        state_reason=f"last used: {reason}",
        now=now,
    )
    flagging.record_redeem(session, signals, voucher, redemption)
    body = redemption_out(redemption, voucher=voucher).model_dump_json()
    if idempotency_key is not None:
        session.add(
            IdempotencyRecord(
                user_id=actor.user_id, key=idempotency_key, request_hash=request_hash, status=201, response=body
            )
        )
    try:
        await session.flush()
    except IntegrityError:
        # Only the (user, key) uniqueness can fail here: the same key sent at the same moment for another voucher.
        # The whole unit of work rolls back with this error, so no savepoint is needed.
        raise IdempotencyKeyInUse(
            "another request with this Idempotency-Key is being processed; retry it to get its answer"
        ) from None
    return RedeemResult(201, body, replayed=False)


# ---------------------------------------------------------------- redemptions


async def _redemption_for(session: AsyncSession, redemption_id: int) -> Redemption:
    redemption = await repository.redemption(session, redemption_id)
    if redemption is None:
        raise NotFound(f"no redemption {redemption_id}")
    return redemption


async def _state_after(
    session: AsyncSession,
    voucher: Voucher,
    redemption: Redemption,
    redemption_to: RedemptionState,
    balance_delta: int = 0,
) -> VoucherState:
    states = [
        redemption_to if rid == redemption.id else state
        for rid, state in await repository.redemption_states_by_id(session, voucher.id)
    ]
    return voucher_state_after_redemptions(
        VoucherState(voucher.state), voucher.balance_fen + balance_delta, voucher.face_value_fen, states
    )


def _can_see_redemption(actor: Principal, redemption: Redemption) -> bool:
    if actor.role is Role.OFFICIAL:
        return True
    if actor.role is Role.AGENCY:
        return actor.agency_id == redemption.agency_id
    return actor.enterprise_id == redemption.enterprise_id


async def confirm(
    session: AsyncSession, principal: Principal | None, redemption_id: int, data: ConfirmIn
) -> RedemptionOut:
    """The agency confirms it delivered the service, with its evidence."""
    actor = PERMISSIONS.check(principal, Action.CONFIRM)
    found = await _redemption_for(session, redemption_id)
    if actor.agency_id != found.agency_id:
        raise NotYourAgency("this redemption was made at another agency")
    voucher = await repository.lock_voucher(session, found.voucher_id)
    redemption = await repository.lock_redemption(session, redemption_id)
    assert voucher is not None and redemption is not None
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
    voucher = await repository.lock_voucher(session, found.voucher_id)
    redemption = await repository.lock_redemption(session, redemption_id)
    assert voucher is not None and redemption is not None
    if redemption.state != RedemptionState.DELIVERED:
        raise IllegalTransition(
            f"redemption {redemption.id} is {redemption.state}; only a delivered one can be settled",
            details={"redemption_id": redemption.id, "state": redemption.state},
        )
    open_flags = [
        f
        for f in (await repository.flags_of_redemptions(session, [redemption.id]))[redemption.id]
        if f.status == "open"
    ]
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


async def cancel(
    session: AsyncSession, principal: Principal | None, redemption_id: int, data: CancelIn
) -> RedemptionOut:
    """Withdraw a redemption the agency has not confirmed yet: staff of the redeeming enterprise (a reason is
    optional) or an official (a reason is required). The amount goes back on the voucher — which becomes spendable
    again, or, past its expiry, lapses with the rest of the balance; on a revoked voucher it returns to the budget."""
    actor = PERMISSIONS.check(principal, Action.CANCEL)
    found = await _redemption_for(session, redemption_id)
    if PERMISSIONS.own_only(actor, Action.CANCEL) and actor.enterprise_id != found.enterprise_id:
        raise NotYourVoucher("this redemption was made by another enterprise")
    if actor.is_official and data.reason is None:
        raise field_error("reason", "an official cancelling a redemption must give the reason")
    voucher = await repository.lock_voucher(session, found.voucher_id)
    redemption = await repository.lock_redemption(session, redemption_id)
    assert voucher is not None and redemption is not None
    if redemption.state != RedemptionState.PENDING:
        raise RedemptionNotPending(
            f"redemption {redemption.id} is {redemption.state}; only a pending one (not yet confirmed by the agency) "
            "can be cancelled",
            details={"redemption_id": redemption.id, "state": redemption.state},
        )
    now = utcnow()
    await expire_if_due(session, actor, voucher, now)
    amount = redemption.amount_fen
    current = VoucherState(voucher.state)
    program: VoucherProgram | None = None
    balance_delta = program_delta = 0
    state_reason: str | None = None
    to: VoucherState
    if current is VoucherState.REVOKED:
        # A revoked voucher holds nothing: the amount goes where the revocation sent the rest, back to the budget.
        program = await repository.lock_program(session, voucher.program_id)
        program_delta = -amount
        to = current
    elif current is VoucherState.EXPIRED or now >= voucher.expires_at:
        # Past its expiry (a fully used voucher is not recorded as expired until now): the amount lapses with the
        # rest of the balance, which stays committed to the programme as every lapsed balance does.
        balance_delta = amount
        to = VoucherState.EXPIRED
        state_reason = expiry_reason(voucher, voucher.balance_fen + amount)
    else:
        balance_delta = amount
        to = await _state_after(session, voucher, redemption, RedemptionState.CANCELLED, balance_delta)
        state_reason = f"redemption {redemption.id} cancelled: {amount} fen back on the voucher"
    by = "an official" if actor.is_official else "the enterprise"
    reason = f"cancelled by {by}: {data.reason or 'no reason given'}"
    await transition(
        session,
        actor,
        Action.CANCEL,
        voucher,
        to=to,
        redemption=redemption,
        program=program,
        amount=amount,
        balance_delta=balance_delta,
        program_delta=program_delta,
        reason=reason,
        state_reason=state_reason,
        now=now,
    )
    redemption.cancel_reason = data.reason or ""
    redemption.cancelled_by = actor.user_id
    redemption.cancelled_at = now
    await session.flush()
    return redemption_out(redemption, voucher=voucher)


async def get_redemption(session: AsyncSession, principal: Principal | None, redemption_id: int) -> RedemptionOut:
    actor = PERMISSIONS.check(principal, Action.READ_REDEMPTION)
    redemption = await _redemption_for(session, redemption_id)
    if not _can_see_redemption(actor, redemption):
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
    enterprise staff their enterprise's."""
    actor = PERMISSIONS.check(principal, Action.READ_REDEMPTION)
    rows = await repository.redemptions(
        session,
        agency_id=actor.agency_id if actor.role is Role.AGENCY else None,
        enterprise_id=actor.enterprise_id if actor.role is Role.ENTERPRISE else None,
        program_id=query.program_id,
        state=None if query.state is None else query.state.value,
        limit=query.limit,
    )
    flags = await repository.flags_of_redemptions(session, [r.id for r in rows]) if actor.is_official else {}
    return [redemption_out(r, flags.get(r.id, [])) for r in rows]


async def list_flags(session: AsyncSession, principal: Principal | None, query: FlagQuery) -> list[FlagOut]:
    PERMISSIONS.check(principal, Action.LIST_FLAGS)
    return [flag_out(f) for f in await repository.flags(session, program_id=query.program_id, status=query.status)]
