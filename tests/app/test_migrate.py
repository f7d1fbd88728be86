"""`server.py migrate` takes the database URL as written, percent-encoding included (a password with `@` or `%`,
PostgreSQL's socket directory in `?host=%2Fvar%2Frun%2Fpostgresql`): alembic keeps its options in configparser,
which would read a `%` as the start of an interpolation and stop the migration."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.cli import migrate
from core.settings import load_settings


def test_a_percent_encoded_database_url_is_migrated_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # alembic.ini lives at the root
    settings = load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/ip%25assistant.sqlite3")

    migrate(settings)

    # The URL names the file `ip%assistant.sqlite3`: decoded once, by SQLAlchemy, not mangled on the way.
    database = tmp_path / "ip%assistant.sqlite3"
    with sqlite3.connect(database) as conn:
        (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert revision
    assert {"agencies", "vouchers", "users"} <= tables
