"""Parse sentences with the trained model and print intent, confidence and entities.

.venv-rasa/bin/python bot/scripts/parse.py "杭州有没有信用好的做发明专利的代理所" "can I use PPH"
.venv-rasa/bin/python bot/scripts/parse.py --model bot/models/current.tar.gz < sentences.txt
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

# The model's pipeline names our own component (`bot.nlu_pinyin`): the repository root must be importable, as the
# `rasa` command makes its working directory importable.
sys.path.insert(1, str(Path(__file__).resolve().parents[2]))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


async def run(model: str, texts: list[str]) -> None:
    from rasa.core.agent import load_agent

    agent = await load_agent(model_path=model)
    for text in texts:
        r = await agent.parse_message(text)
        ents = ", ".join(f"{e['entity']}={e['value']}" for e in r.get("entities", []))
        ranking = r.get("intent_ranking") or []
        second = f"  (2nd {ranking[1]['name']} {ranking[1]['confidence']:.2f})" if len(ranking) > 1 else ""
        print(f"{r['intent']['name']:<30} {r['intent']['confidence']:.2f}  {text}  [{ents}]{second}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("texts", nargs="*")
    ap.add_argument("--model", default="bot/models/current.tar.gz")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    texts = args.texts or [line.strip() for line in sys.stdin if line.strip()]
    asyncio.run(run(args.model, texts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
