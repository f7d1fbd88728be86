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
from sqlalchemy import ColumnElement, SQLColumnExpression, and_, false, true

from core.errors import Forbidden, Unauthenticated
from core.regions import code_range, prefix_of

# The region code of a national official: every province's records are in their jurisdiction.
NATIONWIDE = "000000"


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
    # Officials: the region they belong to (province, city or district code; `NATIONWIDE` for the whole country).
    region_code: str | None = None
    # The administrator of their enterprise or agency (approves staff, invites), or officials' administrator.
    is_admin: bool = False

    @property
    def is_official(self) -> bool:
        return self.role is Role.OFFICIAL


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose records a principal may reach: every agency's and enterprise's (within a region, for officials), one
    agency's, one enterprise's, or none.

    A missing owner narrows, never widens: agency staff without an agency, enterprise staff without an enterprise
    (a mini-program user not yet bound to one) and an official without a region reach nothing. Repositories filter
    with `where` and detail checks ask `covers`, so no caller can turn "no id" into "no filter". A scope limited to
    a region (`region`, a code prefix) covers a record only when the record's region code is given and inside it:
    a caller that forgets to say where a record is gets a refusal, never everything. Records a user owns (tickets,
    follows, consents) are filtered by the user's id, which every principal has.
    """

    everything: bool = False
    agency_id: int | None = None
    enterprise_id: int | None = None
    # The code prefix of an official's jurisdiction ("33": Zhejiang, "3301": Hangzhou); None: not limited.
    region: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Scope:
        """Officials oversee the agencies and enterprises of their region and below; staff reach their own one, or
        nothing without it."""
        if principal.role is Role.OFFICIAL:
            return cls.jurisdiction(principal.region_code)
        if principal.role is Role.AGENCY and principal.agency_id is not None:
            return cls(agency_id=principal.agency_id)
        if principal.role is Role.ENTERPRISE and principal.enterprise_id is not None:
            return cls(enterprise_id=principal.enterprise_id)
        return NOTHING

    @classmethod
    def jurisdiction(cls, region_code: str | None) -> Scope:
        """An official's scope: the whole country, a region and below, or nothing for an official of no region."""
        if region_code is None:
            return NOTHING
        if region_code == NATIONWIDE:
            return EVERYTHING
        return cls(everything=True, region=prefix_of(region_code))

    @property
    def limited_to_region(self) -> bool:
        return self.region is not None

    def reaches(self, region_code: str | None) -> bool:
        """Whether a record in `region_code` is inside the scope's region (always, for a scope of no region)."""
        if self.region is None:
            return True
        return region_code is not None and region_code.startswith(self.region)

    def covers(
        self, *, agency_id: int | None = None, enterprise_id: int | None = None, region_code: str | None = None
    ) -> bool:
        """Whether a record of this agency and/or enterprise, in `region_code`, is within the scope."""
        if self.everything:
            return self.reaches(region_code)
        if self.agency_id is not None and agency_id == self.agency_id:
            return True
        return self.enterprise_id is not None and enterprise_id == self.enterprise_id

    def where(
        self,
        *,
        agency: SQLColumnExpression[int] | None = None,
        enterprise: SQLColumnExpression[int] | None = None,
        region: SQLColumnExpression[str] | SQLColumnExpression[str | None] | None = None,
    ) -> ColumnElement[bool]:
        """The condition on a table's owner columns that keeps only the scope's rows (none for a column not given;
        a scope limited to a region keeps nothing unless the region column is given)."""
        if self.everything:
            return self.where_region(region)
        if self.agency_id is not None and agency is not None:
            return agency == self.agency_id
        if self.enterprise_id is not None and enterprise is not None:
            return enterprise == self.enterprise_id
        return false()

    def where_region(
        self, region: SQLColumnExpression[str] | SQLColumnExpression[str | None] | None
    ) -> ColumnElement[bool]:
        """The condition keeping the rows whose region code is inside the scope's region (a B-tree range)."""
        if self.region is None:
            return true()
        if region is None:
            return false()
        low, high = code_range(self.region)
        return and_(region >= low, region < high)


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
