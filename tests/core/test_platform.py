"""Health, readiness, metrics, request ids, the error shape and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.settings import SettingsError, load_settings

Client = TestClient[Any, Any]


async def test_healthz_answers_ok(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_readyz_reports_database_and_cache_separately(client: Client) -> None:
    response = await client.get("/readyz")
    body = await response.json()
    assert response.status == 200
    assert body["status"] == "ready"
    assert body["checks"]["database"]["status"] == "up"
    assert body["checks"]["cache"]["status"] == "up"
    assert body["checks"]["cache"]["backend"] in ("redis", "memory")


async def test_request_id_is_echoed_or_made(client: Client) -> None:
    given = await client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert given.headers["X-Request-Id"] == "abc-123"
    made = await client.get("/healthz", headers={"X-Request-Id": "bad id with spaces"})
    assert made.headers["X-Request-Id"] != "bad id with spaces"
    assert len(made.headers["X-Request-Id"]) == 32


async def test_metrics_count_requests_per_route_template(client: Client) -> None:
    await client.get("/healthz")
    await client.get("/api/v1/nowhere")
    text = await (await client.get("/metrics")).text()
    assert 'http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'route="unmatched",status="404"' in text
    assert "http_request_duration_seconds_bucket" in text


async def test_unknown_api_path_is_a_json_404(client: Client) -> None:
    response = await client.get("/api/v1/nowhere")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"


async def test_wrong_method_is_a_json_405(client: Client) -> None:
    response = await client.delete("/api/v1/auth/login")
    assert response.status == 405
    assert (await response.json())["error"]["code"] == "method_not_allowed"


async def test_openapi_document_lists_routes_with_their_schemas(client: Client) -> None:
    response = await client.get("/api/v1/openapi.json")
    doc = await response.json()
    assert doc["openapi"].startswith("3.")
    login = doc["paths"]["/api/v1/auth/login"]["post"]
    ref = login["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(schema["required"]) == {"username", "password"}
    assert "422" in login["responses"]


@pytest.mark.parametrize(
    ("env", "value", "named"),
    [
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("PORT", "eighty", "PORT"),
        ("REDIS_URL", "http://localhost", "REDIS_URL"),
        ("WECHAT_AES_KEY", "short", "WECHAT_AES_KEY"),
    ],
)
def test_a_bad_setting_stops_startup_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: str, value: str, named: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError):
        load_settings()
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert named in err


def test_several_workers_without_redis_stop_startup_naming_workers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("WORKERS", "2")
    with pytest.raises(SettingsError):
        load_settings()
    assert "WORKERS" in capsys.readouterr().err
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert load_settings().workers == 2
