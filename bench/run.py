"""`make bench`: run every `bench/bench_*.py` (or those named), print a table, write `bench/results.json`.

Each module offers `async def main(args: argparse.Namespace) -> dict` returning
`{"title": str, "rows": [{...}], "notes": [...]}`; rows are printed as a table and stored as they are.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib
import json
import sys
import traceback
from pathlib import Path
from typing import Any

from bench.harness import machine

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
COLUMNS = ("name", "throughput_rps", "throughput_vs_healthz", "p50_ms", "p99_ms", "errors")


def discover(selected: list[str]) -> list[str]:
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if selected:
        names = [n for n in names if n.removeprefix("bench_") in selected or n in selected]
    return names


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n## {title}")
    columns = [c for c in COLUMNS if any(c in row for row in rows)]
    if len(columns) < 2:  # rows of another shape (counts): every key, in first-seen order
        columns = list(dict.fromkeys(k for row in rows for k in row))
    print(" | ".join(columns))
    print(" | ".join("---" for _ in columns))
    for row in rows:
        print(" | ".join(str(row.get(c, "")) for c in columns))


async def run(args: argparse.Namespace) -> int:
    existing: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    suites: dict[str, Any] = existing.get("suites", {})
    failed = 0
    for name in discover(args.only):
        module = importlib.import_module(f"bench.{name}")
        print(f"running {name} …", flush=True)
        try:
            result = await module.main(args)
        except Exception:
            traceback.print_exc()
            failed += 1
            continue
        result["measured_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        suites[name.removeprefix("bench_")] = result
        print_table(result.get("title", name), result.get("rows", []))
        for note in result.get("notes", []):
            print(f"  - {note}")
    RESULTS.write_text(
        json.dumps({"machine": machine(), "suites": suites}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    print(f"\nwrote {RESULTS.relative_to(HERE.parent)}")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description="ip-assistant benchmarks")
    parser.add_argument("only", nargs="*", help="suites to run (e.g. search vouchers); all when empty")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per load phase")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="smaller data and shorter phases, for a smoke run")
    args = parser.parse_args()
    try:  # the load generator shares the machine with the server: give it the faster loop too
        import uvloop

        return uvloop.run(run(args))
    except ImportError:
        return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
