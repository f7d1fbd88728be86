"""Authorization comes before validation: a caller who may not use a route is refused (anonymous 401, the wrong role
403 `forbidden`) whatever its input — no body, an empty or malformed one, nonsense in the query or the path — so it
learns nothing of the route's schema. The cases are generated from the app's route table and the roles each route
declares (from its domain's permission table): a new route is covered the day it is added.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from core.auth import Role
from core.http import RouteSpec
from core.state import API
from tests.support.world import Who, World

Client = TestClient[Any, Any]

BAD_QUERY = "?page=zero&page_size=-1&limit=abc&state=nonsense&status=nonsense&format=xml&program_id=x&q=%00"


def signed_in_routes(app: web.Application) -> list[RouteSpec]:
    return [spec for spec in app[API].routes if spec.auth]


def bad_inputs(spec: RouteSpec) -> list[dict[str, Any]]:
    """Ways to get the route's input wrong: none at all, then for a route that reads a body an empty object, an
    array, every field of the wrong type, broken JSON, and a CSV file of nonsense."""
    inputs: list[dict[str, Any]] = [{}]
    if spec.method in ("POST", "PUT", "PATCH"):
        fields = spec.body.model_fields if spec.body is not None else {"anything": None}
        inputs += [
            {"json": {}},
            {"json": []},
            {"json": {name: [[]] for name in fields}},
            {"data": b"{not json", "headers": {"Content-Type": "application/json"}},
            {"data": b"\xff\xfe,,\n;", "headers": {"Content-Type": "text/csv"}},
        ]
    return inputs


def url(spec: RouteSpec, ids: str = "1") -> str:
    return re.sub(r"\{\w+\}", ids, spec.path) + BAD_QUERY


async def refusal(client: Client, spec: RouteSpec, account: Who | None, given: dict[str, Any], ids: str) -> str | None:
    """None when the request is refused as it must be; else what came back."""
    headers = {**given.get("headers", {}), **(account.headers if account else {})}
    response = await client.request(spec.method, url(spec, ids), **{**given, "headers": headers})
    body = await response.json()
    wanted = (401, "unauthenticated") if account is None else (403, "forbidden")
    got = (response.status, body.get("error", {}).get("code"))
    return None if got == wanted else f"{got[0]} {got[1]}"


async def test_every_signed_in_route_names_its_roles(app: web.Application) -> None:
    unnamed = [f"{spec.method} {spec.path}" for spec in signed_in_routes(app) if spec.roles is None]
    assert not unnamed, "declare roles=PERMISSIONS.roles(Action.…) on these routes"


async def test_the_wrong_role_is_refused_before_its_input_is_read(
    app: web.Application, client: Client, world: World
) -> None:
    accounts = {Role.OFFICIAL: world.official, Role.AGENCY: world.agency_own, Role.ENTERPRISE: world.enterprise_own}
    problems = []
    checked = 0
    for spec in signed_in_routes(app):
        assert spec.roles is not None
        callers: list[Who | None] = [None, *(account for role, account in accounts.items() if role not in spec.roles)]
        for caller in callers:
            for given in bad_inputs(spec):
                for ids in ("1", "x"):
                    checked += 1
                    problem = await refusal(client, spec, caller, given, ids)
                    if problem is not None:
                        who = caller.role.value if caller else "anonymous"
                        sent = next(iter(given.values()), "nothing") if given else "nothing"
                        problems.append(f"{spec.method} {spec.path} as {who} with {sent!r}: got {problem}")
    assert checked > 500
    assert not problems, "\n".join(problems)


async def test_the_right_role_is_still_told_what_is_wrong_with_its_input(
    app: web.Application, client: Client, world: World
) -> None:
    """The role check comes first, it does not replace validation: a caller of the right role sending a JSON array
    where an object belongs is told so (422), before anything else is looked at."""
    accounts = {Role.OFFICIAL: world.official, Role.AGENCY: world.agency_own, Role.ENTERPRISE: world.enterprise_own}
    problems = []
    for spec in signed_in_routes(app):
        if spec.body is None:
            continue
        assert spec.roles is not None
        for role in sorted(spec.roles):
            response = await client.request(spec.method, url(spec), json=[], headers=accounts[role].headers)
            code = (await response.json())["error"]["code"]
            if (response.status, code) != (422, "validation_error"):
                problems.append(f"{spec.method} {spec.path} as {role.value}: got {response.status} {code}")
    assert not problems, "\n".join(problems)
