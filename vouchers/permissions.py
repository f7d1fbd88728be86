"""Who may do what with vouchers — declared once; the services check it, the authorization tests read it.

| action | official | enterprise staff | agency staff |
|---|---|---|---|
| program.create, program.list_vouchers, program.report, flags.list | yes | – | – |
| issue, revoke, settle, reject | yes | – | – |
| voucher.read | any voucher | own enterprise's | – |
| voucher.mine | – | yes | – |
| redeem | – | own enterprise's vouchers | – |
| confirm | – | – | redemptions at own agency |
| cancel | with a reason | own enterprise's pending redemptions | – |
| redemption.read | all | own enterprise's | own agency's |
| expire | yes | yes | yes |
| program.applications (open a programme for applications) | yes | – | – |
| application.programs (programmes to apply to, and why not) | – | own enterprise's view | – |
| application.submit | – | for own enterprise | – |
| application.read | all | own enterprise's | – |
| application.decide (approve, waitlist, reject; in bulk too) | yes | – | – |

Expiry is done by time: whoever touches an overdue voucher records it (or no one, in a transaction of its own).
Anonymous callers may do none of these (the program directory is public and needs no action here). Ownership — the
"own" above — is a property of the data, so the services check it after the role (`Rule.own_only`), through
`PERMISSIONS.scope`: staff whose account belongs to no enterprise or agency own nothing, and see no redemption.

The transitions (issue … cancel) are also the moves of the state machines (`vouchers.states`), which the audit
records.
"""

from __future__ import annotations

import enum

from core.auth import Role
from core.permissions import ANY_ROLE, PermissionTable, Rule


class Action(enum.StrEnum):
    # Transitions: the audit records these (see vouchers.states).
    ISSUE = "issue"
    REDEEM = "redeem"
    CONFIRM = "confirm"
    SETTLE = "settle"
    REJECT = "reject"
    REVOKE = "revoke"
    EXPIRE = "expire"
    CANCEL = "cancel"
    # Reads and the program's own writes.
    CREATE_PROGRAM = "program.create"
    LIST_PROGRAM_VOUCHERS = "program.list_vouchers"
    READ_REPORT = "program.report"
    LIST_FLAGS = "flags.list"
    READ_VOUCHER = "voucher.read"
    LIST_MY_VOUCHERS = "voucher.mine"
    READ_REDEMPTION = "redemption.read"
    # Applications for a voucher.
    CONFIGURE_APPLICATIONS = "program.applications"
    LIST_APPLYABLE = "application.programs"
    APPLY = "application.submit"
    READ_APPLICATION = "application.read"
    DECIDE_APPLICATION = "application.decide"


TRANSITIONS: tuple[Action, ...] = (
    Action.ISSUE,
    Action.REDEEM,
    Action.CONFIRM,
    Action.SETTLE,
    Action.REJECT,
    Action.REVOKE,
    Action.EXPIRE,
    Action.CANCEL,
)

OFFICIAL = frozenset({Role.OFFICIAL})
ENTERPRISE = frozenset({Role.ENTERPRISE})
AGENCY = frozenset({Role.AGENCY})

PERMISSIONS: PermissionTable[Action] = PermissionTable(
    {
        Action.ISSUE: Rule(OFFICIAL),
        Action.REDEEM: Rule(ENTERPRISE, own_only=ENTERPRISE),
        Action.CONFIRM: Rule(AGENCY, own_only=AGENCY),
        Action.SETTLE: Rule(OFFICIAL),
        Action.REJECT: Rule(OFFICIAL),
        Action.REVOKE: Rule(OFFICIAL),
        Action.EXPIRE: Rule(ANY_ROLE),
        Action.CANCEL: Rule(frozenset({Role.ENTERPRISE, Role.OFFICIAL}), own_only=ENTERPRISE),
        Action.CREATE_PROGRAM: Rule(OFFICIAL),
        Action.LIST_PROGRAM_VOUCHERS: Rule(OFFICIAL),
        Action.READ_REPORT: Rule(OFFICIAL),
        Action.LIST_FLAGS: Rule(OFFICIAL),
        Action.READ_VOUCHER: Rule(frozenset({Role.OFFICIAL, Role.ENTERPRISE}), own_only=ENTERPRISE),
        Action.LIST_MY_VOUCHERS: Rule(ENTERPRISE, own_only=ENTERPRISE),
        Action.READ_REDEMPTION: Rule(ANY_ROLE, own_only=frozenset({Role.ENTERPRISE, Role.AGENCY})),
        Action.CONFIGURE_APPLICATIONS: Rule(OFFICIAL),
        Action.LIST_APPLYABLE: Rule(ENTERPRISE, own_only=ENTERPRISE),
        Action.APPLY: Rule(ENTERPRISE, own_only=ENTERPRISE),
        Action.READ_APPLICATION: Rule(frozenset({Role.OFFICIAL, Role.ENTERPRISE}), own_only=ENTERPRISE),
        Action.DECIDE_APPLICATION: Rule(OFFICIAL),
    }
)
