"""Fail the build when the NLU model is not good enough on the held-out split.

Reads the intent report that `rasa test nlu --out DIR` writes (DIR/intent_report.json)
and exits 1 when intent accuracy < --min-accuracy or any intent's F1 < --min-f1.
nlu_fallback (the FallbackClassifier's label, not an intent of ours) is reported but not
gated per intent: examples that fell back already count as errors in the accuracy and in
their own intent's recall.  Prints a per-intent table, worst F1 first, the most
frequent confusions (from DIR/intent_errors.json when present) and, when `--successes`
was given to rasa test nlu, how a fallback threshold would split right and wrong answers.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

NOT_INTENTS = {"accuracy", "macro avg", "weighted avg", "micro avg", "nlu_fallback"}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("report", type=Path)
    ap.add_argument("--min-accuracy", type=float, default=0.92)
    ap.add_argument("--min-f1", type=float, default=0.80)
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = ap.parse_args()

    if not args.report.exists():
        print(f"nlu-gate: {args.report} not found (did `rasa test nlu` run?)", file=sys.stderr)
        return 1
    report = json.loads(args.report.read_text(encoding="utf-8"))
    accuracy = float(report["accuracy"])
    rows = sorted(
        ((name, v) for name, v in report.items() if name not in NOT_INTENTS and isinstance(v, dict)),
        key=lambda kv: (kv[1]["f1-score"], kv[0]),
    )
    fmt = "| {:<30} | {:>5} | {:>5} | {:>5} | {:>3} |" if args.markdown else "{:<30} {:>6} {:>6} {:>6} {:>4}"
    print(fmt.format("intent", "prec", "recall", "f1", "n"))
    if args.markdown:
        print("|---|---:|---:|---:|---:|")
    for name, v in rows:
        print(fmt.format(name, f"{v['precision']:.2f}", f"{v['recall']:.2f}", f"{v['f1-score']:.2f}", v["support"]))

    errors_file = args.report.parent / "intent_errors.json"
    if errors_file.exists():
        errors = json.loads(errors_file.read_text(encoding="utf-8"))
        pairs = Counter((e["intent"], e["intent_prediction"]["name"]) for e in errors)
        print("\nconfusions (true -> predicted):")
        for (true, pred), n in pairs.most_common(12):
            print(f"  {n} x {true} -> {pred}")

    successes_file = args.report.parent / "intent_successes.json"
    if errors_file.exists() and successes_file.exists():
        ok = [e["intent_prediction"]["confidence"] for e in json.loads(successes_file.read_text(encoding="utf-8"))]
        bad = [e["intent_prediction"]["confidence"] for e in json.loads(errors_file.read_text(encoding="utf-8"))]
        print("\nfallback threshold (DIET top confidence; below it -> nlu_fallback -> clarify):")
        print("  threshold  right&answered  right->clarify  wrong&answered  wrong->clarify")
        for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
            print(
                f"  {t:9.1f}  {sum(c >= t for c in ok):14d}  {sum(c < t for c in ok):14d}"
                f"  {sum(c >= t for c in bad):14d}  {sum(c < t for c in bad):14d}"
            )

    failures = []
    if accuracy < args.min_accuracy:
        failures.append(f"intent accuracy {accuracy:.3f} < {args.min_accuracy}")
    for name, v in rows:
        if v["f1-score"] < args.min_f1:
            failures.append(f"{name} F1 {v['f1-score']:.3f} < {args.min_f1}")
    worst = rows[0] if rows else ("-", {"f1-score": float("nan")})
    print(f"\nintent accuracy {accuracy:.3f}; worst F1 {worst[1]['f1-score']:.3f} ({worst[0]})")
    if failures:
        print("nlu-gate: FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    print(f"nlu-gate: passed (accuracy >= {args.min_accuracy}, every intent F1 >= {args.min_f1})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
