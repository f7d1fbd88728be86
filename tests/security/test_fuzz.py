"""Schema-driven fuzzing of every `/api/v1` operation in the OpenAPI document (schemathesis + hypothesis) against a
real server (`server.py run`) on this run's test database, with the security tests' world in it.

Each operation is called as an actor the authorization matrix allows (so the handlers, not only the permission
checks, see the generated input), with path ids pointing at real rows half of the time. Every answer must be
below 500 and conform to the document: declared status, content type, response schema. The examples are bounded
and derandomized (`FUZZ_EXAMPLES`, default 8 per operation), so a run takes a minute or two and is repeatable.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from schemathesis import checks

from app.factory import create_app
from bench.harness import free_port
from core.openapi import openapi_document
from core.settings import load_settings
from core.state import API
from tests.security.test_authorization_matrix import MATRIX, who
from tests.support.services import LOGS, ROOT
from tests.support.world import World, build_world, real_server_accounts

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
# Logout revokes the token every later example uses; it takes no input to fuzz (the matrix covers it).
SKIPPED = {("POST", "/api/v1/auth/logout")}


def _document() -> dict[str, Any]:
    app = create_app(load_settings(database_url="sqlite+aiosqlite:///:memory:"))
    return openapi_document(app[API], title="ip-assistant API", version="fuzz")


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT).exclude(path="/api/v1/auth/logout", method="POST")


# What every answer must satisfy. Left out on purpose: `positive_data_acceptance` (schema-valid input that a rule
# refuses, e.g. a programme ending before it starts or an id with no row, rightly answers 404/409/422) and
# `unsupported_method` (`PATCH /agencies/credit-import` reaches `PATCH /agencies/{agency_id}` and is refused as
# bad input, not 405; real unsupported methods answer 405 with `Allow`, see test_unknown_methods_answer_405).
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.missing_required_header,
    checks.ignored_auth,
]


@dataclass
class Target:
    url: str
    world: World


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"fuzz server exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:  # noqa: S310 - our own server
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"fuzz server not ready; see {log}")


async def _world(url: str, database_url: str) -> World:
    import aiohttp

    async with aiohttp.ClientSession(base_url=url) as http:
        return await build_world(http, real_server_accounts(database_url, http))


@pytest.fixture(scope="module")
def target(database_url: str) -> Iterator[Target]:
    from tests.conftest import _empty_database

    asyncio.run(_empty_database(database_url))
    port, wechat_port = free_port(), free_port()
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"fuzz-{port}.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "RATE_LIMITS": "false",
        "RASA_URL": "http://127.0.0.1:9",
        # The local WeChat stand-in answers code2session, so a wechat-login gets as far as making an account.
        "WECHAT_API_BASE": f"http://127.0.0.1:{wechat_port}",
        "WECHAT_PUSH_WORKER": "false",
        "CACHE_PREFIX": f"fuzz{os.getpid()}",
    }
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    with log_path.open("wb") as log:
        standin = subprocess.Popen(
            [sys.executable, "-m", "wechat_standin", "serve"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
        process = subprocess.Popen(
            [sys.executable, "server.py", "run"], cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log_path)
        yield Target(url=url, world=asyncio.run(_world(url, database_url)))
    finally:
        for child in (process, standin):
            child.terminate()
            child.wait(timeout=15)
    text = log_path.read_text(errors="replace")
    assert "unhandled error" not in text and "Traceback" not in text, f"see {log_path}"


def _headers_for(case: Any, world: World) -> dict[str, str]:
    entry = MATRIX.get(f"{case.method.upper()} {case.path}")
    if entry is None:
        return {}
    for actor, (status, _code) in entry.expect.items():
        if 200 <= status < 300 or actor == "official":
            account = who(world, actor)
            return account.headers if account is not None else {}
    return {}


def _real_ids(world: World) -> dict[str, int]:
    return {
        "agency_id": world.agency_a,
        "enterprise_id": world.enterprise_1,
        "program_id": world.program_id,
        "voucher_id": world.voucher_own,
        "redemption_id": world.redemption_id,
        "event_id": world.credit_event_id,
        "ticket_id": 1,
    }


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_within_its_contract(case: Any, target: Target) -> None:
    if (case.method.upper(), case.path) in SKIPPED:
        return
    # A part generated to be invalid (a negative id, a missing token) is sent as generated: made valid here, the
    # request would be judged "invalid data accepted".
    negative = {str(getattr(loc, "value", loc)) for loc, info in case.meta.components.items() if info.mode.is_negative}
    params = case.path_parameters or {}
    ids = _real_ids(target.world)
    for name, value in list(params.items()):
        if "path" not in negative and isinstance(value, int) and value % 2 == 0 and name in ids:
            params[name] = ids[name]
    headers = {} if "header" in negative else _headers_for(case, target.world)
    case.call_and_validate(base_url=target.url, headers=headers, checks=CHECKS)


# ---------------------------------------------------------------- integers in other digits, or too long

# schemathesis only sends integers where the document says integer. People and scripts also send "²", "１２" or
# "٣" (`str.isdigit()` is true for them; `int()` refuses some and reads others) and numbers longer than Python's
# 4,300-digit limit for `int()`: every path id must answer 404 and every integer query parameter 422 naming it.
OTHER_DIGITS = st.characters(categories=("Nd", "No"), exclude_characters="0123456789")
ASCII_DIGITS = st.text("0123456789", max_size=8)


def not_an_integer_we_read() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(OTHER_DIGITS, min_size=1, max_size=24),
        st.tuples(ASCII_DIGITS, OTHER_DIGITS, ASCII_DIGITS).map("".join),  # one foreign digit among ASCII ones
        st.integers(min_value=10**19, max_value=10**60).map(str),  # past every 64-bit id
        st.integers(min_value=4_000, max_value=6_000).map(lambda n: "9" * n),  # past int()'s own limit
    )


def _integer_schema(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "integer" or any(option.get("type") == "integer" for option in schema.get("anyOf", []))


PATH_IDS = sorted(
    (method.upper(), path, parameter["name"])
    for path, operations in DOCUMENT["paths"].items()
    for method, operation in operations.items()
    for parameter in operation.get("parameters", [])
    if parameter["in"] == "path"
)
QUERY_INTEGERS = sorted(
    (method.upper(), path, parameter["name"])
    for path, operations in DOCUMENT["paths"].items()
    for method, operation in operations.items()
    for parameter in operation.get("parameters", [])
    if parameter["in"] == "query" and _integer_schema(parameter["schema"])
)
HOSTILE_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8")) * 2
_PATH_NAMES = re.compile(r"\{(\w+)\}")


def _call(target: Target, method: str, template: str, *, replace: dict[str, str], query: dict[str, str]) -> Any:
    """The operation as the matrix's allowed actor, with its valid body: only the replaced part is wrong."""
    ids = _real_ids(target.world)
    path = template
    for name in _PATH_NAMES.findall(template):
        value = replace.get(name, str(ids.get(name, 1)))
        path = path.replace("{" + name + "}", urllib.parse.quote(value, safe=""))
    url = f"{target.url}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    headers = {"Accept": "application/json"}
    data: bytes | None = None
    case = MATRIX.get(f"{method} {template}")
    if case is not None:
        actor = next((a for a, (status, _code) in case.expect.items() if 200 <= status < 300), "official")
        account = who(target.world, actor)
        headers.update(case.extra_headers, **(account.headers if account is not None else {}))
        if case.body is not None:
            data, headers["Content-Type"] = json.dumps(case.body(target.world, actor)).encode(), "application/json"
        elif case.csv is not None:
            data, headers["Content-Type"] = case.csv.encode(), "text/csv"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 - our own server
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own server
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read() or b"null")


