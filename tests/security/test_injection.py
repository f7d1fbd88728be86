"""SQL and script injection strings in every free-text field of every JSON body: stored inertly, returned as data.

The text fields are found in the OpenAPI document (string properties without an enum, a pattern or a format), the
bodies and the actor allowed to send them come from the authorization matrix, so a new route with text fields is
covered without writing anything here.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient

from tests.security.test_authorization_matrix import MATRIX, Case, who
from tests.support.world import World

Client = TestClient[Any, Any]

PAYLOADS = [
    "'; DROP TABLE agencies; --",
    "Robert'); DELETE FROM vouchers; --",
    "%' OR '1'='1' --",
    '" OR "1"="1',
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "{{7*7}} ${7*7} #{7*7}",
    "\\'; SELECT pg_sleep(5); --",
    "𠀀 emoji 🧾 RTL \u202e tab\tnewline\nend",
]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def free_text_fields(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, int | None]:
    """Top-level string properties that take any text: name -> maxLength."""
    fields: dict[str, int | None] = {}
    for name, prop in resolve(document, schema).get("properties", {}).items():
        options = prop.get("anyOf", [prop])
        for option in options:
            option = resolve(document, option)
            if option.get("type") == "string" and not {"enum", "pattern", "format", "const"} & option.keys():
                fields[name] = option.get("maxLength")
    return fields


def allowed_actor(case: Case) -> str | None:
    for actor, (status, _code) in case.expect.items():
        if 200 <= status < 300:
            return actor
    return None


def fit(payload: str, limit: int | None) -> str:
    return payload if limit is None else payload[:limit]


def text_routes(document: dict[str, Any]) -> list[tuple[str, dict[str, int | None]]]:
    found = []
    for key, case in MATRIX.items():
        method, path = key.split(" ", 1)
        operation = document["paths"][path][method.lower()]
        content = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if content is None or case.body is None or allowed_actor(case) is None:
            continue
        fields = free_text_fields(document, content["schema"])
        if fields:
            found.append((key, fields))
    return found


async def test_injection_strings_are_stored_and_returned_as_plain_data(client: Client, world: World) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    routes = text_routes(document)
    keys = {key for key, _ in routes}
    # The routes that carry free text today (the list grows by itself; these must never drop out of it).
    assert {"POST /api/v1/agencies", "PATCH /api/v1/agencies/{agency_id}", "POST /api/v1/enterprises"} <= keys
    assert {"POST /api/v1/voucher-programs", "POST /api/v1/redemptions/{redemption_id}/confirm"} <= keys
    assert {"POST /api/v1/chat", "PATCH /api/v1/assistant/tickets/{ticket_id}"} <= keys
    problems: list[str] = []
    for n, payload in enumerate(PAYLOADS):
        for key, fields in routes:
            case = MATRIX[key]
            method, _ = key.split(" ", 1)
            actor = allowed_actor(case)
            assert actor is not None
            account = who(world, actor)
            assert case.body is not None
            body = dict(case.body(world, actor))
            sent = {}
            for name, limit in fields.items():
                if name in ("password",):
                    continue
                value = fit(f"{n}{payload}", limit)
                body[name] = value
                sent[name] = value.strip()
            response = await client.request(
                method, case.path(world), json=body, headers=account.headers if account else {}
            )
            text = await response.text()
            if response.status >= 500 or "Traceback" in text:
                problems.append(f"{key} with {payload!r}: {response.status} {text[:200]}")
                continue
            if response.status >= 400:
                continue  # refused as bad input (a 4xx naming the field) is fine; the point is nothing broke
            assert response.content_type == "application/json", key
            echoed = json.loads(text)
            if isinstance(echoed, dict):
                for name, value in sent.items():
                    if name in echoed and echoed[name] != value:
                        problems.append(f"{key}: {name} came back as {echoed[name]!r}, sent {value!r}")
    assert not problems, "\n".join(problems)
    # Every table still there, every row still readable.
    for path in ("/api/v1/agencies", "/api/v1/voucher-programs", "/api/v1/redemptions"):
        response = await client.get(path, headers=world.official.headers)
        assert response.status == 200, path
    # A stored script comes back as JSON data, not markup.
    script = "<script>alert('x')</script>"
    patch = await client.patch(
        f"/api/v1/agencies/{world.agency_a}", json={"description": script}, headers=world.official.headers
    )
    assert patch.status == 200
    response = await client.get(f"/api/v1/agencies/{world.agency_a}")
    assert response.content_type == "application/json"
    assert (await response.json())["description"] == script


async def test_search_text_is_matched_literally_and_nul_is_refused(client: Client, world: World) -> None:
    """A search for an injection string finds nothing (were it SQL, `' OR '1'='1` would find every agency)."""
    everything = await (await client.get("/api/v1/agencies")).json()
    assert everything["total"] >= 2
    for payload in PAYLOADS:
        response = await client.get("/api/v1/agencies", params={"q": payload[:100]})
        assert response.status in (200, 422), await response.text()
        if response.status == 200:
            assert (await response.json())["total"] == 0, payload
    # PostgreSQL text cannot hold U+0000: it must be a 4xx naming the problem, on both databases alike.
    patch = await client.patch(
        f"/api/v1/agencies/{world.agency_a}", json={"description": "a\u0000b"}, headers=world.official.headers
    )
    assert 400 <= patch.status < 500, await patch.text()
    search = await client.get("/api/v1/agencies", params={"q": "a\x00b"})
    assert 400 <= search.status < 500 or (search.status == 200 and (await search.json())["total"] == 0)
    chat = await client.post("/api/v1/chat", json={"text": "hi\u0000"}, headers=world.enterprise_own.headers)
    assert chat.status < 500, await chat.text()
