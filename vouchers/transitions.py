"""The one way a voucher, a redemption or a program's committed money changes: `transition`, and lazy expiry.

Concurrency — why row locks and not SERIALIZABLE. Every money-moving write first locks the one row whose
invariant it protects, with `SELECT … FOR UPDATE` (see `repository.lock_*`), before it calls `transition`:
  * issuing locks the program row: the budget (`committed_fen <= budget_fen`) and the per-enterprise yearly cap
    are sums over that program, so two officials issuing at once queue on it;
  * redeeming locks the voucher row: the balance and the `Idempotency-Key` lookup happen under that lock, so the
    second of two identical requests sees the first one's committed result instead of spending twice;
  * confirm, settle, reject, cancel and revoke lock the voucher, then the redemption, then (when money returns to
    the budget) the program — always in that order, and issuing never holds a voucher lock, so there is no lock
    cycle. A cancel racing the agency's confirm of the same redemption queues on the voucher row; the second reads
    the redemption again under the lock, finds it no longer pending and answers 409.
Row locks make conflicting requests wait and then succeed or fail on the real current state; SERIALIZABLE would
abort one of them with a serialization error that we would have to retry (under the 64-client contention benchmark
that is a retry storm), and it would also abort unrelated requests on predicate-lock false positives. On SQLite,
write requests begin with BEGIN IMMEDIATE (core.db), so they serialize on the database lock and FOR UPDATE is not
needed (SQLAlchemy does not render it there). The CHECK constraints on balances and the budget are the last line.

Expiry needs no cron job: a spendable voucher past `expires_at` is reported as expired on every read
(`effective_state`) and is moved to `expired`, with its audit row, by the first transition that touches it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import Principal
from core.db import Database, utcnow
from core.events import VoucherStateChanged, publish
from vouchers import repository
from vouchers.errors import BudgetExceeded, IllegalTransition, VoucherExpired
from vouchers.models import Redemption, Voucher, VoucherAudit, VoucherProgram
from vouchers.permissions import PERMISSIONS, Action
from vouchers.states import REDEMPTION_MOVES, SPENDABLE, VOUCHER_MOVES, RedemptionState, VoucherState

# Moves the system makes by itself (audit actor `system`): an overdue voucher expires; a programme that approves
# applications first come first served issues the applicant's voucher (`vouchers.applications`).
WITHOUT_ACTOR = frozenset({Action.EXPIRE, Action.ISSUE})


def effective_state(voucher: Voucher, now: dt.datetime | None = None) -> VoucherState:
    """The state as of now: a spendable voucher past its expiry is expired even before that is recorded."""
    state = VoucherState(voucher.state)
    if state in SPENDABLE and (now or utcnow()) >= voucher.expires_at:
        return VoucherState.EXPIRED
    return state


def expiry_reason(voucher: Voucher, balance_fen: int | None = None) -> str:
    lapsed = voucher.balance_fen if balance_fen is None else balance_fen
    return f"expired at {voucher.expires_at.isoformat()}; the unspent {lapsed} fen lapsed"


async def transition(
    session: AsyncSession,
    actor: Principal | None,
    action: Action,
    voucher: Voucher,
    *,
    to: VoucherState,
    redemption: Redemption | None = None,
    program: VoucherProgram | None = None,
    amount: int = 0,
    balance_delta: int = 0,
    program_delta: int = 0,
    reason: str = "",
    state_reason: str | None = None,
    now: dt.datetime | None = None,
    write: Callable[[VoucherAudit], Awaitable[None]] | None = None,
) -> VoucherAudit:
    """Every change of a voucher, a redemption or a program's committed money goes through here.

    Checks the actor's role for the action and that the move is legal from the current states (409 with the current
    state otherwise), applies the money, writes the audit row in the same transaction and publishes
    `VoucherStateChanged` when the voucher's state changes. Callers hold the row locks (see the module docstring).

    `write`: the caller writes the voucher, the redemption (both with their ids) and the audit row itself, in one
    statement (`repository.write_redemption`), instead of leaving them to the session; called with the audit row
    before the event is published (whose subscribers' statements would flush the session's changes first).
    """
    if actor is None and action not in WITHOUT_ACTOR:
        raise AssertionError("only expiry and an automatic approval's issue may happen without an actor")
    if actor is not None:
        PERMISSIONS.check(actor, action)
    now = now or utcnow()
    current = _legal_voucher_move(action, voucher, to)
    redemption_from, redemption_to = _move_redemption(action, redemption)
    new_balance = _balance_after(voucher, balance_delta)
    if program_delta:
        assert program is not None and program.id == voucher.program_id
        _commit_to_program(program, program_delta)

    old_state = voucher.state if current is not None else ""
    voucher.balance_fen = new_balance
    voucher.state = to.value
    if state_reason is not None:
        voucher.state_reason = state_reason
    voucher.updated_at = now
    if voucher.id is None or (redemption is not None and redemption.id is None):
        assert write is None, "a caller that writes the rows itself gives them their ids"
        await session.flush()
    audit = VoucherAudit(
        program_id=voucher.program_id,
        voucher_id=voucher.id,
        redemption_id=None if redemption is None else redemption.id,
        action=action.value,
        from_state=current.value if current else None,
        to_state=to.value,
        redemption_from=redemption_from.value if redemption_from else None,
        redemption_to=redemption_to.value if redemption_to else None,
        amount_fen=amount,
        balance_delta_fen=balance_delta,
        balance_after_fen=new_balance,
        program_delta_fen=program_delta,
        actor_user_id=None if actor is None else actor.user_id,
        actor_role="system" if actor is None else actor.role.value,
        reason=reason,
        created_at=now,
    )
    if write is None:
        session.add(audit)  # flushed with the unit of work's next statement or its commit
    else:
        await write(audit)
    if old_state != to.value:
        await publish(
            session,
            VoucherStateChanged(
                voucher_id=voucher.id,
                enterprise_id=voucher.enterprise_id,
                old_state=old_state,
                new_state=to.value,
                balance_fen=new_balance,
                expires_at=voucher.expires_at,
            ),
        )
    return audit


def _legal_voucher_move(action: Action, voucher: Voucher, to: VoucherState) -> VoucherState | None:
    """The voucher's current state (None before it is issued), if `action` may move it to `to`; 409 otherwise."""
    current = None if action is Action.ISSUE else VoucherState(voucher.state)
    allowed = VOUCHER_MOVES[action].get(current)
    if allowed is None or to not in allowed:
        raise IllegalTransition(
            f"cannot {action.value} a voucher that is {current.value if current else 'not issued'}",
            details={"voucher_id": voucher.id, "state": current.value if current else None, "action": action.value},
        )
    return current