@pytest.mark.parametrize(("method", "template", "name"), PATH_IDS)
@settings(max_examples=HOSTILE_EXAMPLES, derandomize=True, deadline=None, database=None)
@given(value=not_an_integer_we_read())
@example(value="²").via("the issue's example")
@example(value="9" * 5_000).via("past int()'s limit")
def test_a_path_id_in_other_digits_or_too_long_names_nothing(
    method: str, template: str, name: str, value: str, target: Target
) -> None:
    status, body = _call(target, method, template, replace={name: value}, query={})
    assert (status, body["error"]["code"]) == (404, "not_found"), (value[:40], body)


@pytest.mark.parametrize(("method", "template", "name"), QUERY_INTEGERS)
@settings(max_examples=HOSTILE_EXAMPLES, derandomize=True, deadline=None, database=None)
@given(value=not_an_integer_we_read())
@example(value="²" * 19).via("long enough to reach int() before the fix")
@example(value="9" * 5_000).via("past int()'s limit")
def test_an_integer_query_parameter_in_other_digits_or_too_long_is_422_naming_it(
    method: str, template: str, name: str, value: str, target: Target
) -> None:
    status, body = _call(target, method, template, replace={}, query={name: value})
    assert (status, body["error"]["code"]) == (422, "validation_error"), (value[:40], body)
    assert body["error"]["details"][0]["field"] == f"query.{name}"


