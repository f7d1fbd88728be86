"""HTTP surface of accounts: thin handlers over `accounts.service`."""

from __future__ import annotations

from aiohttp import web

from accounts import passwords, service
from accounts.permissions import PERMISSIONS, Action
from accounts.schemas import LoginIn, MeOut, TokenOut
from core import ratelimit
from core.auth import bearer_token, principal_of
from core.http import Api, session
from core.state import CACHE, DATABASE, SETTINGS, TOKEN_RESOLVER, UNIT_OF_WORK

api = Api()


def setup(app: web.Application) -> None:
    app[TOKEN_RESOLVER] = service.resolve_token
    passwords.configure(app[SETTINGS])


def client_address(request: web.Request) -> str:
    """The client behind a trusted reverse proxy (X-Forwarded-For), else the peer (see `core.ratelimit`)."""
    return ratelimit.client_address(request) or request.remote or "unknown"


@api.route(
    "POST",
    "/api/v1/auth/login",
    body=LoginIn,
    response=TokenOut,
    tags=["auth"],
    errors=[401, 429, 503],
    summary="Log in with username and password; returns a bearer token",
)
async def login(request: web.Request, body: LoginIn) -> TokenOut:
    issued = await service.login(
        request.app[DATABASE],
        request[UNIT_OF_WORK],
        request.app[CACHE],
        request.app[SETTINGS],
        username=body.username,
        password=body.password,
        address=client_address(request),
    )
    return TokenOut(token=issued.token, expires_at=issued.expires_at, user=service.me_of(issued.user))


@api.route(
    "POST",
    "/api/v1/auth/logout",
    status=204,
    auth=True,
    roles=PERMISSIONS.roles(Action.LOG_OUT),
    tags=["auth"],
    summary="Revoke the bearer token used for this request",
)
async def logout(request: web.Request) -> None:
    await service.logout(session(request), request.app[CACHE], principal_of(request), bearer_token(request))


@api.route(
    "GET",
    "/api/v1/me",
    response=MeOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_OWN_ACCOUNT),
    tags=["auth"],
    summary="Who the token belongs to",
)
async def me(request: web.Request) -> MeOut:
    return await service.me(session(request), principal_of(request))
