"""Where a process's CPU went, from a py-spy raw profile: the functions with the largest inclusive share.

    .venv/bin/py-spy record --pid PID -d 20 -r 100 --nonblocking --format raw -o rasa.txt
    .venv/bin/python -m bench.pyspy_summary rasa.txt [--top 25] [--match jsonschema]

Each raw line is `frame;frame;…;frame COUNT` (outermost first). A function's inclusive share is the fraction of
samples with it anywhere on the stack (counted once per sample), its self share those with it on top.
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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", default="", help="only functions whose name or file contains this")
    args = parser.parse_args(argv)
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