def test_the_hostile_integer_fuzz_reaches_every_kind_of_integer() -> None:
    assert len(PATH_IDS) >= 20 and {"agency_id", "voucher_id", "redemption_id", "event_id"} <= {n for *_, n in PATH_IDS}
    assert {"page", "page_size", "program_id", "limit"} <= {name for *_, name in QUERY_INTEGERS}


# ---------------------------------------------------------------- what the fuzzer found, pinned in-process


async def test_unknown_methods_answer_405_naming_the_allowed_ones(client: TestClient[Any, Any]) -> None:
    response = await client.request("PUT", "/api/v1/voucher-programs")
    assert response.status == 405
    assert set(response.headers["Allow"].split(",")) >= {"GET", "POST"}
    assert (await response.json())["error"]["code"] == "method_not_allowed"


async def test_anonymous_on_a_signed_in_route_is_401_whatever_the_body(client: TestClient[Any, Any]) -> None:
    response = await client.post("/api/v1/voucher-programs", json={"name": 1})
    assert response.status == 401


async def test_a_body_nested_too_deeply_is_400(client: TestClient[Any, Any]) -> None:
    body = b"[" * 200_000 + b"]" * 200_000
    response = await client.post("/api/v1/auth/login", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_json"


async def test_every_operation_refers_to_its_own_models(client: TestClient[Any, Any]) -> None:
    """Agencies and vouchers each have a `ServiceOut`: the programme directory must describe the vouchers' one."""
    document = await (await client.get("/api/v1/openapi.json")).json()
    ok = document["paths"]["/api/v1/voucher-programs"]["get"]["responses"]["200"]["content"]["application/json"]
    program = document["components"]["schemas"][ok["schema"]["items"]["$ref"].rsplit("/", 1)[-1]]
    services = program["properties"]["services"]["items"]["$ref"].rsplit("/", 1)[-1]
    assert "price_min_fen" not in document["components"]["schemas"][services]["properties"]


async def test_integers_no_column_can_hold_are_422_naming_the_field(client: TestClient[Any, Any]) -> None:
    login = await client.post("/api/v1/auth/login", json={"username": "x", "password": "y", "extra": 2**70})
    assert login.status == 422
    assert (await login.json())["error"]["details"][0]["field"] == "extra"
    search = await client.get("/api/v1/agencies", params={"page": str(10**30)})
    assert search.status == 422
    assert (await search.json())["error"]["details"][0]["field"] == "query.page"


async def test_the_action_endpoint_refuses_a_body_nested_too_deeply(client: TestClient[Any, Any]) -> None:
    body = b"[" * 200_000 + b"]" * 200_000
    headers = {"Content-Type": "application/json", "X-Actions-Token": os.environ["BOT_ACTIONS_TOKEN"]}  # as Rasa
    response = await client.post("/bot/actions", data=body, headers=headers)
    assert response.status == 400
