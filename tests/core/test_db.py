"""The database path's round-trip savings keep their guarantees: a GET request's session cannot write, reads run
without a transaction only on PostgreSQL, and a pooled connection that died while idle is replaced before use."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

import core.db
from core.db import Database, ReadOnlySession
from vouchers.models import IdempotencyRecord


async def test_the_session_of_a_get_request_refuses_to_write(db: Database) -> None:
    async with db.request_reader() as session:
        assert isinstance(session.sync_session, ReadOnlySession)
        assert await session.scalar(text("SELECT 1")) == 1  # reading is what it is for
        session.add(IdempotencyRecord(user_id=1, key="k", request_hash="h", status=201, response="{}"))
        with pytest.raises(AssertionError, match="read-only request"):
            await session.flush()
    async with db.transaction(write=False) as session:
        assert await session.scalar(text("SELECT count(*) FROM voucher_idempotency")) == 0


async def test_a_get_request_sends_no_begin_on_postgresql_and_keeps_one_transaction_on_sqlite(db: Database) -> None:
    async with db.request_reader() as session:
        if db.is_sqlite:
            await session.execute(text("SELECT 1"))
            raw = (await (await session.connection()).get_raw_connection()).driver_connection
            assert raw is not None and raw._conn.in_transaction  # the deferred BEGIN: one snapshot, as before
        else:
            # Each statement is its own transaction: now() (the transaction's start) moves between two statements;
            # inside one transaction it would not.
            first = await session.scalar(text("SELECT now()"))
            second = await session.scalar(text("SELECT now()"))
            assert first is not None and second is not None and second > first
    async with db.reader() as session:  # commands' reads (`transaction(write=False)`) still get one snapshot
        if not db.is_sqlite:
            first = await session.scalar(text("SELECT now()"))
            assert await session.scalar(text("SELECT now()")) == first


async def _backend_pid(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int(await conn.scalar(text("SELECT pg_backend_pid()")) or 0)


async def _terminate(db: Database, pid: int) -> None:
    admin = Database(db.url)
    try:
        async with admin.engine.connect() as conn:
            assert await conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await admin.dispose()


async def test_a_pooled_connection_that_died_while_idle_is_replaced_before_use(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.is_sqlite:
        assert not db.engine.sync_engine.pool.dispatch.checkout  # a file needs no ping: nothing runs at check-out
        return
    monkeypatch.setattr(core.db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every check-out counts as "idle long enough"
    dead = await _backend_pid(db)
    await _terminate(db, dead)
    assert await _backend_pid(db) != dead  # the ping found it dead; the pool connected anew, nobody saw an error


async def test_a_connection_used_a_moment_ago_is_not_pinged_and_a_failure_renews_the_pool(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.is_sqlite:
        assert not db.engine.sync_engine.pool.dispatch.checkout
        return
    monkeypatch.setattr(core.db, "PING_AFTER_IDLE_SECONDS", 3600.0)  # never idle long enough: no ping at all
    dead = await _backend_pid(db)
    await _terminate(db, dead)
    with pytest.raises(DBAPIError) as failure:
        await _backend_pid(db)
    assert failure.value.connection_invalidated
    assert await _backend_pid(db) not in (dead, 0)  # the pool was renewed by the failure
