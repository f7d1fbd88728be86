"""Mutants run in ONE pytest process: a fast sweep of a module's mutmut mutants against a few test files.

mutmut (`make mutate`, tools/mutate.py) runs each mutant in a process forked from its coverage pass, with every test
that runs the mutated function: a few mutants a minute here. This pytest plugin instead sets `MUTANT_UNDER_TEST`
(read by mutmut's trampolines at every call) to each mutant named in a list in turn, runs the collected tests, and
stops a mutant at its first failing test. It runs inside mutmut's copy of the tree (`mutants/`); mutmut's own
record (`mutmut results`, the report) is not updated.

Steps (from the project root; PostgreSQL, as the row locks exist only there):

    # 1. mutmut's copy of the tree with the trampolined code, and the module's mutant names
    .venv/bin/python -m tools.mutate_in_process vouchers/transitions.py > /tmp/transitions.list
    cd mutants
    export DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test
    run() {  # run LIST TESTS...: "status name seconds failing_test" lines in LIST.out, failures in LIST.out.why
        list=$1; shift
        MUTATE_LIST=$list MUTATE_OUT=$list.out nice -n 5 ../.venv/bin/python -m pytest -q -p no:randomly \\
            -p no:cacheprovider -p tools.mutate_plugin -p tools.mutate_in_process \\
            -W ignore::pytest.PytestAssertRewriteWarning --tb=no "$@"
    }
    # 2. the control: no mutant (the name `control`) — must say "survived", else a test fails on its own
    echo control > /tmp/control.list && run /tmp/control.list tests/vouchers/test_state_table.py
    # 3. the sweep
    run /tmp/transitions.list tests/vouchers/test_state_table.py tests/vouchers/test_refusals.py
    grep -v '^killed' /tmp/transitions.list.out      # survivors (and timeouts): run them against all of tests/vouchers

mutmut's copy keeps files it already has: after editing a test or this plugin, copy it into `mutants/` again
(`cp tests/vouchers/test_x.py mutants/tests/vouchers/`). `MUTATE_TIMEOUT` (seconds, default 120) stops a mutant
that hangs ("timeout", counted as noticed). A survivor is one only after the whole of the tests that could notice
it (e.g. `tests/vouchers`) ran under it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

import pytest
from _pytest.runner import runtestprotocol

CONTROL = "control"  # the name of the run without any mutant


class _Hang(Exception):
    pass


def _alarm(_signum: int, _frame: FrameType | None) -> None:
    raise _Hang


def _run_one(session: pytest.Session, why_path: str, name: str) -> tuple[str, str]:
    """The collected tests under one mutant, to the first failure: (status, failing test)."""
    items = session.items
    for index, item in enumerate(items):
        following = items[index + 1] if index + 1 < len(items) else None
        item._initrequest()  # type: ignore[attr-defined]  # fresh fixtures for a test run again
        reports = runtestprotocol(item, nextitem=following, log=False)
        failed = [r for r in reports if r.failed]
        if failed:
            with open(why_path, "a") as why:
                for r in failed:
                    why.write(f"== {name} {item.nodeid} {r.when}\n{str(r.longrepr)[-1500:]}\n")
            session._setupstate.teardown_exact(None)  # the next mutant starts from fresh fixtures
            return "killed", item.nodeid
    return "survived", ""


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    listed = os.environ.get("MUTATE_LIST")
    if not listed:
        return None  # not a sweep: pytest runs the tests as usual
    names = [line.strip() for line in Path(listed).read_text().splitlines() if line.strip()]
    out_path = os.environ.get("MUTATE_OUT", listed + ".out")
    timeout = int(os.environ.get("MUTATE_TIMEOUT", "120"))
    signal.signal(signal.SIGALRM, _alarm)
    with open(out_path, "a") as out:
        for name in names:
            os.environ["MUTANT_UNDER_TEST"] = "" if name == CONTROL else name
            started = time.monotonic()
            signal.alarm(timeout)
            try:
                status, failing = _run_one(session, out_path + ".why", name)
            except _Hang:
                status, failing = "timeout", ""
                with contextlib.suppress(Exception):  # a hung test's teardown may fail too
                    session._setupstate.teardown_exact(None)
            finally:
                signal.alarm(0)
            out.write(f"{status} {name} {time.monotonic() - started:.1f}s {failing}\n")
            out.flush()
    os.environ["MUTANT_UNDER_TEST"] = ""
    return True


def generate(modules: list[str]) -> list[str]:
    """mutmut's copy of the tree in `mutants/` (made or brought up to date, without running anything) and the
    names of the modules' mutants, in order."""
    from mutmut.__main__ import create_mutants
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, setup_source_paths

    Path("mutants").mkdir(exist_ok=True)
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)  # mutmut prints each file it copies: keep stdout for the names
    try:
        copy_src_dir()
        copy_also_copy_files()
        setup_source_paths()
        create_mutants(1)
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
    names: list[str] = []
    for module in modules:  # mutmut's record of the module (its keys are the mutant names, in order)
        meta = json.loads((Path("mutants") / f"{module}.meta").read_text())
        names += list(meta["exit_code_by_key"])
    return names


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m tools.mutate_in_process MODULE.py ... > LIST (e.g. vouchers/transitions.py)")
    sys.stdout.write("".join(f"{name}\n" for name in generate(sys.argv[1:])))
