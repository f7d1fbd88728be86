"""Fast checks of the NLU data that need no training (run with the Rasa venv's Python).

  * every entity annotation starts and ends on a Jieba token boundary (with the user
    dictionaries in bot/jieba_dict loaded) -- a misaligned annotation is silently dropped
    from entity training by Rasa;
  * every contract intent has >= 30 Chinese and >= 12 English training examples, and
    >= 8 examples in the held-out split;
  * no held-out example also appears in the training data;
  * no training example is a near-duplicate (similarity >= 0.9) of an item of the blind development set
    (nlu_data/dev/dev_set.yml) -- reported by file, intent and position only, never by text, so that the check
    itself does not show anyone the dev set;
  * only contract intents and entities are used.

Usage: python bot/scripts/check_nlu_data.py [--train nlu_data/nlu] [--test nlu_data/test_split]
       [--dev nlu_data/dev/dev_set.yml]
Exit status 1 on any problem.
"""

from __future__ import annotations

import argparse
import difflib
import glob
import logging
import os
import re
import sys
from collections import Counter
from typing import Any

INTENTS = [
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "bot_challenge",
    "help",
    "human_handoff",
    "out_of_scope",
    "ask_priority_exam_conditions",
    "ask_priority_exam_process",
    "ask_priority_exam_timeline",
    "check_priority_eligibility",
    "plan_fast_track",
    "ask_trademark_priority",
    "ask_pph",
    "ask_centralized_exam",
    "ask_fast_preexam",
    "ask_open_license",
    "ask_pledge_financing",
    "ask_ip_insurance",
    "ask_patent_navigation",
    "ask_rights_protection",
    "ask_policy_overview",
    "ask_agency_selection",
    "ask_credit_rules",
    "find_agency",
    "check_agency_rating",
    "compare_agencies",
    "ask_voucher_apply",
    "ask_voucher_use",
    "ask_voucher_settlement",
    "my_vouchers",
    "ask_specialized_sme",
    "ask_trademark_brand_guidance",
    "ask_collective_certification_mark",
    "ask_innovation_management",
    "ask_patent_intensive_product",
    "ask_ip_professional_title",
    "ask_ip_training_and_experts",
    "ask_overseas_protection",
    "ask_public_service_platforms",
]
ENTITIES = {"region", "service_type", "technical_field", "agency_name", "rating_level"}
HAN = re.compile(r"[\u4e00-\u9fff]")

MIN_ZH, MIN_EN, MIN_TEST = 30, 12, 8
NEAR_DUPLICATE = 0.9
# Stock phrases shorter than this (你好, 谢谢, 好的, hi, ok, bye…) are the language, not a leak: not checked.
STOCK_PHRASE = 5
_NOISE = re.compile(r"[\s\W_]+")


def normalise(text: str) -> str:
    """Lower case without spaces or punctuation: what two near-identical phrasings share."""
    return _NOISE.sub("", text.lower())


def near_duplicates(train: list[tuple[str, str, int, str]], dev_texts: list[str]) -> list[str]:
    """Training examples at least NEAR_DUPLICATE similar to a dev item (difflib ratio on normalised text).

    Returns "file: intent #n (similarity s)" lines: no text of either side.
    """
    dev = [normalise(t) for t in dev_texts]
    found = []
    for fname, intent, position, text in train:
        a = normalise(text)
        if len(a) < STOCK_PHRASE:
            continue
        matcher = difflib.SequenceMatcher(None, "", a, autojunk=False)  # seq2 (cached) = the example
        best = 0.0
        for b in dev:
            # ratio <= 2*min/(len a + len b): skip pairs whose lengths alone rule out a match.
            if 2 * min(len(a), len(b)) / (len(a) + len(b) or 1) < NEAR_DUPLICATE:
                continue
            matcher.set_seq1(b)
            if matcher.real_quick_ratio() < NEAR_DUPLICATE or matcher.quick_ratio() < NEAR_DUPLICATE:
                continue
            best = max(best, matcher.ratio())
        if best >= NEAR_DUPLICATE:
            found.append(f"{fname}: {intent} example #{position} is a near-duplicate of a dev-set item ({best:.2f})")
    return found


