"""Who may do what with accounts: declared once here, checked by `accounts.service` with the acting principal.

| action | official | agency staff | enterprise staff | anonymous |
|---|---|---|---|---|
| log in (password) | – | – | – | yes (the password is the credential) |
| `read_own_account` (`GET /api/v1/me`) | own | own | own | – |
| `log_out`: revoke the token of the request | own | own | own | – |

Creating users has no rule here: only the `create-user` command and the seeders do it.
"""

from __future__ import annotations

import enum

from core.permissions import ANY_ROLE, PermissionTable, Rule


class Action(enum.StrEnum):
    READ_OWN_ACCOUNT = "read_own_account"
    LOG_OUT = "log_out"


PERMISSIONS = PermissionTable(
    {
        Action.READ_OWN_ACCOUNT: Rule(ANY_ROLE, own_only=ANY_ROLE),
        Action.LOG_OUT: Rule(ANY_ROLE, own_only=ANY_ROLE),
    }
)
