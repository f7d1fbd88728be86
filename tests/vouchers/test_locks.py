"""The row locks that keep concurrent money writes exact, checked on every database.

SQLite has no row locks (writes serialize on its database lock) and SQLAlchemy leaves `FOR UPDATE` out of the SQL it
sends there, so only the PostgreSQL run of the concurrency tests would notice a lock gone. Here every statement a
request executes is recorded as SQLAlchemy built it and compiled for PostgreSQL: each money write must lock its rows,
in the documented order (voucher, then redemption, then programme), whichever database the suite runs on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Insert, Select, Update

from core.auth import Role
from tests.conftest import AccountFactory
from tests.vouchers.builders import EVIDENCE, Client, make_enterprise
from tests.vouchers.conftest import World
from tests.vouchers.test_flags import worker
from vouchers import repository
from vouchers.models import (
    IdempotencyRecord,
    Redemption,
    Voucher,
    VoucherApplication,
    VoucherAudit,
    VoucherProgram,
)

VOUCHERS, REDEMPTIONS, PROGRAMS = (m.__tablename__ for m in (Voucher, Redemption, VoucherProgram))
APPLICATIONS, AUDIT, IDEMPOTENCY = (m.__tablename__ for m in (VoucherApplication, VoucherAudit, IdempotencyRecord))


def postgres_sql(statement: Any) -> str:
    return str(statement.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]


class Recorder:
    """Stands in for a session on `dialect`: keeps the statement a repository function would run (which finds no
    row)."""

    def __init__(self, dialect: str = "postgresql") -> None:
        self.statements: list[Any] = []
        self.dialect = dialect

    def get_bind(self) -> Any:
        return SimpleNamespace(dialect=SimpleNamespace(name=self.dialect))

    async def scalar(self, statement: Any) -> None:
        self.statements.append(statement)

    async def execute(self, statement: Any) -> Any:
        self.statements.append(statement)
        return NoRows()

    async def scalars(self, statement: Any) -> Any:
        self.statements.append(statement)
        return SimpleNamespace(all=NoRows)


class NoRows(list[Any]):
    def first(self) -> None:
        return None


# The programme row is locked `FOR NO KEY UPDATE`: exclusive against every other writer of it (the lock conflicts with
# itself), while inserting an application or voucher that references it (a key-share lock) is not blocked — with
# `FOR UPDATE` two first-come applicants deadlocked on exactly that.
LOCK_CLAUSE = {VOUCHERS: "FOR UPDATE", REDEMPTIONS: "FOR UPDATE", PROGRAMS: "FOR NO KEY UPDATE"}


@pytest.mark.parametrize(
    ("lock", "table"),
    [
        (repository.lock_voucher, VOUCHERS),
        (repository.lock_redemption, REDEMPTIONS),
        (repository.lock_program, PROGRAMS),
    ],
)
async def test_each_lock_query_selects_its_one_row_for_update(lock: Any, table: str) -> None:
    recorder = Recorder()
    await lock(cast(AsyncSession, recorder), 42)
    (statement,) = recorder.statements
    sql = postgres_sql(statement)
    assert sql.rstrip().endswith(f"::BIGINT {LOCK_CLAUSE[table]}"), sql
    assert f"FROM {table} \nWHERE {table}.id = %(id_1)s" in sql
    assert statement.compile().params == {"id_1": 42}
    # Read afresh under the lock, not from what the session saw before it.
    assert statement.get_execution_options().get("populate_existing") is True


async def test_redeeming_locks_the_voucher_and_takes_the_redemption_id_from_the_sequence_in_one_statement() -> None:
    recorder = Recorder()
    assert await repository.lock_voucher_to_redeem(cast(AsyncSession, recorder), 42) is None  # no such voucher
    (statement,) = recorder.statements
    sql = postgres_sql(statement)
    assert sql.rstrip().endswith("::BIGINT FOR UPDATE"), sql
    assert f"FROM {VOUCHERS} \nWHERE {VOUCHERS}.id = %(id_1)s" in sql
    # The id is the redemptions' sequence's next value: concurrent redemptions of different vouchers never share it.
    assert "nextval(pg_get_serial_sequence(" in sql, sql
    assert statement.compile().params == {
        "pg_get_serial_sequence_1": REDEMPTIONS,
        "pg_get_serial_sequence_2": "id",
        "id_1": 42,
    }
    # The voucher was read before without the lock (the offer's checks): its balance is read again under it.
    assert statement.get_execution_options().get("populate_existing") is True


async def test_on_sqlite_the_redemption_id_is_the_largest_plus_one_read_with_the_voucher() -> None:
    """SQLite has no sequences: its write lock (BEGIN IMMEDIATE) makes the largest id plus one the next."""
    recorder = Recorder("sqlite")
    assert await repository.lock_voucher_to_redeem(cast(AsyncSession, recorder), 42) is None
    (statement,) = recorder.statements
    compiled = statement.compile(dialect=sqlite.dialect())
    assert f"(SELECT coalesce(max({REDEMPTIONS}.id), ?) + ? AS anon_2 \nFROM {REDEMPTIONS}) AS anon_1" in str(compiled)
    assert f"FROM {VOUCHERS} \nWHERE {VOUCHERS}.id = ?" in str(compiled)
    assert compiled.params == {"coalesce_1": 0, "coalesce_2": 1, "id_1": 42}
    assert statement.get_execution_options().get("populate_existing") is True


async def test_the_flag_worker_claims_the_oldest_unchecked_redemptions_skipping_the_locked_ones() -> None:
    """A confirmation or cancellation holding a redemption does not hold up the worker (nor another worker): it
    takes the next ones, at most `limit`, oldest first, and only those it selected."""
    recorder = Recorder()
    at = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
    assert await repository.claim_unchecked_redemptions(cast(AsyncSession, recorder), 7, at) == []
    (statement,) = recorder.statements
    sql = " ".join(postgres_sql(statement).split())
    oldest = (
        f"(SELECT {REDEMPTIONS}.id FROM {REDEMPTIONS} WHERE {REDEMPTIONS}.flags_checked_at IS NULL"
        f" ORDER BY {REDEMPTIONS}.id LIMIT %(param_1)s::INTEGER FOR UPDATE SKIP LOCKED)"
    )
    assert f"WHERE {REDEMPTIONS}.id IN {oldest}" in sql, sql
    assert statement.compile().params["param_1"] == 7
    # The marks are read back into the objects the session may already hold.
    assert statement.get_execution_options().get("populate_existing") is True


async def test_a_bulk_decision_locks_its_applications_in_id_order_and_reads_them_afresh() -> None:
    """Overlapping batches decided at once take the same rows in the same order (no deadlock), and each reads the
    applications' states as the batch before it left them."""
    recorder = Recorder()
    assert await repository.lock_applications(cast(AsyncSession, recorder), [3, 1, 3]) == []
    (statement,) = recorder.statements
    sql = " ".join(postgres_sql(statement).split())
    assert sql.endswith(
        f"FROM {APPLICATIONS} WHERE {APPLICATIONS}.id IN (__[POSTCOMPILE_id_1]) ORDER BY {APPLICATIONS}.id FOR UPDATE"
    ), sql
    assert statement.compile().params == {"id_1": [1, 3]}
    assert statement.get_execution_options().get("populate_existing") is True


