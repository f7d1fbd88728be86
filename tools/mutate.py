"""Mutation testing of the code that guards money and access: `make mutate` (not part of `make test`).

Two kinds of mutants, one report:
  * code — mutmut (configured under [tool.mutmut] in pyproject.toml: `only_mutate` lists the modules) puts one small
    bug at a time into a function and runs only the tests that execute that function (it records which in a first
    run of the selected tests). Each module is its own bounded `mutmut run`, so a slow module cannot eat the budget
    of the others, and a run cut short by its budget resumes where it stopped next time.
  * tables — the permission tables of every domain and the voucher state machines are data, which mutmut does not
    mutate; `tools.table_mutants` makes one slip at a time in them, in a forked child that then runs the tests named
    for that table.

Survivors are printed with their diff and written to var/mutation/report.md with the score per module. Survivors
listed as equivalent in docs/testing.md ("Mutation testing") count as neither killed nor missed.

Options (or the environment, as `make mutate` passes them):
  --changed / MUTATE_CHANGED=1      only the listed modules changed against main (committed or not)
  --module PATH (repeatable)        only these modules (e.g. vouchers/ledger.py, vouchers/permissions.py)
  --max-children N / MUTATE_CHILDREN  mutants tested at once (default 1; the machine has 2 cores)
  --budget MIN / MUTATE_BUDGET      minutes per module before its run is stopped (default 15)
  --no-tables / --no-code           skip one kind
  --fresh                           forget earlier results
  --survivors                       test the code mutants that survived before again (after tests were added)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.table_mutants import TableMutant, mutants

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
OUT = ROOT / "var" / "mutation"
TABLE_RESULTS = OUT / "tables.json"
STATS = MUTANTS / "mutmut-stats.json"
EQUIVALENT_DOC = ROOT / "docs" / "testing.md"
TABLE_FILES = (
    "vouchers/states.py",
    "vouchers/permissions.py",
    "agencies/permissions.py",
    "accounts/permissions.py",
    "enterprises/permissions.py",
    "bot/permissions.py",
    "wechat/permissions.py",
    "fast_track/permissions.py",
)
# mutmut's exit codes per mutant (mutmut.stats.status_by_exit_code); anything else is "suspicious".
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 36: "timeout"}
STATUS |= {24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", -9: "killed by signal", -11: "segfault"}
TABLE_TIMEOUT_S = 600


@dataclass
class Tally:
    killed: int = 0
    survived: list[str] = field(default_factory=list)
    equivalent: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)  # survivors that change only a string's wording
    other: dict[str, int] = field(default_factory=dict)
    unchecked: int = 0

    @property
    def score(self) -> float | None:
        decided = self.killed + len(self.survived)
        return None if decided == 0 else self.killed / decided

    @property
    def behaviour_score(self) -> float | None:
        """The score without the wording-only survivors."""
        decided = self.killed + len(self.survived) - len(self.text)
        return None if decided == 0 else self.killed / decided

    def add(self, name: str, status: str, equivalent: set[str]) -> None:
        if status == "killed" or status == "timeout":
            self.killed += 1  # a mutant that makes the tests hang is noticed too
        elif status == "survived":
            (self.equivalent if name in equivalent else self.survived).append(name)
        elif status == "not checked":
            self.unchecked += 1
        else:
            self.other[status] = self.other.get(status, 0) + 1


def mutmut_modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return [str(p) for p in config["only_mutate"]]


def uncopied_packages() -> list[str]:
    """The project's packages mutmut would leave out of its copy (`mutants/`), where the suite then cannot import
    them: every top-level package must be under `source_paths` or `also_copy`."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    copied = {*config["source_paths"], *config.get("also_copy", []), "tests"}
    return sorted(p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name not in copied)


