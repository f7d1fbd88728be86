"""Who may do what with enterprises: declared once here (PERMISSIONS), checked by `enterprises.profiles` with the
acting principal; ownership (`own_only`) after the role.

| action | official | agency staff | enterprise staff | anonymous |
|---|---|---|---|---|
| register, correct, record the qualification | yes | – | – | – |
| search the enterprises | yes | – | – | – |
| read an enterprise | any | – | their own | – |
"""

from __future__ import annotations

import enum

from core.auth import Role
from core.permissions import PermissionTable, Rule


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    SET_QUALIFICATION = "set_qualification"
    LIST = "list"
    READ = "read"


OFFICIAL = frozenset({Role.OFFICIAL})
ENTERPRISE = frozenset({Role.ENTERPRISE})

PERMISSIONS = PermissionTable(
    {
        Action.CREATE: Rule(OFFICIAL),
        Action.UPDATE: Rule(OFFICIAL),
        Action.SET_QUALIFICATION: Rule(OFFICIAL),
        Action.LIST: Rule(OFFICIAL),
        Action.READ: Rule(OFFICIAL | ENTERPRISE, own_only=ENTERPRISE),
    }
)
