"""Fixtures for the suites that run real servers (tests/system, tests/reliability); their conftests import them."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from tests.support.services import PrivatePostgres, PrivateRedis, missing_tools, private_postgres, private_redis

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PrivatePostgres]:
    problem = missing_tools()
    if problem is not None:
        pytest.skip(f"private servers unavailable: {problem}")
    with private_postgres() as cluster:
        yield cluster


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    problem = missing_tools()
    if problem is not None:
        pytest.skip(f"private servers unavailable: {problem}")
    with private_redis() as server:
        yield server


@pytest.fixture
def database_name() -> str:
    return f"ipa_{os.getpid()}_{next(_databases)}"
