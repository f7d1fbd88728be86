"""Who may do what with enterprises. The services check these; the authorization tests are generated from them.

Enterprise staff additionally see only their own enterprise (checked in the service).
"""

from __future__ import annotations

from core.auth import Principal, Role, require

PERMISSIONS: dict[str, frozenset[Role]] = {
    "enterprise.create": frozenset({Role.OFFICIAL}),
    "enterprise.update": frozenset({Role.OFFICIAL}),
    "enterprise.set_qualification": frozenset({Role.OFFICIAL}),
    "enterprise.list": frozenset({Role.OFFICIAL}),
    "enterprise.read": frozenset({Role.OFFICIAL, Role.ENTERPRISE}),
}


def check(principal: Principal | None, action: str) -> Principal:
    return require(principal, *sorted(PERMISSIONS[action]))
