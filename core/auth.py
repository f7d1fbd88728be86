"""Who is acting: the principal behind a bearer token, and the role checks services call.

Permission checks live in the services (they receive the acting `Principal`); handlers only pass it on.
The `accounts` domain owns users and tokens and installs the resolver the auth middleware uses.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

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
