"""The voucher and redemption state machines, tested as tables: every legal move is written out here from the rules
in `vouchers/states.py`'s docstring, and every other (action, state) pair must be refused.

A wrong entry in these tables would let money move where it must not (redeeming a revoked voucher, expiring a
fully spent one) or stop it where it must (cancelling a pending redemption); the guards in the services sit behind
them, so checking the tables directly is what notices a slip in one entry.
"""

from __future__ import annotations

import itertools

import pytest

from vouchers.permissions import TRANSITIONS, Action
from vouchers.states import (
    FINAL,
    REDEMPTION_MOVES,
    SPENDABLE,
    VOUCHER_MOVES,
    RedemptionState,
    VoucherState,
    voucher_state_after_redemptions,
)

V = VoucherState
R = RedemptionState
A = Action

# (action, from, to): the whole voucher state machine. None: the voucher does not exist yet.
LEGAL_VOUCHER_MOVES: set[tuple[Action, VoucherState | None, VoucherState]] = {
    (A.ISSUE, None, V.ISSUED),
    # Spending: only with balance left; the voucher is partly or fully used after.
    (A.REDEEM, V.ISSUED, V.PARTIALLY_REDEEMED),
    (A.REDEEM, V.ISSUED, V.REDEEMED),
    (A.REDEEM, V.PARTIALLY_REDEEMED, V.PARTIALLY_REDEEMED),
    (A.REDEEM, V.PARTIALLY_REDEEMED, V.REDEEMED),
    # The agency confirms a redemption: a fully used voucher is delivered once nothing awaits confirmation.
    (A.CONFIRM, V.PARTIALLY_REDEEMED, V.PARTIALLY_REDEEMED),
    (A.CONFIRM, V.REDEEMED, V.REDEEMED),
    (A.CONFIRM, V.REDEEMED, V.DELIVERED),
    # An official decides (settle or reject): a delivered voucher is settled once everything is decided.
    *((decide, state, state) for decide in (A.SETTLE, A.REJECT) for state in (V.PARTIALLY_REDEEMED, V.REDEEMED)),
    *((decide, V.DELIVERED, to) for decide in (A.SETTLE, A.REJECT) for to in (V.DELIVERED, V.SETTLED)),
    # Redemptions made before an expiry or a revocation keep their own life; the voucher stays where it is.
    *((act, state, state) for act in (A.CONFIRM, A.SETTLE, A.REJECT, A.CANCEL) for state in (V.EXPIRED, V.REVOKED)),
    # Revoking: any voucher not yet final.
    *((A.REVOKE, state, V.REVOKED) for state in (V.ISSUED, V.PARTIALLY_REDEEMED, V.REDEEMED, V.DELIVERED)),
    # Expiring: only with balance left to lapse.
    (A.EXPIRE, V.ISSUED, V.EXPIRED),
    (A.EXPIRE, V.PARTIALLY_REDEEMED, V.EXPIRED),
    # Cancelling a pending redemption gives its amount back (lapsing with the voucher when it is past its expiry).
    (A.CANCEL, V.PARTIALLY_REDEEMED, V.PARTIALLY_REDEEMED),
    (A.CANCEL, V.PARTIALLY_REDEEMED, V.ISSUED),
    (A.CANCEL, V.REDEEMED, V.PARTIALLY_REDEEMED),
    (A.CANCEL, V.REDEEMED, V.ISSUED),
    (A.CANCEL, V.REDEEMED, V.EXPIRED),
}

EVERY_VOUCHER_MOVE = list(itertools.product(TRANSITIONS, [None, *VoucherState], VoucherState))


def table_allows(action: Action, start: VoucherState | None, to: VoucherState) -> bool:
    return to in VOUCHER_MOVES.get(action, {}).get(start, frozenset())


@pytest.mark.parametrize(("action", "start", "to"), sorted(LEGAL_VOUCHER_MOVES, key=str))
def test_every_documented_voucher_move_is_allowed(action: Action, start: VoucherState | None, to: VoucherState) -> None:
    assert table_allows(action, start, to)


def test_no_other_voucher_move_is_allowed() -> None:
    allowed = {move for move in EVERY_VOUCHER_MOVE if table_allows(*move)}
    assert allowed - LEGAL_VOUCHER_MOVES == set()


def test_every_transition_has_voucher_moves_and_every_move_is_a_transition() -> None:
    assert set(VOUCHER_MOVES) == set(TRANSITIONS)


