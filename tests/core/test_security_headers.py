"""What every response says about itself: security headers (the console's own Content-Security-Policy, a policy
allowing nothing for the API), a `Server` header without versions, and `/metrics` only for METRICS_ALLOW or
METRICS_TOKEN."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

import accounts.routes
from app.factory import create_app
from core.console import CONTENT_SECURITY_POLICY, ConsoleSite
from core.settings import Settings, SettingsError, load_settings

Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]
ROOT = Path(__file__).resolve().parents[2]
OUTSIDER = {"X-Forwarded-For": "203.0.113.9"}  # a client the (trusted, loopback) reverse proxy forwards
TOKEN = "metrics-token-0123456789abcdef"


def assert_hardened(headers: Any, policy: str) -> None:
    assert headers["Content-Security-Policy"] == policy
    assert "frame-ancestors 'none'" in policy
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Server"] == "ip-assistant"


API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


async def test_api_answers_carry_the_security_headers(client: Client) -> None:
    for method, path, status in (
        ("GET", "/healthz", 200),
        ("GET", "/api/v1/openapi.json", 200),
        ("GET", "/api/v1/me", 401),
        ("GET", "/api/v1/nowhere", 404),
        ("PUT", "/api/v1/voucher-programs", 405),
        ("GET", "/wechat", 403),
        ("GET", "/bot/actions", 401),  # Rasa only: without its token
    ):
        response = await client.request(method, path)
        assert response.status == status, path
        assert_hardened(response.headers, API_POLICY)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text('<script type="module" src="/console/assets/a.js"></script>', encoding="utf-8")
    (folder / "assets" / "a.js").write_text("console.log('hi')", encoding="utf-8")
    return folder


async def test_console_answers_carry_its_own_policy(settings: Settings, aiohttp_client: MakeClient, dist: Path) -> None:
    client = await aiohttp_client(create_app(settings, domains=[accounts.routes, ConsoleSite(dist)]))
    for path, status in (("/console/", 200), ("/console/agencies/7", 200), ("/console/assets/a.js", 200)):
        response = await client.get(path)
        assert response.status == status, path
        assert_hardened(response.headers, CONTENT_SECURITY_POLICY)
    missing = await client.get("/console/assets/gone.js")
    assert missing.status == 404
    assert_hardened(missing.headers, API_POLICY)


async def test_console_policy_allows_no_inline_or_foreign_script() -> None:
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
    # The console's page loads only its own bundle: no inline script, no other origin, nothing the policy refuses.
    page = (ROOT / "console" / "index.html").read_text(encoding="utf-8")
    assert [body.strip() for body in re.findall(r"<script[^>]*>(.*?)</script>", page, re.DOTALL)] == [""]
    assert " style=" not in page and "<style" not in page
    assert re.findall(r"(?:src|href)=\"(?:https?:)?//", page) == []


async def test_the_server_header_names_no_versions_even_for_malformed_http(
    settings: Settings, aiohttp_server: Callable[..., Awaitable[TestServer]], clean: None
) -> None:
    server = await aiohttp_server(create_app(settings))
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(b"NOT HTTP AT ALL\r\n\r\n")
    await writer.drain()
    head = (await asyncio.wait_for(reader.read(4096), timeout=5)).decode("latin-1")
    writer.close()
    assert re.match(r"HTTP/1\.[01] 400 ", head), head[:200]
    [server_line] = [line for line in head.split("\r\n") if line.lower().startswith("server:")]
    assert server_line == "Server: ip-assistant"


async def test_metrics_are_served_to_loopback_and_refused_to_a_forwarded_outsider(client: Client) -> None:
    assert (await client.get("/metrics")).status == 200
    refused = await client.get("/metrics", headers=OUTSIDER)
    assert refused.status == 403
    assert (await refused.json())["error"]["code"] == "forbidden"
    assert "http_requests_total" not in await refused.text()


@pytest.fixture
async def guarded(settings: Settings, aiohttp_client: MakeClient, clean: None) -> Client:
    tuned = settings.model_copy(update={"metrics_allow": "10.1.0.0/16", "metrics_token": TOKEN})
    return await aiohttp_client(create_app(tuned))


async def test_metrics_follow_metrics_allow_and_metrics_token(guarded: Client) -> None:
    assert (await guarded.get("/metrics")).status == 403  # loopback is no longer in the list
    assert (await guarded.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"})).status == 200
    assert (await guarded.get("/metrics", headers={**OUTSIDER, "Authorization": f"Bearer {TOKEN}"})).status == 200
    for wrong in (TOKEN[:-1], TOKEN + "x", "²" * 30):
        response = await guarded.get("/metrics", headers={**OUTSIDER, "Authorization": f"Bearer {wrong}"})
        assert response.status == 403


@pytest.mark.parametrize(
    ("setting", "value"), [("metrics_allow", "everyone"), ("metrics_allow", "10.0.0.0/33"), ("metrics_token", "short")]
)
def test_metrics_settings_are_checked_at_start_up(setting: str, value: str) -> None:
    with pytest.raises(SettingsError):
        load_settings(**{setting: value})