async def test_a_first_come_batch_locks_the_programmes_oldest_submitted_applications_afresh() -> None:
    recorder = Recorder()
    assert await repository.submitted_applications(cast(AsyncSession, recorder), 5, limit=9) == []
    (statement,) = recorder.statements
    sql = " ".join(postgres_sql(statement).split())
    assert sql.endswith(
        f"FROM {APPLICATIONS} WHERE {APPLICATIONS}.program_id = %(program_id_1)s::BIGINT"
        f" AND {APPLICATIONS}.state = %(state_1)s::VARCHAR ORDER BY {APPLICATIONS}.id LIMIT %(param_1)s::INTEGER"
        " FOR UPDATE"
    ), sql
    assert statement.compile().params == {"program_id_1": 5, "state_1": "submitted", "param_1": 9}
    assert statement.get_execution_options().get("populate_existing") is True


@pytest.fixture
def locks() -> Iterator[list[str]]:
    """The tables whose rows the app's requests lock, in order, as PostgreSQL would be asked to."""
    taken: list[str] = []

    def record(conn: Any, clause: Any, multiparams: Any, params: Any, execution_options: Any) -> None:
        if isinstance(clause, Select) and clause._for_update_arg is not None:
            sql = postgres_sql(clause)
            table = next(t for t in (VOUCHERS, REDEMPTIONS, PROGRAMS) if f"FROM {t} " in sql)
            assert sql.rstrip().endswith(LOCK_CLAUSE[table]), sql
            taken.append(table)

    event.listen(Engine, "before_execute", record)
    yield taken
    event.remove(Engine, "before_execute", record)


async def redeem(client: Client, world: World) -> dict[str, Any]:
    body = {"agency_id": world.agency_id, "service_code": "invention", "price_fen": 100_000}
    response = await client.post(
        f"/api/v1/vouchers/{world.voucher['id']}/redeem", json=body, headers=world.enterprise.headers
    )
    assert response.status == 201, await response.text()
    redemption: dict[str, Any] = await response.json()
    return redemption


