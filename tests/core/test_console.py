"""The backend serves the built console at /console/: its files, the SPA fallback, and a hint when it is not built."""

from __future__ import annotations

import gzip
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

import accounts.routes
from app.factory import create_app
from core.console import ConsoleSite
from core.settings import Settings

Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]

INDEX = (
    '<!doctype html><html><body><div id="app"></div>'
    '<script src="/console/assets/index-abc123.js"></script></body></html>'
)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text(INDEX, encoding="utf-8")
    (folder / "assets" / "index-abc123.js").write_text("console.log('hi')", encoding="utf-8")
    (folder / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("not for the web", encoding="utf-8")
    return folder


async def console_client(settings: Settings, aiohttp_client: MakeClient, folder: Path) -> Client:
    return await aiohttp_client(create_app(settings, domains=[accounts.routes, ConsoleSite(folder)]))


async def test_console_root_answers_the_app(settings: Settings, aiohttp_client: MakeClient, dist: Path) -> None:
    client = await console_client(settings, aiohttp_client, dist)
    response = await client.get("/console/")
    assert response.status == 200
    assert response.content_type == "text/html"
    assert await response.text() == INDEX
    assert response.headers["Cache-Control"] == "no-cache"


async def test_bare_console_path_redirects_to_the_folder(
    settings: Settings, aiohttp_client: MakeClient, dist: Path
) -> None:
    client = await console_client(settings, aiohttp_client, dist)
    response = await client.get("/console", allow_redirects=False)
    assert response.status == 308
    assert response.headers["Location"] == "/console/"


async def test_hashed_assets_are_served_with_a_long_cache(
    settings: Settings, aiohttp_client: MakeClient, dist: Path
) -> None:
    client = await console_client(settings, aiohttp_client, dist)
    response = await client.get("/console/assets/index-abc123.js")
    assert response.status == 200
    assert "javascript" in response.content_type
    assert "immutable" in response.headers["Cache-Control"]
    assert await response.text() == "console.log('hi')"


async def test_a_precompressed_asset_is_sent_compressed_to_browsers_that_accept_it(
    settings: Settings, aiohttp_client: MakeClient, dist: Path
) -> None:
    script = dist / "assets" / "index-abc123.js"
    (dist / "assets" / "index-abc123.js.gz").write_bytes(gzip.compress(script.read_bytes()))
    client = await console_client(settings, aiohttp_client, dist)
    compressed = await client.get("/console/assets/index-abc123.js", headers={"Accept-Encoding": "gzip"})
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert "javascript" in compressed.content_type
    assert await compressed.text() == "console.log('hi')"
    plain = await client.get("/console/assets/index-abc123.js", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert await plain.text() == "console.log('hi')"


@pytest.mark.parametrize(
    "path", ["/console/agencies/7", "/console/programs/3/report", "/console/m/", "/console/m/vouchers"]
)
async def test_app_routes_fall_back_to_the_index_after_a_reload(
    settings: Settings, aiohttp_client: MakeClient, dist: Path, path: str
) -> None:
    client = await console_client(settings, aiohttp_client, dist)
    response = await client.get(path)
    assert response.status == 200
    assert response.content_type == "text/html"
    assert await response.text() == INDEX


async def test_a_missing_asset_is_a_404_not_the_index(
    settings: Settings, aiohttp_client: MakeClient, dist: Path
) -> None:
    client = await console_client(settings, aiohttp_client, dist)
    response = await client.get("/console/assets/gone-123.js")
    assert response.status == 404


@pytest.mark.parametrize(
    "path", ["/console/../secret.txt", "/console/%2e%2e/secret.txt", "/console/assets/../../secret.txt"]
)
async def test_files_outside_the_build_are_never_served(
    settings: Settings, aiohttp_client: MakeClient, dist: Path, path: str
) -> None:
    client = await console_client(settings, aiohttp_client, dist)
    response = await client.get(path)
    assert "not for the web" not in await response.text()


async def test_without_a_build_the_page_says_how_to_make_it(
    settings: Settings, aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    client = await console_client(settings, aiohttp_client, tmp_path / "nothing")
    response = await client.get("/console/m/")
    assert response.status == 503
    text = await response.text()
    assert "make console-build" in text
    assert "make run" in text


async def test_the_console_leaves_the_api_alone(settings: Settings, aiohttp_client: MakeClient, dist: Path) -> None:
    client = await console_client(settings, aiohttp_client, dist)
    response = await client.get("/api/v1/me")
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthenticated"
