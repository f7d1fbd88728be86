"""Who may do what with the planner and the protection centres: declared once here (PERMISSIONS), checked by
`fast_track.centres` with the acting principal; officials within their jurisdiction (the centre's seat region).

| action | official | agency staff | enterprise staff | anonymous |
|---|---|---|---|---|
| plan, download the draft, read the centres | yes | yes | yes (the profile fills in) | yes |
| add, edit or delete a centre; read its audit | in their jurisdiction | – | – | – |
"""

from __future__ import annotations

import enum

from core.auth import Role
from core.permissions import PermissionTable, Rule


class Action(enum.StrEnum):
    MANAGE_CENTRES = "manage_centres"
    READ_CENTRE_AUDIT = "read_centre_audit"


OFFICIAL = frozenset({Role.OFFICIAL})

PERMISSIONS = PermissionTable(
    {
        Action.MANAGE_CENTRES: Rule(OFFICIAL),
        Action.READ_CENTRE_AUDIT: Rule(OFFICIAL),
    }
)
