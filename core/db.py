"""SQLAlchemy 2 async engine, the declarative base, and the per-request unit of work.

Services receive an `AsyncSession`, `flush()` and never `commit()`: the unit of work commits when the handler
succeeds and rolls back when it raises, so one request is one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from core.events import SESSION_INFO_KEY, EventBus

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL, INTEGER on SQLite (where only INTEGER PRIMARY KEY autoincrements).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run `callback` once the unit of work has committed (cache invalidation, waking a worker).

    Invalidating before the commit would let a concurrent reader cache the old rows under the new version.
    """
    session.info.setdefault("after_commit", []).append(callback)


async def commit(session: AsyncSession) -> None:
    """Commit, then run the callbacks registered with `after_commit`. Only units of work call this."""
    await session.commit()
    callbacks: list[AfterCommit] = session.info.pop("after_commit", [])
    for callback in callbacks:
        await callback()


class UnitOfWork:
    """A request's transaction, opened the first time the request asks for its session: a request that never
    touches the database (a cache hit, a refusal) costs no session at all."""

    __slots__ = ("_factory", "session")

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory
        self.session: AsyncSession | None = None

    def open(self) -> AsyncSession:
        if self.session is None:
            self.session = self._factory()
        return self.session


UNIT_OF_WORK: web.RequestKey[UnitOfWork] = web.RequestKey("unit_of_work")


class Database:
    """The engine plus two session factories: reads, and writes (which on SQLite take the write lock up front).

    SQLite allows one writer; a deferred transaction that reads and then writes fails with "database is locked"
    when another writer got in between. `BEGIN IMMEDIATE` for write requests makes them queue instead, which is
    what keeps the money invariants on the embedded default. PostgreSQL uses row locks in the services.
    """

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10, events: EventBus | None = None) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": not self.is_sqlite}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_timeout=5)
            # Fail fast when PostgreSQL is down instead of hanging the request.
            kwargs["connect_args"] = {"timeout": 5, "command_timeout": 30}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _install_sqlite_transaction_control(self.engine)
        # Every session carries the app's event bus, so `core.events.publish(session, …)` reaches its subscribers.
        info: dict[str, Any] = {} if events is None else {SESSION_INFO_KEY: events}
        self.reader = async_sessionmaker(self.engine, expire_on_commit=False, info=info)
        self.writer = async_sessionmaker(
            self.engine.execution_options(sqlite_begin="BEGIN IMMEDIATE"), expire_on_commit=False, info=info
        )

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """One unit of work outside a request (commands, workers, tests)."""
        factory = self.writer if write else self.reader
        async with factory() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await commit(session)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


DATABASE: web.AppKey[Database] = web.AppKey("database")


def _install_sqlite_transaction_control(engine: AsyncEngine) -> None:
    """Let us emit BEGIN ourselves (the driver's implicit BEGIN is deferred) and turn on foreign keys and WAL."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))