async def test_a_redemption_is_written_in_one_statement_on_postgresql_and_in_order_on_sqlite(
    client: Client, world: World, db: Any
) -> None:
    """The redemption, the voucher's new balance, the audit row and the idempotency record: one round trip under the
    voucher's lock on PostgreSQL (data-modifying CTEs); SQLite has none, so there they go one after another."""
    written: list[list[str]] = []

    def record(conn: Any, clause: Any, multiparams: Any, params: Any, execution_options: Any) -> None:
        if isinstance(clause, Insert | Update):
            sql = postgres_sql(clause)
            tables = [t for t in (REDEMPTIONS, VOUCHERS, AUDIT, IDEMPOTENCY) if re.search(rf"(INTO|UPDATE) {t} ", sql)]
            if tables:
                written.append(sorted(tables, key=sql.index))

    event.listen(Engine, "before_execute", record)
    try:
        async with worker(client).held():  # the flag worker's mark (an UPDATE of the redemption) comes after
            body = {"agency_id": world.agency_id, "service_code": "invention", "price_fen": 100_000}
            headers = {**world.enterprise.headers, "Idempotency-Key": "one-statement"}
            response = await client.post(f"/api/v1/vouchers/{world.voucher['id']}/redeem", json=body, headers=headers)
            assert response.status == 201, await response.text()
    finally:
        event.remove(Engine, "before_execute", record)
    if db.engine.dialect.name == "postgresql":
        assert written == [[REDEMPTIONS, AUDIT, IDEMPOTENCY, VOUCHERS]]  # WITH … INSERT …, … UPDATE vouchers
    else:
        assert written == [[REDEMPTIONS], [VOUCHERS], [AUDIT], [IDEMPOTENCY]]


async def test_issuing_locks_the_programme(client: Client, world: World, locks: list[str], db: Any) -> None:
    enterprise_id = await make_enterprise(db)
    locks.clear()
    response = await client.post(
        f"/api/v1/voucher-programs/{world.program['id']}/vouchers",
        json={"enterprises": [{"enterprise_id": enterprise_id}]},
        headers=world.official.headers,
    )
    assert response.status == 201, await response.text()
    assert locks == [PROGRAMS]


async def test_redeeming_locks_the_voucher(client: Client, world: World, locks: list[str]) -> None:
    locks.clear()
    await redeem(client, world)
    assert locks == [VOUCHERS]


async def test_confirm_settle_and_reject_lock_voucher_then_redemption(
    client: Client, world: World, locks: list[str]
) -> None:
    first, second = await redeem(client, world), await redeem(client, world)
    for redemption in (first, second):
        locks.clear()
        confirm = f"/api/v1/redemptions/{redemption['id']}/confirm"
        assert (await client.post(confirm, json=EVIDENCE, headers=world.agency.headers)).status == 200
        assert locks == [VOUCHERS, REDEMPTIONS]
    locks.clear()
    approve = {"decision": "approve", "reason": "checked"}
    settle = f"/api/v1/redemptions/{first['id']}/settle"
    assert (await client.post(settle, json=approve, headers=world.official.headers)).status == 200
    assert locks == [VOUCHERS, REDEMPTIONS]
    # A rejection returns the amount to the budget: the programme is locked last.
    locks.clear()
    reject = {"decision": "reject", "reason": "no deliverable"}
    settle = f"/api/v1/redemptions/{second['id']}/settle"
    assert (await client.post(settle, json=reject, headers=world.official.headers)).status == 200
    assert locks == [VOUCHERS, REDEMPTIONS, PROGRAMS]


async def test_cancel_and_revoke_lock_in_the_same_order(
    client: Client, world: World, locks: list[str], make_account: AccountFactory
) -> None:
    redemption = await redeem(client, world)
    locks.clear()
    cancel = f"/api/v1/redemptions/{redemption['id']}/cancel"
    assert (await client.post(cancel, json={}, headers=world.enterprise.headers)).status == 200
    assert locks == [VOUCHERS, REDEMPTIONS]

    pending = await redeem(client, world)
    locks.clear()
    revoke = f"/api/v1/vouchers/{world.voucher['id']}/revoke"
    assert (await client.post(revoke, json={"reason": "moved"}, headers=world.official.headers)).status == 200
    assert locks[0] == VOUCHERS and PROGRAMS in locks
    # Cancelling on a revoked voucher sends the amount back to the budget: voucher, redemption, programme.
    locks.clear()
    official = await make_account(Role.OFFICIAL)
    cancel = f"/api/v1/redemptions/{pending['id']}/cancel"
    response = await client.post(cancel, json={"reason": "revoked"}, headers=official.headers)
    assert response.status == 200, await response.text()
    assert locks == [VOUCHERS, REDEMPTIONS, PROGRAMS]
