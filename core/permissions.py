"""The one way every domain declares who may do what.

Each domain's `permissions.py` names its actions in a `StrEnum` and maps each to a `Rule` in a `PermissionTable`;
its services call `PERMISSIONS.check(principal, Action.X)` with the acting principal, and its routes declare
`roles=PERMISSIONS.roles(Action.X)` so the role is checked before the request's input is read. Ownership (own
agency, own enterprise, own records) is a property of the data, so the service checks it after the role;
`Rule.own_only` says for which roles it applies, and `PERMISSIONS.scope(principal, Action.X)` turns that into the
`Scope` repositories filter by, so the table stays the single place the authorization tests are generated from.

Officials act within their jurisdiction (a region and below, `Scope.of`): `PERMISSIONS.scope` gives an official
that region for every action, and `PERMISSIONS.check_region` refuses (403 `outside_jurisdiction`) a record of
another region.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from core.auth import EVERYTHING, Principal, Role, Scope, require
from core.errors import Forbidden

ANY_ROLE: frozenset[Role] = frozenset(Role)
A = TypeVar("A", bound=enum.StrEnum)


@dataclass(frozen=True, slots=True)
class Rule:
    roles: frozenset[Role]
    # Roles that may act only on what they own (their agency, their enterprise, their records).
    own_only: frozenset[Role] = frozenset()


class OutsideJurisdiction(Forbidden):
    """An official acting on a record of a region outside their own."""

    code = "outside_jurisdiction"


class PermissionTable(Generic[A]):
    """A domain's actions and the roles each needs."""

    def __init__(self, rules: Mapping[A, Rule]) -> None:
        self.rules: dict[A, Rule] = dict(rules)

    def roles(self, action: A) -> frozenset[Role]:
        return self.rules[action].roles

    def check(self, principal: Principal | None, action: A) -> Principal:
        """The principal, if its role may do `action`; 401 for nobody, 403 for a role outside the rule (every role,
        when the rule names none: an empty rule denies, it never means "any role")."""
        roles = self.rules[action].roles
        if not roles:
            require(principal)  # 401 for nobody
            raise Forbidden(f"no role may {action.value}")
        return require(principal, *sorted(roles)) if roles != ANY_ROLE else require(principal)

    def own_only(self, principal: Principal, action: A) -> bool:
        """Whether this principal's role is limited to what it owns for `action`."""
        return principal.role in self.rules[action].own_only

    def scope(self, principal: Principal, action: A) -> Scope:
        """The agencies' and enterprises' records `principal` may reach with `action`: all of them, unless the rule
        limits its role to what it owns — then its own (nothing, when it belongs to none); an official's, those of
        their region and below."""
        if self.own_only(principal, action) or principal.role is Role.OFFICIAL:
            return Scope.of(principal)
        return EVERYTHING

    def check_region(self, principal: Principal, action: A, region_code: str | None, what: str) -> None:
        """403 `outside_jurisdiction` when `principal` is an official and `what` (in `region_code`) lies outside
        their region; staff's ownership is checked by `scope(...).covers` instead."""
        if principal.role is not Role.OFFICIAL:
            return
        scope = Scope.of(principal)
        if not (scope.everything and scope.reaches(region_code)):
            raise OutsideJurisdiction(
                f"{what} is in region {region_code}, outside your jurisdiction ({principal.region_code or 'none'})",
                details={"region_code": region_code, "your_region": principal.region_code},
            )
