"""SQLAlchemy 2 async engine, the declarative base, and the per-request unit of work.

Services receive an `AsyncSession`, `flush()` and never `commit()`: the unit of work commits when the handler
succeeds and rolls back when it raises, so one request is one transaction.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_only

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


def upsert_insert(session: AsyncSession, entity: Any) -> Any:
    """INSERT that takes `on_conflict_do_nothing` / `on_conflict_do_update`, for the session's dialect."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(entity)


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

    def write(self, factory: async_sessionmaker[AsyncSession]) -> None:
        """Make this request's transaction a writing one (a GET route that writes); before its session opens."""
        assert self.session is None, "the session is already open"
        self._factory = factory


UNIT_OF_WORK: web.RequestKey[UnitOfWork] = web.RequestKey("unit_of_work")

# A pooled connection given back less than this long ago is handed out again without a ping (see `_install_ping`).
PING_AFTER_IDLE_SECONDS = 1.0
PREPARED_STATEMENTS_PER_CONNECTION = 1000


class ReadOnlySession(Session):
    """The session of a request that only reads (GET): on PostgreSQL it runs without a transaction, so it must not
    write — a flush with anything to write is a programming error, refused before any statement is sent."""

    def flush(self, objects: Any = None) -> None:
        if self.new or self.dirty or self.deleted:
            raise AssertionError("a read-only request (GET) tried to write; writes belong to POST/PUT/PATCH/DELETE")
        super().flush(objects)


class Database:
    """The engine plus three session factories: reads, writes (which on SQLite take the write lock up front), and
    the reads of a GET request and single-statement lookups such as a bearer token's (`request_reader`: on
    PostgreSQL without BEGIN and COMMIT).

    SQLite allows one writer; a deferred transaction that reads and then writes fails with "database is locked"
    when another writer got in between. `BEGIN IMMEDIATE` for write requests makes them queue instead, which is
    what keeps the money invariants on the embedded default. PostgreSQL uses row locks in the services.

    Round trips on PostgreSQL (bench/bench_roundtrips.py counts them): a GET request sends only its statements —
    each sees the latest committed data (autocommit; no GET writes, `ReadOnlySession` refuses it), which is what a
    READ COMMITTED transaction gave each statement too; what needs one snapshot over several statements (the ledger
    check, reports computed in commands) uses `transaction(write=False)`, a real transaction. A connection is pinged
    (one `;`) only when it sat idle in the pool for `PING_AFTER_IDLE_SECONDS`.
    """

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10, events: EventBus | None = None) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        else:
            # Up to 2 x pool_size connections, all kept: with pool_size kept and as many again "overflow", every
            # overflow connection was closed when given back and opened anew (TLS, authentication, start-up) by the
            # next request — under 64 concurrent clients, a new connection every few requests.
            kwargs.update(pool_size=2 * pool_size, max_overflow=0, pool_timeout=5)
            # Fail fast when PostgreSQL is down instead of hanging the request.
            # SQLAlchemy keeps each connection's prepared statements (an LRU, 100 by default); the agency search
            # alone has ~200 statement shapes (filters x sorts), so at 100 a cycling mix re-prepared nearly every
            # one: a Parse round trip more per search.
            kwargs["connect_args"] = {
                "timeout": 5,
                "command_timeout": 30,
                "prepared_statement_cache_size": PREPARED_STATEMENTS_PER_CONNECTION,
            }
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _install_sqlite_transaction_control(self.engine)
        else:
            _install_ping(self.engine)
        # Every session carries the app's event bus, so `core.events.publish(session, …)` reaches its subscribers.
        info: dict[str, Any] = {} if events is None else {SESSION_INFO_KEY: events}
        self.reader = async_sessionmaker(self.engine, expire_on_commit=False, info=info)
        self.writer = async_sessionmaker(
            self.engine.execution_options(sqlite_begin="BEGIN IMMEDIATE"), expire_on_commit=False, info=info
        )
        request_engine = self.engine if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.request_reader = async_sessionmaker(
            request_engine, expire_on_commit=False, info=info, sync_session_class=ReadOnlySession
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


def _install_ping(engine: AsyncEngine) -> None:
    """Check a pooled connection before handing it out, but only when it sat idle (SQLAlchemy's `pool_pre_ping`
    pings every check-out, with asyncpg as BEGIN, `;`, ROLLBACK: three round trips before each request).

    A connection given back less than `PING_AFTER_IDLE_SECONDS` ago was working then; one idle longer (a database
    restart happens over seconds) is asked `;` first, and a dead one is replaced (`DisconnectionError` makes the pool
    connect anew). A connection that still breaks mid-request invalidates the whole pool (SQLAlchemy's disconnect
    handling), so the next requests get fresh connections.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            await_only(dbapi_connection._connection.fetchrow(";"))  # the asyncpg connection; outside any transaction
        except Exception as exc:
            raise DisconnectionError("the pooled connection did not answer its ping") from exc


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