def changed_files() -> set[str]:
    """Files that differ from main: committed on this branch, staged, or only in the working tree."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout  # noqa: S603, S607

    base = git("merge-base", "main", "HEAD").strip()
    return {line for line in git("diff", "--name-only", base).splitlines() if line}


def equivalent_mutants() -> set[str]:
    """The mutants docs/testing.md lists as equivalent: "- `name`, `name` — reason" items of its "Mutation testing"
    part (the names may run over several lines, up to the " — ")."""
    if not EQUIVALENT_DOC.exists():
        return set()
    text = EQUIVALENT_DOC.read_text()
    start = text.find("## Mutation testing")
    if start < 0:
        return set()
    section = text[start:]
    following = re.search(r"^## ", section[3:], flags=re.MULTILINE)
    section = section[: following.start() + 3] if following else section
    # An item may run over several lines: its names are everything quoted before its " — ".
    items = re.findall(r"^- (`.*?)(?= — )", section, flags=re.MULTILINE | re.DOTALL)
    return {name for item in items for name in re.findall(r"`([^`]+)`", item)}


def dotted(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".")


def meta_results(module: str) -> dict[str, int | None]:
    meta = MUTANTS / f"{module}.meta"
    if not meta.exists():
        return {}
    data: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    return data


def status_of(code: int | None) -> str:
    return "not checked" if code is None else STATUS.get(code, "suspicious")


def run_mutmut(module: str, *, children: int, budget_s: float, fresh: bool, survivors: bool = False) -> bool:
    """One module's mutants (those with no result yet; with `survivors`, also those that survived before); False
    when mutmut could not even collect which tests run what (the output says why)."""
    results = meta_results(module)
    again = {None, 0} if survivors else {None}
    names = [f"{dotted(module)}.*"] if fresh or not results else [k for k, v in results.items() if v in again]
    if not names:
        print(f"== {module}: every mutant already has a result (--fresh to redo)", flush=True)
        return True
    print(f"== {module}: mutmut run ({'all' if '*' in names[0] else len(names)} mutants)", flush=True)
    command = [sys.executable, "-c", "import sys; from mutmut.__main__ import cli; sys.exit(cli())"]
    command += ["run", "--max-children", str(children), *names]
    process = subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    # The budget counts from the start of the mutants' own runs: the coverage pass (only the first module pays it)
    # and the clean run of the covering tests before it must not be cut short.
    mutating = threading.Event()

    def relay() -> None:
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            sys.stdout.buffer.write(raw)
            sys.stdout.flush()
            if b"Running mutation testing" in raw:
                mutating.set()

    reader = threading.Thread(target=relay, daemon=True)
    reader.start()
    started: float | None = None
    while process.poll() is None:
        time.sleep(1)
        if started is None:
            started = time.monotonic() if mutating.is_set() else None
        elif time.monotonic() - started > budget_s:
            print(f"== {module}: budget of {budget_s / 60:.0f} min spent; stopping (the next run resumes)", flush=True)
            _stop(process)
    reader.join(timeout=5)
    return STATS.exists()


def _stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# --- table mutants -------------------------------------------------------------------------------------------------


def _table_fingerprint(file: str) -> str:
    """What a table file's results depend on: the table and the tests named for it."""
    digest = hashlib.sha256((ROOT / file).read_bytes())
    for name in sorted({t for m in mutants() if m.file == file for t in m.tests}):
        path = ROOT / name
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:16]


def _saved_tables() -> dict[str, dict[str, Any]]:
    saved: dict[str, dict[str, Any]] = json.loads(TABLE_RESULTS.read_text()) if TABLE_RESULTS.exists() else {}
    return saved


def table_results(file: str) -> dict[str, str]:
    entry = _saved_tables().get(file, {})
    results: dict[str, str] = entry.get("results", {}) if entry.get("fingerprint") == _table_fingerprint(file) else {}
    return results


def _child_run_table_mutant(mutant_id: str, tests: tuple[str, ...]) -> int:
    import pytest

    from tools.table_mutants import apply

    apply(mutant_id)
    present = [t for t in tests if (ROOT / t).exists()]
    args = ["-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-p", "tools.mutate_plugin", "--tb=no"]
    return int(pytest.main([*args, *present]))


def run_tables(files: set[str], *, children: int, budget_s: float, fresh: bool) -> None:
    """Each table file's mutants, `children` at a time, each in a forked child; `budget_s` per file."""
    # Warm the parent with the libraries every child needs, but none of the project's routes: a child must change a
    # table before the routes read their roles from it.
    import aiohttp  # noqa: F401
    import pydantic  # noqa: F401
    import pytest  # noqa: F401
    import sqlalchemy  # noqa: F401

    catalogue = mutants()
    if "vouchers.routes" in sys.modules:
        raise RuntimeError("the routes were imported before the tables were mutated")
    for file in (f for f in TABLE_FILES if f in files):
        results = {} if fresh else table_results(file)
        todo = [m for m in catalogue if m.file == file and m.id not in results]
        print(f"== {file} (table): {len(todo)} mutants to test", flush=True)
        _run_table_mutants(file, todo, results, children=children, deadline=time.monotonic() + budget_s)