def load_dev_texts(path: str) -> list[str]:
    import yaml

    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return [str(item["text"]) for item in data.get("items") or []]


def load(paths: list[str]) -> list[tuple[str, Any]]:
    from rasa.shared.nlu.training_data.loading import load_data

    files: list[str] = []
    for p in paths:
        files += sorted(glob.glob(os.path.join(p, "**", "*.yml"), recursive=True)) if os.path.isdir(p) else [p]
    examples = []
    for f in files:
        td = load_data(f)
        examples += [(f, m) for m in td.intent_examples]
    return examples


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", nargs="+", default=["nlu_data/nlu"])
    ap.add_argument("--test", nargs="+", default=["nlu_data/test_split"])
    ap.add_argument("--dict", default="bot/jieba_dict")
    ap.add_argument("--dev", default="nlu_data/dev/dev_set.yml", help="blind dev set (near-duplicate check)")
    args = ap.parse_args()

    import jieba

    jieba.setLogLevel(logging.WARNING)
    for f in sorted(glob.glob(f"{args.dict}/*")):
        jieba.load_userdict(f)

    problems: list[str] = []
    counts: dict[str, Counter[tuple[str, str]]] = {"train": Counter(), "test": Counter()}
    texts: dict[str, set[str]] = {"train": set(), "test": set()}
    train_examples: list[tuple[str, str, int, str]] = []
    position: Counter[tuple[str, str]] = Counter()
    for split, paths in (("train", args.train), ("test", args.test)):
        for fname, msg in load(paths):
            text, intent = msg.get("text"), msg.get("intent")
            if intent not in INTENTS:
                problems.append(f"{fname}: unknown intent {intent!r} ({text})")
            lang = "zh" if HAN.search(text) else "en"
            counts[split][(intent, lang)] += 1
            counts[split][(intent, "all")] += 1
            if split == "train":
                position[(fname, intent)] += 1
                train_examples.append((fname, intent, position[(fname, intent)], text))
            key = re.sub(r"\s+", " ", text.strip().lower())
            texts[split].add(key)
            tokens = [(w, s, e) for (w, s, e) in jieba.tokenize(text)]
            starts = {s for _, s, _ in tokens}
            ends = {e for _, _, e in tokens}
            for ent in msg.get("entities") or []:
                if ent["entity"] not in ENTITIES:
                    problems.append(f"{fname}: unknown entity {ent['entity']!r} in {text!r}")
                if ent["start"] not in starts or ent["end"] not in ends:
                    toks = "/".join(w for w, _, _ in tokens)
                    problems.append(
                        f"{fname}: misaligned {ent['entity']}={text[ent['start'] : ent['end']]!r} "
                        f"in {text!r}; jieba: {toks}"
                    )
    for intent in INTENTS:
        zh, en = counts["train"][(intent, "zh")], counts["train"][(intent, "en")]
        if zh < MIN_ZH or en < MIN_EN:
            problems.append(f"train: {intent} has {zh} zh / {en} en examples (need {MIN_ZH}/{MIN_EN})")
        if counts["test"][(intent, "all")] < MIN_TEST:
            problems.append(f"test split: {intent} has {counts['test'][(intent, 'all')]} examples (need {MIN_TEST})")
    leaked = texts["train"] & texts["test"]
    for t in sorted(leaked):
        problems.append(f"held-out example also in training data: {t!r}")
    problems += near_duplicates(train_examples, load_dev_texts(args.dev))
    n_train = sum(v for (_intent, lang), v in counts["train"].items() if lang == "all")
    n_test = sum(v for (_intent, lang), v in counts["test"].items() if lang == "all")
    for p in problems:
        print(p)
    print(f"{n_train} training / {n_test} held-out examples, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