def _move_redemption(
    action: Action, redemption: Redemption | None
) -> tuple[RedemptionState | None, RedemptionState | None]:
    """Move the redemption `action` acts on (if it acts on one); its states before and after, or 409."""
    if action not in REDEMPTION_MOVES:
        return None, None
    assert redemption is not None
    expected, redemption_to = REDEMPTION_MOVES[action]
    redemption_from = None if action is Action.REDEEM else RedemptionState(redemption.state)
    if redemption_from != expected:
        raise IllegalTransition(
            f"cannot {action.value} a redemption that is {redemption_from}",
            details={"redemption_id": redemption.id, "state": redemption_from, "action": action.value},
        )
    redemption.state = redemption_to.value
    return redemption_from, redemption_to


def _balance_after(voucher: Voucher, balance_delta: int) -> int:
    new_balance = voucher.balance_fen + balance_delta
    if not 0 <= new_balance <= voucher.face_value_fen:
        raise IllegalTransition(
            "that would take the voucher's balance out of range",
            details={"voucher_id": voucher.id, "state": voucher.state, "balance_fen": voucher.balance_fen},
        )
    return new_balance


def _commit_to_program(program: VoucherProgram, program_delta: int) -> None:
    """Add `program_delta` to what the program has committed, never past its budget."""
    committed = program.committed_fen + program_delta
    if committed > program.budget_fen:
        raise BudgetExceeded(
            "that would exceed the programme's budget",
            details={"budget_fen": program.budget_fen, "remaining_fen": program.budget_fen - program.committed_fen},
        )
    assert committed >= 0, "a program cannot get back more than it committed"
    program.committed_fen = committed


async def expire_if_due(session: AsyncSession, actor: Principal | None, voucher: Voucher, now: dt.datetime) -> bool:
    """Record the expiry of an overdue spendable voucher (its audit row included); True when it is expired now."""
    if VoucherState(voucher.state) is VoucherState.EXPIRED:
        return True
    if effective_state(voucher, now) is not VoucherState.EXPIRED:
        return False
    reason = expiry_reason(voucher)
    await transition(
        session,
        actor,
        Action.EXPIRE,
        voucher,
        to=VoucherState.EXPIRED,
        amount=voucher.balance_fen,
        reason=reason,
        state_reason=reason,
        now=now,
    )
    return True


async def materialise_expiry(db: Database, voucher_id: int) -> None:
    """Record an overdue voucher's expiry in its own transaction.

    A request that finds its voucher expired answers 409 and rolls back; this keeps the expiry (and its audit row)
    anyway. Idempotent: a voucher already expired, or not overdue, is left alone.
    """
    async with db.transaction() as session:
        voucher = await repository.lock_voucher(session, voucher_id)
        if voucher is not None:
            await expire_if_due(session, None, voucher, utcnow())


def expired_error(voucher: Voucher) -> VoucherExpired:
    return VoucherExpired(
        f"voucher {voucher.id} expired at {voucher.expires_at.isoformat()}",
        voucher_id=voucher.id,
        details={
            "voucher_id": voucher.id,
            "state": VoucherState.EXPIRED.value,
            "expires_at": voucher.expires_at.isoformat(),
        },
    )
