"""Who may do what with accounts: declared once here, checked by the accounts services with the acting principal.

| action | official | agency staff | enterprise staff | anonymous |
|---|---|---|---|---|
| log in (password), accept an agency invitation | – | – | – | yes (the password / the code is the credential) |
| `read_own_account` (`GET /api/v1/me`), `log_out`, `change_own_password` | own | own | own | – |
| `request_binding`: bind to an enterprise (or register it), read the request | – | – | own, while unbound | – |
| `manage_staff`: list, approve, reject, remove staff | region's enterprises | – | administrator: own | – |
| `verify_enterprise`: verify an enterprise registered by its staff | their region's | – | – | – |
| `invite_agency_staff`: invite, list, withdraw | region's agencies | administrator: own agency | – | – |
| `manage_officials`: create, deactivate, reset passwords | administrator: region and below | – | – | – |
| `read_audit`: the account audit | their region's entries | – | – | – |

A mini-program user accepts an invitation with their bearer token (the enterprise role, bound to nothing); the
`create-user` command and the seeders create accounts too.
"""

from __future__ import annotations

import enum

from core.auth import Principal, Role
from core.errors import Forbidden
from core.permissions import ANY_ROLE, PermissionTable, Rule

OFFICIAL = frozenset({Role.OFFICIAL})
AGENCY = frozenset({Role.AGENCY})
ENTERPRISE = frozenset({Role.ENTERPRISE})


class Action(enum.StrEnum):
    READ_OWN_ACCOUNT = "read_own_account"
    LOG_OUT = "log_out"
    CHANGE_OWN_PASSWORD = "change_own_password"
    REQUEST_BINDING = "request_binding"
    MANAGE_STAFF = "manage_staff"
    VERIFY_ENTERPRISE = "verify_enterprise"
    INVITE_AGENCY_STAFF = "invite_agency_staff"
    MANAGE_OFFICIALS = "manage_officials"
    READ_AUDIT = "read_audit"


PERMISSIONS = PermissionTable(
    {
        Action.READ_OWN_ACCOUNT: Rule(ANY_ROLE, own_only=ANY_ROLE),
        Action.LOG_OUT: Rule(ANY_ROLE, own_only=ANY_ROLE),
        Action.CHANGE_OWN_PASSWORD: Rule(ANY_ROLE, own_only=ANY_ROLE),
        Action.REQUEST_BINDING: Rule(ENTERPRISE, own_only=ENTERPRISE),
        Action.MANAGE_STAFF: Rule(OFFICIAL | ENTERPRISE, own_only=ENTERPRISE),
        Action.VERIFY_ENTERPRISE: Rule(OFFICIAL),
        Action.INVITE_AGENCY_STAFF: Rule(OFFICIAL | AGENCY, own_only=AGENCY),
        Action.MANAGE_OFFICIALS: Rule(OFFICIAL),
        Action.READ_AUDIT: Rule(OFFICIAL),
    }
)

# Staff actions only an administrator of the enterprise or agency (or officials' administrator) may take.
ADMIN_ONLY = frozenset({Action.MANAGE_STAFF, Action.INVITE_AGENCY_STAFF, Action.MANAGE_OFFICIALS})


class NotAdministrator(Forbidden):
    code = "not_administrator"


def check_admin(principal: Principal, action: Action) -> None:
    """403 `not_administrator` when `action` needs an administrator and `principal` is not one (officials need
    to be one only to manage officials)."""
    if action not in ADMIN_ONLY or principal.is_admin:
        return
    if principal.role is Role.OFFICIAL and action is not Action.MANAGE_OFFICIALS:
        return
    raise NotAdministrator(f"only an administrator may {action.value.replace('_', ' ')}")