def _run_table_mutants(
    file: str, todo: list[TableMutant], results: dict[str, str], *, children: int, deadline: float
) -> None:
    fingerprint = _table_fingerprint(file)
    running: dict[int, tuple[TableMutant, float]] = {}

    def reap(until_free: int) -> None:
        """Collect finished children until fewer than `until_free` run; kill one that outlives its timeout."""
        while len(running) >= until_free:
            pid, wait_status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                for slow, (_, started) in list(running.items()):
                    if time.monotonic() - started > TABLE_TIMEOUT_S:
                        os.killpg(slow, signal.SIGKILL)
                time.sleep(0.2)
                continue
            mutant, _ = running.pop(pid)
            code = os.waitstatus_to_exitcode(wait_status)
            # 1: a test failed; 3 or 4: the suite could not start with the slip (a route refuses an empty role set).
            results[mutant.id] = "killed" if code in (1, 3, 4) else "survived" if code == 0 else f"error {code}"
            print(f"   {results[mutant.id]:>8}  {mutant.id}", flush=True)
            saved = _saved_tables()
            saved[file] = {"fingerprint": fingerprint, "results": results}
            TABLE_RESULTS.parent.mkdir(parents=True, exist_ok=True)
            TABLE_RESULTS.write_text(json.dumps(saved, indent=1))

    for mutant in todo:
        if time.monotonic() > deadline:
            print(f"== {file}: budget spent; stopping (the next run resumes)", flush=True)
            break
        reap(until_free=children)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            code = 3
            try:
                os.setsid()
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                code = _child_run_table_mutant(mutant.id, mutant.tests)
            finally:
                os._exit(code)
        running[pid] = (mutant, time.monotonic())
    reap(until_free=1)


# --- report --------------------------------------------------------------------------------------------------------


_DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
print(json.dumps({name: get_diff_for_mutant(name) for name in json.loads(sys.stdin.read())}))
"""
_STRING = re.compile(r"""(["'])(?:\\.|(?!\1).)*\1""")


def mutmut_diffs(names: list[str]) -> dict[str, str]:
    """The diff of each mutmut mutant, all read in one process."""
    if not names:
        return {}
    command = [sys.executable, "-c", _DIFFS]
    shown = subprocess.run(command, cwd=ROOT, input=json.dumps(names), capture_output=True, text=True, check=True)  # noqa: S603
    diffs: dict[str, str] = json.loads(shown.stdout)
    return diffs


def text_only(diff: str) -> bool:
    """Whether a mutant changes nothing but the wording of prose inside a string (a message or a reason, which has
    spaces; not a value such as a state, a code or a key): the tests pin error codes, fields and details, not
    wording, so these are reported apart from the mutants that change behaviour."""
    lines = diff.splitlines()
    before = [line[1:] for line in lines if line.startswith("-") and not line.startswith("---")]
    after = [line[1:] for line in lines if line.startswith("+") and not line.startswith("+++")]
    if not before or len(before) != len(after):
        return False
    for old, new in zip(before, after, strict=True):
        if _STRING.sub('""', old) != _STRING.sub('""', new):
            return False
        pairs = zip(_STRING.finditer(old), _STRING.finditer(new), strict=True)
        if any(o.group() != n.group() and " " not in o.group() for o, n in pairs):
            return False
    return True


def report(modules: list[str], tables: set[str]) -> int:
    equivalent = equivalent_mutants()
    lines = ["# Mutation testing report", ""]
    lines.append("| module | killed | survived (wording only) | equivalent | other | score | without wording |")
    lines.append("|---|---|---|---|---|---|---|")
    survivors: list[tuple[str, str]] = []
    tallies: dict[str, Tally] = {}
    for module in modules:
        tally = tallies[module] = Tally()
        for name, code in sorted(meta_results(module).items()):
            tally.add(name, status_of(code), equivalent)
        diffs = mutmut_diffs(tally.survived)
        tally.text = [name for name in tally.survived if text_only(diffs.get(name, ""))]
        survivors += [(name, diffs.get(name, "")) for name in tally.survived]
    by_id = {m.id: m for m in mutants()}
    for file in (f for f in TABLE_FILES if f in tables):
        tally = tallies[f"{file} (table)"] = Tally()
        results = table_results(file)
        for mutant in (m for m in by_id.values() if m.file == file):
            status = results.get(mutant.id, "not checked")
            tally.add(mutant.id, status, equivalent)
            if status == "survived" and mutant.id not in equivalent:
                survivors.append((mutant.id, f"table mutant {mutant.id}; its tests: {' '.join(mutant.tests)}"))
    for name, tally in tallies.items():
        other = ", ".join(f"{k} {v}" for k, v in sorted(tally.other.items()))
        if tally.unchecked:
            other = ", ".join(filter(None, [other, f"not checked {tally.unchecked}"]))
        score = "–" if tally.score is None else f"{tally.score:.1%}"
        behaviour = "–" if tally.behaviour_score is None else f"{tally.behaviour_score:.1%}"
        survived = f"{len(tally.survived)} ({len(tally.text)})"
        lines.append(
            f"| {name} | {tally.killed} | {survived} | {len(tally.equivalent)} | {other} | {score} | {behaviour} |"
        )
    killed = sum(t.killed for t in tallies.values())
    missed = sum(len(t.survived) for t in tallies.values())
    text = {name for t in tallies.values() for name in t.text}
    total = f"{killed / (killed + missed):.1%}" if killed + missed else "–"
    behaviour = f"{killed / (killed + missed - len(text)):.1%}" if killed + missed - len(text) else "–"
    lines += ["", f"Overall: {killed} killed, {missed} survived ({len(text)} of them change only wording), not "]
    lines += [f"counting equivalent mutants: {total}; without the wording-only survivors: {behaviour}", ""]
    for title, chosen in (
        ("Survivors", [s for s in survivors if s[0] not in text]),
        ("Wording only", [s for s in survivors if s[0] in text]),
    ):
        if chosen:
            lines += [f"## {title}", ""]
            for name, diff in chosen:
                lines += [f"### {name}", "", "```diff", diff, "```", ""]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "report.md").write_text("\n".join(lines))
    print("\n".join(lines))
    print(f"(written to {(OUT / 'report.md').relative_to(ROOT)})")
    return 1 if missed else 0


