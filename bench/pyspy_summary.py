"""Where a process's CPU went, from a py-spy raw profile: the functions with the largest inclusive share.

    .venv/bin/py-spy record --pid PID -d 20 -r 100 --nonblocking --format raw -o rasa.txt
    .venv/bin/python -m bench.pyspy_summary rasa.txt [--top 25] [--match jsonschema]
    .venv/bin/python -m bench.pyspy_summary rasa.txt --split rasa --ms 20.3    # where a message's CPU goes

Each raw line is `frame;frame;…;frame COUNT` (outermost first). A function's inclusive share is the fraction of
samples with it anywhere on the stack (counted once per sample), its self share those with it on top.

`--split rasa|backend` sorts the busy samples (the event loop waiting is left out) into the parts of a chat turn
(`SPLITS`: each sample goes to the first part with a frame on its stack); with `--ms` (the phase's CPU ms per
answer from `bench_chat`) each part's share is also given as CPU ms per answer.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>[^ ]+) \((?P<file>[^:)]+)(?::\d+)?\)$")


def _short(frame: str) -> str:
    """`validate (jsonschema/validators.py:1100)` → `validate (jsonschema/validators.py)`, site-packages cut off."""
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    path = match["file"].split("site-packages/")[-1].split("/perf/")[-1]
    return f"{match['func']} ({path})"


def summarise(lines: list[str]) -> tuple[int, Counter[str], Counter[str]]:
    total = 0
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for line in lines:
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(f) for f in stack.split(";") if f]
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        if frames:
            own[frames[-1]] += count
    return total, inclusive, own


# Parts of a chat turn, in order of precedence: (name, substrings of a frame). Idle: the event loop's own frame on top.
SPLITS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "rasa": (
        ("tracker store: save", ("save (rasa/core/tracker_store.py)", "save (bot/rasa_patches.py)")),
        (
            "tracker store: retrieve",
            ("retrieve (rasa/core/tracker_store.py)", "_retrieve (rasa/core/tracker_store.py)", "retrieve_stored"),
        ),
        ("lock store", ("rasa/core/lock_store.py",)),
        ("NLU parse", ("parse_message",)),
        ("action round trip (HTTP to the backend)", ("rasa/utils/endpoints.py",)),
        ("policy prediction", ("_predict_next_with_tracker",)),
        ("running actions (responses, events)", ("_run_action",)),
        ("rest of handling a message", ("handle_message (rasa/core/processor.py)",)),
        ("HTTP in and out (sanic, channel)", ("",)),
    ),
    "backend": (
        ("action endpoint: reading the tracker (JSON, validation, storable scan)", ("parse_body (core/http.py)",)),
        ("database (SQLAlchemy, asyncpg)", ("sqlalchemy/", "asyncpg/")),
        ("Redis (cache, dedup, rate limits)", ("redis/",)),
        ("actions (Python)", ("ActionExecutor.run",)),
        ("WeChat webhook (crypto, XML, dedup)", ("wechat/webhook.py",)),
        ("gateway (the call to Rasa)", ("bot/gateway.py",)),
        ("HTTP and middlewares (aiohttp)", ("",)),
    ),
}
IDLE = ("serve (sanic/server/runners.py)", "run_app (aiohttp/web.py)", "select (selectors.py)", "_run_once")


def split(lines: list[str], parts: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[int, Counter[str]]:
    """(busy samples, samples per part)."""
    busy = 0
    found: Counter[str] = Counter()
    for line in lines:
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [_short(f) for f in stack.split(";") if f]
        if not frames or frames[-1].startswith(IDLE):
            continue
        busy += int(count_text)
        for name, marks in parts:
            if any(mark in frame for frame in frames for mark in marks):
                found[name] += int(count_text)
                break
    return busy, found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", default="", help="only functions whose name or file contains this")
    parser.add_argument("--split", choices=sorted(SPLITS), help="busy samples by part of a chat turn")
    parser.add_argument("--ms", type=float, default=0.0, help="CPU ms per answer of the profiled phase")
    args = parser.parse_args(argv)
    if args.split:
        busy, parts = split(args.profile.read_text(errors="replace").splitlines(), SPLITS[args.split])
        print(f"{busy} busy samples")
        for name, _ in SPLITS[args.split]:
            share = parts[name] / busy if busy else 0.0
            ms = f"{share * args.ms:6.1f} ms" if args.ms else ""
            print(f"{100 * share:6.1f} %  {ms}  {name}")
        return 0
    total, inclusive, own = summarise(args.profile.read_text(errors="replace").splitlines())
    if not total:
        print("no samples")
        return 1
    print(f"{total} samples")
    print(f"{'incl %':>7} {'self %':>7}  function")
    shown = 0
    for frame, count in inclusive.most_common():
        if args.match and args.match not in frame:
            continue
        print(f"{100 * count / total:7.1f} {100 * own[frame] / total:7.1f}  {frame}")
        shown += 1
        if shown >= args.top:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
