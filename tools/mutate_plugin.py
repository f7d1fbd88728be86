"""pytest plugin for mutation runs (`make mutate`), loaded with `-p tools.mutate_plugin`; not used by `make test`.

mutmut runs the tests of each mutant in a process forked from the one that collected the coverage, so the suite's
conftest (and its per-run database name, `RUN_ID`, taken from the process id at import) is inherited: two mutants
tested at once would share one PostgreSQL database and drop it under each other. Here every test session names its
database after its own process (`…_mut<pid>`, so `tools.mutate` can remove what a killed child left behind).
"""

from __future__ import annotations

import os
import sys

import pytest

RUN_PREFIX = "mut"


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    conftest = sys.modules.get("tests.conftest")
    if conftest is not None:
        setattr(conftest, "RUN_ID", f"{RUN_PREFIX}{os.getpid()}")  # noqa: B010 (a module read at run time)