def drop_leftover_databases() -> None:
    """Remove the databases of mutation children that were stopped before their own cleanup (`…_mut<pid>`)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    from tools.mutate_plugin import RUN_PREFIX

    prefix = f"{make_url(url).database}_{RUN_PREFIX}"

    alive = set(os.listdir("/proc"))

    async def drop() -> None:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            names = (await conn.execute(text("SELECT datname FROM pg_database"))).scalars().all()
            for name in (n for n in names if n.startswith(prefix) and n.removeprefix(prefix) not in alive):
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()

    asyncio.run(drop())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changed", action="store_true", default=os.environ.get("MUTATE_CHANGED") == "1")
    parser.add_argument("--module", action="append", default=[])
    parser.add_argument("--max-children", type=int, default=int(os.environ.get("MUTATE_CHILDREN") or 1))
    parser.add_argument("--budget", type=float, default=float(os.environ.get("MUTATE_BUDGET") or 15))
    parser.add_argument("--no-tables", action="store_true")
    parser.add_argument("--no-code", action="store_true")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--survivors", action="store_true")
    args = parser.parse_args(argv)

    os.chdir(ROOT)
    if not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        print("note: DATABASE_URL is not PostgreSQL: the row locks go untested (`make mutate` sets it)", flush=True)
    modules = mutmut_modules()
    tables = set(TABLE_FILES)
    if args.module:
        modules = [m for m in modules if m in args.module]
        tables &= set(args.module)
    if args.changed:
        changed = changed_files()
        modules = [m for m in modules if m in changed]
        tables &= changed
        print(f"changed against main: {', '.join(sorted([*modules, *tables])) or 'none of the mutated modules'}")
    if args.fresh and MUTANTS.exists():
        shutil.rmtree(MUTANTS)
    budget_s = args.budget * 60
    if not args.report_only:
        if not args.no_code and (missing := uncopied_packages()):
            print(f"== not in [tool.mutmut] source_paths or also_copy (the suite cannot import them): {missing}")
            return 2
        if not args.no_code:
            for module in modules:
                ran = run_mutmut(
                    module, children=args.max_children, budget_s=budget_s, fresh=args.fresh, survivors=args.survivors
                )
                if not ran:
                    print("== the coverage pass failed (a selected test fails without any mutant); stopping")
                    break
        if not args.no_tables and tables:
            run_tables(tables, children=args.max_children, budget_s=budget_s, fresh=args.fresh)
        drop_leftover_databases()
    return report([] if args.no_code else modules, set() if args.no_tables else tables)


if __name__ == "__main__":
    sys.exit(main())
