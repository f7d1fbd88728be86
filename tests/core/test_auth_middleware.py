"""The auth middleware: a bearer token sent to the API must name someone — a bad, expired or logged-out one is a 401
`token_invalid`, never an anonymous request — and the principal it names is the one the handlers see; paths outside
the API, and requests that send no token, are not judged here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from core.auth import NATIONWIDE, TOKEN_RESOLVER, Principal, Role, auth_middleware, principal_of
from core.errors import error_middleware

Client = TestClient[Any, Any]
ClientMaker = Callable[..., Awaitable[Client]]
OFFICIAL = Principal(1, "official", Role.OFFICIAL, region_code=NATIONWIDE)


async def who(request: web.Request) -> web.Response:
    principal = principal_of(request)
    return web.json_response({"user_id": None if principal is None else principal.user_id})


async def make_client(aiohttp_client: ClientMaker, *, with_resolver: bool = True) -> Client:
    app = web.Application(middlewares=[error_middleware, auth_middleware])

    async def resolve(_: web.Application, token: str) -> Principal | None:
        return OFFICIAL if token == "good" else None

    if with_resolver:
        app[TOKEN_RESOLVER] = resolve
    app.router.add_get("/api/v1/who", who)
    app.router.add_get("/healthz", who)
    return await aiohttp_client(app)


async def test_a_token_sent_to_the_api_names_its_principal_or_is_refused(aiohttp_client: ClientMaker) -> None:
    client = await make_client(aiohttp_client)
    named = await client.get("/api/v1/who", headers={"Authorization": "Bearer good"})
    assert (named.status, await named.json()) == (200, {"user_id": 1})
    anonymous = await client.get("/api/v1/who")
    assert (anonymous.status, await anonymous.json()) == (200, {"user_id": None})
    refused = await client.get("/api/v1/who", headers={"Authorization": "Bearer stale"})
    assert refused.status == 401
    assert (await refused.json())["error"] == {
        "code": "token_invalid",
        "message": "the token is invalid, expired or logged out; log in again",
    }


async def test_paths_outside_the_api_do_not_judge_a_token(aiohttp_client: ClientMaker) -> None:
    client = await make_client(aiohttp_client)
    for token in ("good", "stale"):
        response = await client.get("/healthz", headers={"Authorization": f"Bearer {token}"})
        assert (response.status, await response.json()) == (200, {"user_id": None}), token


async def test_without_a_resolver_every_token_is_refused(aiohttp_client: ClientMaker) -> None:
    client = await make_client(aiohttp_client, with_resolver=False)
    refused = await client.get("/api/v1/who", headers={"Authorization": "Bearer good"})
    assert (refused.status, (await refused.json())["error"]["code"]) == (401, "token_invalid")
