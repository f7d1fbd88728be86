"""Who is acting: the principal behind a bearer token, the role checks services call, and the scope of records a
principal may reach.

Permission checks live in the services (they receive the acting `Principal`); routes declare the roles they need as
well, so a caller of the wrong role is refused before the request's input is read (`core.http`). The `accounts`
domain owns users and tokens and installs the resolver the auth middleware uses.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import ColumnElement, SQLColumnExpression, false, true

from core.errors import Forbidden, Unauthenticated


class Role(enum.StrEnum):
    OFFICIAL = "official"
    AGENCY = "agency"
    ENTERPRISE = "enterprise"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    username: str
    role: Role
    agency_id: int | None = None
    enterprise_id: int | None = None
    token_id: int | None = None

    @property
    def is_official(self) -> bool:
        return self.role is Role.OFFICIAL


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose records a principal may reach: every agency's and enterprise's, one agency's, one enterprise's, or none.

    A missing owner narrows, never widens: agency staff without an agency, and enterprise staff without an enterprise
    (a mini-program user not yet bound to one), reach nothing. Repositories filter with `where` and detail checks ask
    `covers`, so no caller can turn "no id" into "no filter". Records a user owns (tickets, follows, consents) are
    filtered by the user's id, which every principal has.
    """

    everything: bool = False
    agency_id: int | None = None
    enterprise_id: int | None = None

    @classmethod
    def of(cls, principal: Principal) -> Scope:
        """Officials oversee every agency and enterprise; staff reach their own one, or nothing without it."""
        if principal.role is Role.OFFICIAL:
            return EVERYTHING
        if principal.role is Role.AGENCY and principal.agency_id is not None:
            return cls(agency_id=principal.agency_id)
        if principal.role is Role.ENTERPRISE and principal.enterprise_id is not None:
            return cls(enterprise_id=principal.enterprise_id)
        return NOTHING

    def covers(self, *, agency_id: int | None = None, enterprise_id: int | None = None) -> bool:
        """Whether a record of this agency and/or enterprise is within the scope."""
        if self.everything:
            return True
        if self.agency_id is not None and agency_id == self.agency_id:
            return True
        return self.enterprise_id is not None and enterprise_id == self.enterprise_id

    def where(
        self, *, agency: SQLColumnExpression[int] | None = None, enterprise: SQLColumnExpression[int] | None = None
    ) -> ColumnElement[bool]:
        """The condition on a table's owner columns that keeps only the scope's rows (none for a column not given)."""
        if self.everything:
            return true()
        if self.agency_id is not None and agency is not None:
            return agency == self.agency_id
        if self.enterprise_id is not None and enterprise is not None:
            return enterprise == self.enterprise_id
        return false()


EVERYTHING = Scope(everything=True)
NOTHING = Scope()


TokenResolver = Callable[[web.Application, str], Awaitable[Principal | None]]

PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal")
# Installed by the accounts domain; without it every bearer token is refused.
TOKEN_RESOLVER: web.AppKey[TokenResolver] = web.AppKey("token_resolver")


def require(principal: Principal | None, *roles: Role) -> Principal:
    """The principal, if it holds one of `roles` (any role when none are given); 401 or 403 otherwise."""
    if principal is None:
        raise Unauthenticated("log in first: this needs a bearer token")
    if roles and principal.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise Forbidden(f"this needs the role {allowed}; you are {principal.role.value}")
    return principal


def principal_of(request: web.Request) -> Principal | None:
    return request.get(PRINCIPAL)


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolve a bearer token when one is sent; a bad or expired one is a 401, never silently anonymous."""
    token = bearer_token(request)
    if token is not None and request.path.startswith("/api/"):
        resolver = request.app.get(TOKEN_RESOLVER)
        principal = await resolver(request.app, token) if resolver is not None else None
        if principal is None:
            raise Unauthenticated("the token is invalid, expired or logged out; log in again", code="token_invalid")
        request[PRINCIPAL] = principal
    return await handler(request)
