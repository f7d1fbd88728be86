"""The assistant's understanding on the blind development set (`nlu_data/dev/dev_set.yml`, never trained on).

Runs `bot/scripts/dev_eval.py` with the Rasa venv on the trained model and reports, per language: intent accuracy
(a clarifying question counts as an error), how often it asked instead of answering, the wrong-topic rate (a
confident answer of another topic) and in-process parse latency. Only aggregates: no dev item's text is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from bench.harness import ROOT

MODEL = ROOT / "bot" / "models" / "current.tar.gz"
PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
TITLE = "Assistant understanding (blind dev set, bot/scripts/dev_eval.py)"
GROUPS = (("all", "all"), ("zh (zh + mixed)", "lang:zh+mixed"), ("en", "lang:en"))


async def main(args: argparse.Namespace) -> dict[str, Any]:
    if not MODEL.exists() or not PYTHON.exists():
        return {"title": TITLE, "rows": [], "notes": ["skipped: no trained model or no .venv-rasa"]}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dev_eval.json"
        proc = await asyncio.create_subprocess_exec(
            str(PYTHON), "bot/scripts/dev_eval.py", "--model", str(MODEL), "--json", str(out),
            cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await proc.wait()
        if not out.exists():
            return {"title": TITLE, "rows": [], "notes": [f"dev_eval.py failed (exit {proc.returncode})"]}
        result = json.loads(out.read_text(encoding="utf-8"))
    rows = []
    for name, key in GROUPS:
        g = result["groups"][key]
        rows.append(
            {
                "name": f"dev_{name}",
                "n": g["n"],
                "accuracy": round(g["accuracy"], 3),
                "clarified": round(g["clarified"], 3),
                "wrong_topic": round(g["wrong_topic"], 3),
                "wrong_policy_answer": round(g["wrong_policy_answer"], 3),
            }
        )
    latency = result["latency_ms"]
    rows[0] |= {"p50_ms": round(latency["p50"], 1), "p99_ms": round(latency["p99"], 1)}
    worst = sorted(result["per_intent"].items(), key=lambda kv: kv[1]["f1"])[:3]
    confusions = result["confusions"][:5]
    # bench/run.py prints only its standard columns: the understanding figures go in the notes as well.
    notes = [
        f"{r['name']}: accuracy {r['accuracy']:.1%}, clarified {r['clarified']:.1%}, wrong topic {r['wrong_topic']:.1%}"
        f" (n={r['n']})"
        for r in rows
    ]
    notes.append("worst intents by F1: " + ", ".join(f"{k} {v['f1']:.2f}" for k, v in worst))
    notes.append("top confusions: " + ", ".join(f"{c['true']}->{c['predicted']} x{c['count']}" for c in confusions))
    return {"title": TITLE, "rows": rows, "notes": notes}
