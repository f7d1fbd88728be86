"""Fixtures shared by every test: one database per test run (migrated with Alembic), emptied after each test.

Real PostgreSQL and Redis when `DATABASE_URL` / `REDIS_URL` are set (each run gets its own database and key
prefix, so parallel runs on one machine do not meet), SQLite and the in-process cache otherwise.
"""

from __future__ import annotations

import asyncio
import gc
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp.web_app
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from accounts.schemas import NewUser
from accounts.service import create_user
from app.cli import migrate
from app.factory import create_app
from app.schema import load_models
from core.auth import Role
from core.db import Database
from core.events import EVENTS, EventBus
from core.settings import Settings, load_settings

RUN_ID = f"t{os.getpid()}"
# argon2 at its lowest cost for the suite (every account logs in); inherited by servers the tests start.
os.environ.setdefault("PASSWORD_HASH_TIME_COST", "1")
os.environ.setdefault("PASSWORD_HASH_MEMORY_KIB", "1024")
# The suite's own secrets (the server has no defaults): set over whatever the shell or var/secrets.env holds, so
# every app and every server a test starts agrees with the tests that sign, and WeChat stays in plain mode unless
# a test asks for an EncodingAESKey.
TEST_SECRETS = {
    "BOT_METADATA_SECRET": "test-bot-metadata-secret-0123456789",
    "BOT_ACTIONS_TOKEN": "test-bot-actions-token-0123456789",
    "RASA_AUTH_TOKEN": "test-rasa-auth-token-0123456789",
    "WECHAT_TOKEN": "testwechattoken0123456789",
    "WECHAT_SECRET": "test-wechat-secret-0123456789",
    "WECHAT_AES_KEY": "",
}
os.environ.update(TEST_SECRETS)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What the imports made (pypinyin's dictionaries, SQLAlchemy's and the app's modules: ≈ 480,000 objects) lives
    as long as the run: moved out of the collector's sight, so that each full collection walks only what the tests
    made, and stops the event loop for a fraction of the time."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def forget_the_tests_apps() -> Iterator[None]:
    """After each test, aiohttp's process-wide cache of built middleware chains lets go of that test's app.

    The cache (`aiohttp.web_app._cached_build_middleware`, an `lru_cache` of 1,024 entries keyed by handler and app)
    is for a server's one long-lived app; a suite that builds an app per test kept up to 1,024 of them alive: 3.1
    million objects and 1.1 GB by the end of a run, whose full garbage collections then stopped the event loop for
    seconds — long enough for a request to the WeChat stand-in to time out. Private to aiohttp, hence `getattr`.
    """
    yield
    cached = getattr(aiohttp.web_app, "_cached_build_middleware", None)
    if cached is not None:
        cached.cache_clear()


async def _admin_execute(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith("postgresql"):
        url = make_url(base)
        name = f"{url.database}_{RUN_ID}"
        asyncio.run(_admin_execute(base, f'DROP DATABASE IF EXISTS "{name}"'))
        asyncio.run(_admin_execute(base, f'CREATE DATABASE "{name}"'))
        run_url = url.set(database=name).render_as_string(hide_password=False)
        migrate(load_settings(database_url=run_url))
        yield run_url
        asyncio.run(_admin_execute(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        with tempfile.TemporaryDirectory() as folder:
            run_url = f"sqlite+aiosqlite:///{Path(folder) / 'test.sqlite3'}"
            migrate(load_settings(database_url=run_url))
            yield run_url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL") or None,
        cache_prefix=f"ipa{RUN_ID}",
        wechat_api_base="http://127.0.0.1:9",
    )


# PostgreSQL: TRUNCATE gives every table it names new files, so truncating all ~40 tables cost most of a test's
# time (≈ 0.2–0.7 s; CASCADE from a referenced table reaches them all). A test writes a few rows: DELETE, children
# first, is far cheaper. A table whose own trigger refuses DELETE (the append-only audit) is truncated instead, when
# it has rows. Every sequence restarts, as RESTART IDENTITY did — also those a rolled-back insert advanced.
_EMPTY_POSTGRES = """
DO $$
DECLARE
    name text;
    has_rows boolean;
BEGIN
    FOREACH name IN ARRAY ARRAY[%(tables)s]::text[] LOOP
        IF EXISTS (SELECT FROM pg_trigger WHERE tgrelid = quote_ident(name)::regclass AND NOT tgisinternal) THEN
            EXECUTE format('SELECT EXISTS (SELECT FROM %%I)', name) INTO has_rows;
            IF has_rows THEN
                EXECUTE format('TRUNCATE %%I CASCADE', name);
            END IF;
        ELSE
            EXECUTE format('DELETE FROM %%I', name);
        END IF;
    END LOOP;
    PERFORM setval(format('%%I.%%I', schemaname, sequencename)::regclass, start_value, false)
    FROM pg_sequences WHERE schemaname = current_schema();
END
$$
"""


async def _empty_database(url: str) -> None:
    tables = [t.name for t in reversed(load_models().sorted_tables)]
    db = Database(url)
    async with db.transaction() as session:
        if db.is_sqlite:
            for table in tables:
                await session.execute(text(f'DELETE FROM "{table}"'))
        else:
            names = ", ".join(f"'{t}'" for t in tables)
            await session.execute(text(_EMPTY_POSTGRES % {"tables": names}))
    await db.dispose()


async def _forget_cache(settings: Settings) -> None:
    if settings.redis_url is None:
        return
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(str(settings.redis_url))
    keys = [key async for key in client.scan_iter(match=f"{settings.cache_prefix}:*", count=1000)]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
async def clean(settings: Settings) -> AsyncIterator[None]:
    """Every test starts from empty tables and an empty cache."""
    await _empty_database(settings.database_url)
    await _forget_cache(settings)
    yield


@pytest.fixture
async def app(settings: Settings, clean: None) -> web.Application:
    return create_app(settings)


@pytest.fixture
async def client(
    app: web.Application, aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]]
) -> TestClient[Any, Any]:
    return await aiohttp_client(app)


@pytest.fixture
def event_bus(app: web.Application) -> EventBus:
    """The app's event bus: subscribe to it to hear what the services publish."""
    return app[EVENTS]


@pytest.fixture
async def db(settings: Settings, clean: None, event_bus: EventBus) -> AsyncIterator[Database]:
    """A database handle for arranging data and checking results outside the app.

    Its sessions carry the app's event bus, as the app's own do: what a service publishes in them reaches the app's
    subscribers (the WeChat pushes) in the same transaction.
    """
    database = Database(settings.database_url, events=event_bus)
    yield database
    await database.dispose()


@dataclass
class Account:
    user_id: int
    username: str
    password: str
    role: Role
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


AccountFactory = Callable[..., Awaitable[Account]]


@pytest.fixture
def make_account(db: Database, client: TestClient[Any, Any]) -> AccountFactory:
    """Create a user of a role and log in through the API: `await make_account(Role.OFFICIAL)` (a national
    official unless `region_code` names their jurisdiction)."""
    counter = 0

    async def factory(
        role: Role,
        *,
        agency_id: int | None = None,
        enterprise_id: int | None = None,
        username: str | None = None,
        region_code: str | None = None,
        is_admin: bool = False,
    ) -> Account:
        nonlocal counter
        counter += 1
        name = username or f"{role.value}{counter}"
        password = "correct-horse-battery"
        async with db.transaction() as session:
            user = await create_user(
                session,
                NewUser(
                    role=role,
                    username=name,
                    password=password,
                    agency_id=agency_id,
                    enterprise_id=enterprise_id,
                    region_code=region_code,
                    is_admin=is_admin,
                ),
            )
            user_id = user.id
        response = await client.post("/api/v1/auth/login", json={"username": name, "password": password})
        assert response.status == 200, await response.text()
        token = (await response.json())["token"]
        return Account(user_id=user_id, username=name, password=password, role=role, token=token)

    return factory
