"""Who may do what with vouchers — declared once; the service checks it, the authorization tests read it.

Ownership rules on top of the roles (checked in the service): enterprise staff act only on their own
enterprise's vouchers and redemptions; agency staff only on redemptions made at their own agency.
"""

from __future__ import annotations

from core.auth import Principal, Role, require
from vouchers.states import Action

OFFICIAL = frozenset({Role.OFFICIAL})
ENTERPRISE = frozenset({Role.ENTERPRISE})
AGENCY = frozenset({Role.AGENCY})

# State-changing actions (see vouchers.states) — the roles that may perform them.
TRANSITION_ROLES: dict[Action, frozenset[Role]] = {
    Action.ISSUE: OFFICIAL,
    Action.REDEEM: ENTERPRISE,
    Action.CONFIRM: AGENCY,
    Action.SETTLE: OFFICIAL,
    Action.REJECT: OFFICIAL,
    Action.REVOKE: OFFICIAL,
    Action.EXPIRE: frozenset(Role),  # time does it; whoever touches an overdue voucher records it
    # Staff of the redeeming enterprise (their own redemptions only), or an official with a reason.
    Action.CANCEL: frozenset({Role.ENTERPRISE, Role.OFFICIAL}),
}

# Everything else.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "program.create": OFFICIAL,
    "program.list_vouchers": OFFICIAL,
    "program.report": OFFICIAL,
    "flags.list": OFFICIAL,
    "voucher.read": frozenset({Role.OFFICIAL, Role.ENTERPRISE}),
    "voucher.mine": ENTERPRISE,
    "redemption.read": frozenset(Role),
}


def check(principal: Principal | None, action: str) -> Principal:
    return require(principal, *sorted(PERMISSIONS[action]))


def check_transition(principal: Principal | None, action: Action) -> Principal:
    return require(principal, *sorted(TRANSITION_ROLES[action]))
