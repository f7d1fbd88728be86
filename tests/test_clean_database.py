"""The fixture every test stands on: `clean` empties every table and restarts every id, whatever the test before
it wrote — the demo data across all domains, the append-only audit included, and ids a rolled-back insert used."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from accounts.models import User
from accounts.schemas import NewUser
from accounts.service import create_user
from app.demo import seed
from app.schema import load_models
from core.auth import Role
from core.db import Database
from core.settings import Settings
from tests.conftest import _empty_database


async def _row_counts(db: Database) -> dict[str, int]:
    async with db.transaction(write=False) as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in load_models().sorted_tables
        }


async def _new_user_id(db: Database, username: str) -> int:
    async with db.transaction() as session:
        user = await create_user(session, NewUser(role=Role.OFFICIAL, username=username, password="long-enough-1"))
        return user.id


async def test_emptying_leaves_every_table_empty_and_restarts_ids(settings: Settings, db: Database) -> None:
    await seed(settings, agencies=20)
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await create_user(session, NewUser(role=Role.OFFICIAL, username="rolled_back", password="long-enough-1"))
            raise RuntimeError("rolled back after the insert")
    written = await _row_counts(db)
    assert sum(1 for count in written.values() if count) >= 10  # the demo reaches most domains

    await _empty_database(settings.database_url)

    assert {name: count for name, count in (await _row_counts(db)).items() if count} == {}
    assert await _new_user_id(db, "first_after") == 1


async def test_emptying_an_empty_database_keeps_it_usable(settings: Settings, db: Database) -> None:
    await _empty_database(settings.database_url)
    await _empty_database(settings.database_url)

    assert await _new_user_id(db, "only_one") == 1
    async with db.transaction(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1
        assert await session.scalar(text("SELECT 1")) == 1