def test_reject_moves_the_voucher_exactly_like_settle() -> None:
    assert VOUCHER_MOVES[A.REJECT] == VOUCHER_MOVES[A.SETTLE]


@pytest.mark.parametrize("state", [V.SETTLED])
def test_a_settled_voucher_never_moves_again(state: VoucherState) -> None:
    assert [action for action in TRANSITIONS if state in VOUCHER_MOVES[action]] == []


@pytest.mark.parametrize("state", [V.EXPIRED, V.REVOKED])
def test_expired_and_revoked_vouchers_only_stay_where_they_are(state: VoucherState) -> None:
    for action in TRANSITIONS:
        assert VOUCHER_MOVES[action].get(state, frozenset()) <= {state}, action
    assert state not in VOUCHER_MOVES[A.REDEEM]
    assert state not in VOUCHER_MOVES[A.EXPIRE]
    assert state not in VOUCHER_MOVES[A.REVOKE]


def test_only_vouchers_with_balance_left_are_spendable_and_final_states_are_final() -> None:
    assert {V.ISSUED, V.PARTIALLY_REDEEMED} == SPENDABLE
    assert {V.SETTLED, V.EXPIRED, V.REVOKED} == FINAL
    assert set(VOUCHER_MOVES[A.REDEEM]) == SPENDABLE
    assert set(VOUCHER_MOVES[A.EXPIRE]) == SPENDABLE


# The redemption state machine: (from, to) per action; redeeming creates one.
LEGAL_REDEMPTION_MOVES = {
    A.REDEEM: (None, R.PENDING),
    A.CONFIRM: (R.PENDING, R.DELIVERED),
    A.SETTLE: (R.DELIVERED, R.SETTLED),
    A.REJECT: (R.DELIVERED, R.REJECTED),
    A.CANCEL: (R.PENDING, R.CANCELLED),
}


def test_the_redemption_moves_are_exactly_the_documented_ones() -> None:
    assert REDEMPTION_MOVES == LEGAL_REDEMPTION_MOVES


def test_issuing_revoking_and_expiring_touch_no_redemption() -> None:
    assert not {A.ISSUE, A.REVOKE, A.EXPIRE} & set(REDEMPTION_MOVES)


# Where a live voucher stands after its redemptions: (state, balance, face value, redemptions) → state.
FACE = 500_000


@pytest.mark.parametrize(
    ("current", "balance", "redemptions", "expected"),
    [
        # Nothing (live) spent: whole again.
        (V.PARTIALLY_REDEEMED, FACE, [], V.ISSUED),
        (V.REDEEMED, FACE, [R.CANCELLED], V.ISSUED),
        (V.PARTIALLY_REDEEMED, FACE, [R.CANCELLED, R.CANCELLED], V.ISSUED),
        # Balance left and something live: partly used, whatever the redemption's stage.
        (V.ISSUED, FACE - 1, [R.PENDING], V.PARTIALLY_REDEEMED),
        (V.REDEEMED, 1, [R.SETTLED, R.CANCELLED], V.PARTIALLY_REDEEMED),
        (V.ISSUED, FACE, [R.PENDING], V.PARTIALLY_REDEEMED),
        # Fully used: the least advanced live redemption decides.
        (V.PARTIALLY_REDEEMED, 0, [R.PENDING, R.DELIVERED, R.SETTLED], V.REDEEMED),
        (V.REDEEMED, 0, [R.DELIVERED, R.SETTLED, R.CANCELLED], V.DELIVERED),
        (V.DELIVERED, 0, [R.SETTLED, R.REJECTED], V.SETTLED),
        (V.DELIVERED, 0, [R.REJECTED], V.SETTLED),
        (V.REDEEMED, 0, [R.PENDING, R.CANCELLED], V.REDEEMED),
        # Final states stay put, whatever the balance says.
        (V.EXPIRED, FACE, [], V.EXPIRED),
        (V.REVOKED, 0, [R.PENDING], V.REVOKED),
        (V.SETTLED, 0, [R.CANCELLED], V.SETTLED),
    ],
)
def test_the_voucher_state_follows_its_balance_and_redemptions(
    current: VoucherState, balance: int, redemptions: list[RedemptionState], expected: VoucherState
) -> None:
    assert voucher_state_after_redemptions(current, balance, FACE, redemptions) is expected
