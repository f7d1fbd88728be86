"""The voucher and redemption state machines: the states, what each means, and every legal move.

Voucher states (money is the voucher's `balance_fen`, what it can still pay):

    issued              full face value unspent; can be redeemed
    partially_redeemed  some balance committed to redemptions, some left; can be redeemed again
    redeemed            balance 0; at least one redemption still awaits the agency's confirmation
    delivered           balance 0; every redemption confirmed (or decided), at least one awaits settlement
    settled             balance 0; every redemption decided by an official (paid or rejected) — final
    expired             past `expires_at` with balance left; the balance lapses — final
    revoked             withdrawn by an official with a reason; the unspent balance returns to the budget — final

Only a voucher with balance left can expire (a fully spent one has nothing to lapse). Redemptions already made on a
voucher that later expires or is revoked keep their own life: the agency may still confirm, the official decides.

Redemption states (money is `amount_fen`, the voucher's part of the price):

    pending    made by the enterprise; the amount is taken from the voucher's balance
    delivered  the agency confirmed delivery with its evidence (contract, invoice, proof of co-payment, deliverable)
    settled    an official approved it; the agency is paid `amount_fen` — final
    rejected   an official rejected it with a reason; `amount_fen` returns to the program's budget — final
    cancelled  withdrawn while still pending, by the redeeming enterprise's staff or an official — final. The amount
               goes back on the voucher: a spendable or fully used voucher can spend it again (a `redeemed` one
               becomes `partially_redeemed`, or `issued` when nothing else is left on it); an expired voucher keeps
               it as lapsed balance (the budget does not get it back, like the rest of that balance); a revoked
               voucher has no balance, so the amount returns to the program's budget as the revocation's did.
"""

from __future__ import annotations

import enum

from vouchers.permissions import Action


class VoucherState(enum.StrEnum):
    ISSUED = "issued"
    PARTIALLY_REDEEMED = "partially_redeemed"
    REDEEMED = "redeemed"
    DELIVERED = "delivered"
    SETTLED = "settled"
    EXPIRED = "expired"
    REVOKED = "revoked"


class RedemptionState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    SETTLED = "settled"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


V = VoucherState
R = RedemptionState

# For each action: the voucher states it may start from (None: the voucher does not exist yet) and may lead to.
# Redemption actions (confirm, settle, reject) leave a voucher that is expired or revoked where it is.
VOUCHER_MOVES: dict[Action, dict[VoucherState | None, frozenset[VoucherState]]] = {
    Action.ISSUE: {None: frozenset({V.ISSUED})},
    Action.REDEEM: {
        V.ISSUED: frozenset({V.PARTIALLY_REDEEMED, V.REDEEMED}),
        V.PARTIALLY_REDEEMED: frozenset({V.PARTIALLY_REDEEMED, V.REDEEMED}),
    },
    Action.CONFIRM: {
        V.PARTIALLY_REDEEMED: frozenset({V.PARTIALLY_REDEEMED}),
        V.REDEEMED: frozenset({V.REDEEMED, V.DELIVERED}),
        V.EXPIRED: frozenset({V.EXPIRED}),
        V.REVOKED: frozenset({V.REVOKED}),
    },
    Action.SETTLE: {
        V.PARTIALLY_REDEEMED: frozenset({V.PARTIALLY_REDEEMED}),
        V.REDEEMED: frozenset({V.REDEEMED}),
        V.DELIVERED: frozenset({V.DELIVERED, V.SETTLED}),
        V.EXPIRED: frozenset({V.EXPIRED}),
        V.REVOKED: frozenset({V.REVOKED}),
    },
    Action.REVOKE: {
        V.ISSUED: frozenset({V.REVOKED}),
        V.PARTIALLY_REDEEMED: frozenset({V.REVOKED}),
        V.REDEEMED: frozenset({V.REVOKED}),
        V.DELIVERED: frozenset({V.REVOKED}),
    },
    Action.EXPIRE: {
        V.ISSUED: frozenset({V.EXPIRED}),
        V.PARTIALLY_REDEEMED: frozenset({V.EXPIRED}),
    },
}
VOUCHER_MOVES[Action.REJECT] = VOUCHER_MOVES[Action.SETTLE]
# Cancelling a pending redemption gives its amount back: a fully used voucher is spendable again (or expired, when it
# is past `expires_at`: the amount lapses with it); an expired or revoked voucher stays where it is.
VOUCHER_MOVES[Action.CANCEL] = {
    V.PARTIALLY_REDEEMED: frozenset({V.PARTIALLY_REDEEMED, V.ISSUED}),
    V.REDEEMED: frozenset({V.PARTIALLY_REDEEMED, V.ISSUED, V.EXPIRED}),
    V.EXPIRED: frozenset({V.EXPIRED}),
    V.REVOKED: frozenset({V.REVOKED}),
}

# For each action on a redemption: from which state to which.
REDEMPTION_MOVES: dict[Action, tuple[RedemptionState | None, RedemptionState]] = {
    Action.REDEEM: (None, R.PENDING),
    Action.CONFIRM: (R.PENDING, R.DELIVERED),
    Action.SETTLE: (R.DELIVERED, R.SETTLED),
    Action.REJECT: (R.DELIVERED, R.REJECTED),
    Action.CANCEL: (R.PENDING, R.CANCELLED),
}

SPENDABLE = frozenset({V.ISSUED, V.PARTIALLY_REDEEMED})
FINAL = frozenset({V.SETTLED, V.EXPIRED, V.REVOKED})

VOUCHER_LABELS: dict[VoucherState, tuple[str, str]] = {
    V.ISSUED: ("已发放", "Issued"),
    V.PARTIALLY_REDEEMED: ("部分使用", "Partially redeemed"),
    V.REDEEMED: ("已使用，待机构确认", "Redeemed, awaiting the agency's confirmation"),
    V.DELIVERED: ("服务已交付，待结算", "Service delivered, awaiting settlement"),
    V.SETTLED: ("已结算", "Settled"),
    V.EXPIRED: ("已过期", "Expired"),
    V.REVOKED: ("已撤销", "Revoked"),
}


def voucher_state_after_redemptions(
    current: VoucherState, balance_fen: int, face_value_fen: int, redemption_states: list[RedemptionState]
) -> VoucherState:
    """Where a live voucher stands given its balance and its redemptions' states (final states stay put).

    Cancelled redemptions do not count: a voucher whose every redemption was cancelled is `issued` again."""
    if current in (V.EXPIRED, V.REVOKED, V.SETTLED):
        return current
    live = [s for s in redemption_states if s is not R.CANCELLED]
    if balance_fen > 0:
        return V.ISSUED if balance_fen == face_value_fen and not live else V.PARTIALLY_REDEEMED
    if R.PENDING in live:
        return V.REDEEMED
    if R.DELIVERED in live:
        return V.DELIVERED
    return V.SETTLED
