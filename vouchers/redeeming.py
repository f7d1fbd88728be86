"""Spending a voucher at an agency: the offer's checks, the voucher's row lock, the `Idempotency-Key`.

Round trips on PostgreSQL (bench/bench_roundtrips.py counts them): BEGIN; the voucher with its programme and
whether that covers the service; the agency with its services; then under the voucher's row lock: the lock, with
the redemption's id; the idempotency record; the redemption, the voucher, the audit row and the idempotency record
written (one statement); COMMIT — and, when the voucher's state changes, what the subscribers of
`VoucherStateChanged` read and write (the WeChat push's recipients). The idempotency record is read by a statement
of its own after the lock is granted: a statement that waited for the lock still sees the other tables as they were
when it started, so a record committed by the request it waited for would be missed.

The anti-abuse flags (`vouchers.flags`) are not raised here: they read the programme's other redemptions, which
a redemption need not wait for. `RedemptionMade` wakes the flag worker after the commit; a redemption is settled
only once its flags are raised (`redemptions.settle` raises them first when the worker has not yet).
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
from core.auth import Principal
from core.db import utcnow
from core.errors import NotFound, field_error
from core.events import RedemptionMade, publish
from core.regions import prefix_of
from vouchers import repository
from vouchers.errors import (
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    IllegalTransition,
    NotYourVoucher,
    ProgramClosed,
)
from vouchers.models import IdempotencyRecord, Redemption, Voucher, VoucherAudit, VoucherProgram
from vouchers.permissions import PERMISSIONS, Action
from vouchers.schemas import RedeemIn
from vouchers.states import SPENDABLE, RedemptionState, VoucherState
from vouchers.transitions import expire_if_due, expired_error, transition
from vouchers.views import redemption_out

IDEMPOTENCY_KEY_MAX = 200


@dataclass(frozen=True, slots=True)
class RedeemResult:
    status: int
    body: str
    replayed: bool


@dataclass(frozen=True, slots=True)
class _Offer:
    """A redemption checked against everything but the voucher's balance and state."""

    program: VoucherProgram
    agency: AgencySummary
    wanted_fen: int  # the voucher's share of the price


async def redeem(
    session: AsyncSession,
    principal: Principal | None,
    voucher_id: int,
    data: RedeemIn,
    *,
    idempotency_key: str | None = None,
) -> RedeemResult:
    """Spend part of a voucher at an agency. The same `Idempotency-Key` with the same request replays the first
    answer (one effect); with a different request it is refused (422)."""
    actor = PERMISSIONS.check(principal, Action.REDEEM)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= IDEMPOTENCY_KEY_MAX:
        raise field_error("Idempotency-Key", f"must be 1 to {IDEMPOTENCY_KEY_MAX} characters")
    offer = await _checked_offer(session, actor, voucher_id, data)
    locked = await repository.lock_voucher_to_redeem(session, voucher_id)  # every redemption of it queues here
    assert locked is not None
    voucher, redemption_id = locked
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
    await _check_spendable(session, actor, voucher, offer.program, now)
    try:
        redemption, body = await _spend(
            session, actor, voucher, offer, data, redemption_id, now, idempotency=(idempotency_key, request_hash)
        )
    except IntegrityError:
        # Only the (user, key) uniqueness can fail here: the same key sent at the same moment for another voucher.
        # The whole unit of work rolls back with this error, so no savepoint is needed.
        raise IdempotencyKeyInUse(
            "another request with this Idempotency-Key is being processed; retry it to get its answer"
        ) from None
    await publish(session, RedemptionMade(redemption.id))
    return RedeemResult(201, body, replayed=False)


async def _checked_offer(session: AsyncSession, actor: Principal, voucher_id: int, data: RedeemIn) -> _Offer:
    """The voucher's owner, the program's services, the agency's participation and price; read without a lock."""
    found = await repository.voucher_to_redeem(session, voucher_id, data.service_code.value)
    if found is None:
        raise NotFound(f"no voucher {voucher_id}")
    program = found.program
    if not PERMISSIONS.scope(actor, Action.REDEEM).covers(enterprise_id=found.voucher.enterprise_id):
        raise NotYourVoucher("this voucher belongs to another enterprise")
    if not found.covers_service:
        covered = (await repository.program_services(session, [program.id]))[program.id]
        raise field_error("service_code", f"not covered by this programme (covers {', '.join(covered)})")
    agency = await get_agency_summary(session, data.agency_id)
    if agency is None:
        raise field_error("agency_id", "no such agency")
    problem = participation_problem(agency, program, data.service_code.value)
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
    return _Offer(program=program, agency=agency, wanted_fen=wanted)


def participation_problem(agency: AgencySummary, program: VoucherProgram, service_code: str) -> str | None:
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


def _request_hash(voucher_id: int, body: RedeemIn) -> str:
    canonical = json.dumps({"voucher_id": voucher_id, **body.model_dump(mode="json")}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _check_spendable(
    session: AsyncSession, actor: Principal, voucher: Voucher, program: VoucherProgram, now: dt.datetime
) -> None:
    """409 unless the locked voucher can be spent now (recording its expiry when it is overdue)."""
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


async def _spend(
    session: AsyncSession,
    actor: Principal,
    voucher: Voucher,
    offer: _Offer,
    data: RedeemIn,
    redemption_id: int,
    now: dt.datetime,
    *,
    idempotency: tuple[str | None, str],
) -> tuple[Redemption, str]:
    """The pending redemption, its amount (the voucher's share, at most its balance) taken from the voucher: the
    redemption, the voucher, the audit row and the idempotency record (when a key was sent: the key and the
    request's hash) written in one statement. The redemption and the answer's body."""
    amount = min(offer.wanted_fen, voucher.balance_fen)
    redemption = Redemption(
        id=redemption_id,
        voucher_id=voucher.id,
        program_id=offer.program.id,
        enterprise_id=voucher.enterprise_id,
        agency_id=offer.agency.id,
        service_code=data.service_code.value,
        price_fen=data.price_fen,
        amount_fen=amount,
        enterprise_share_fen=data.price_fen - amount,
        state=RedemptionState.PENDING.value,
        created_by=actor.user_id,
        created_at=now,
        flags_checked_at=None,
    )
    body = ""

    async def write(audit: VoucherAudit) -> None:
        nonlocal body
        body = redemption_out(redemption, voucher=voucher).model_dump_json()
        key, request_hash = idempotency
        record = (
            None
            if key is None
            else IdempotencyRecord(
                user_id=actor.user_id, key=key, request_hash=request_hash, status=201, response=body, created_at=now
            )
        )
        await repository.write_redemption(
            session, redemption=redemption, voucher=voucher, audit=audit, idempotency=record
        )

    new_balance = voucher.balance_fen - amount
    to = VoucherState.PARTIALLY_REDEEMED if new_balance > 0 else VoucherState.REDEEMED
    reason = f"{amount} fen of a {data.price_fen} fen {data.service_code.value} at agency {offer.agency.id}"
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
        write=write,
    )
    return redemption, body
