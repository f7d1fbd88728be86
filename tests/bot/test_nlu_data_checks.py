"""The NLU data checks that guard the blind development set (bot/scripts/check_nlu_data.py)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.support.scripts import load_script

SCRIPT = Path("bot/scripts/check_nlu_data.py")
ANNOTATION = re.compile(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})")


def plain(example: str) -> str:
    """The text Rasa trains on: entity annotations [value](entity) reduced to value."""
    return ANNOTATION.sub(r"\1", example)


def test_a_training_example_nearly_identical_to_a_dev_item_is_reported_without_its_text() -> None:
    check = load_script(SCRIPT)
    dev = ["杭州哪家代理机构做发明专利比较靠谱", "how long does priority examination take"]
    train = [
        ("nlu/a.yml", "find_agency", 1, "杭州哪家代理机构做发明专利比较靠谱？"),  # punctuation only
        ("nlu/a.yml", "ask_priority_exam_timeline", 2, "How long does priority examination take"),  # case only
        ("nlu/a.yml", "find_agency", 3, "宁波有没有收服务券的商标代理"),  # different question
    ]
    found = check.near_duplicates(train, dev)
    assert len(found) == 2
    assert found[0].startswith("nlu/a.yml: find_agency example #1")
    assert found[1].startswith("nlu/a.yml: ask_priority_exam_timeline example #2")
    assert not any("杭州" in line or "priority examination" in line for line in found)


def test_a_one_character_change_in_a_long_question_still_counts_as_a_near_duplicate() -> None:
    check = load_script(SCRIPT)
    dev = ["我们是省级专精特新企业做锂电池隔膜的想问问发明专利能不能走优先审查"]
    example = "我们是省级专精特新企业做锂电池隔膜的想问下发明专利能不能走优先审查"
    train = [("nlu/b.yml", "check_priority_eligibility", 1, example)]
    assert len(check.near_duplicates(train, dev)) == 1


def test_the_training_data_has_no_near_duplicate_of_the_dev_set() -> None:
    check = load_script(SCRIPT)
    dev = check.load_dev_texts("nlu_data/dev/dev_set.yml")
    assert len(dev) >= 300
    train = []
    for path in sorted(Path("nlu_data/nlu").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for block in data.get("nlu") or []:
            if "intent" not in block:
                continue
            lines = [ln[2:] for ln in block["examples"].splitlines() if ln.startswith("- ")]
            train += [(str(path), block["intent"], i + 1, plain(ln)) for i, ln in enumerate(lines)]
    assert len(train) > 1000
    assert check.near_duplicates(train, dev) == []
