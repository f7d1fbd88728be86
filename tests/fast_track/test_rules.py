"""The routes' data (`tracks` in bot/facts/policy.yml): a rule change is one edit there, and a broken edit stops
start-up with the place and the reason."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from bot.facts import FACTS_PATH, FactsError, parse_facts
from fast_track.planner import plan
from fast_track.rules import TrackName, parse_rules
from fast_track.schemas import PlanRequest

RAW: dict[str, Any] = yaml.safe_load(FACTS_PATH.read_text(encoding="utf-8"))


def edited(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    raw = copy.deepcopy(RAW)
    change(raw)
    return raw


def test_the_shipped_file_is_valid_and_names_every_route() -> None:
    rules = parse_rules(parse_facts(RAW))
    assert set(rules.tracks) == set(TrackName)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda raw: raw["tracks"]["pph"]["rules"].pop("foreign_allowed_office"), "no rule foreign_allowed_office"),
        (lambda raw: raw["tracks"].pop("centralized_exam"), "no route centralized_exam"),
        (lambda raw: raw["tracks"]["priority_exam"]["times"].pop("design"), "times: no time for design"),
        (
            lambda raw: raw["tracks"]["normal"]["fee"]["source"].update(document="no_such_doc"),
            "unknown document 'no_such_doc'",
        ),
        (lambda raw: raw["tracks"]["pph"].update(partner_offices=["usa"]), "tracks.pph.partner_offices"),
        (lambda raw: raw["tracks"]["fast_preexam"]["fee"].update(fen=-1), "tracks.fast_preexam.fee.fen"),
    ],
)
def test_a_broken_edit_is_refused_with_its_place(change: Callable[[dict[str, Any]], None], where: str) -> None:
    with pytest.raises(FactsError, match=where.replace("(", r"\(").replace(")", r"\)")):
        parse_rules(parse_facts(edited(change)))


def test_a_rule_change_is_one_edit() -> None:
    """Lower the centralized-examination batch to 30 and give trademarks figurative marks: the verdicts follow."""

    def change(raw: dict[str, Any]) -> None:
        raw["tracks"]["centralized_exam"]["min_related_applications"] = 30
        raw["tracks"]["trademark_fast_exam"]["mark_types"] = ["word", "figurative"]

    rules = parse_rules(parse_facts(edited(change)))
    batch = PlanRequest.model_validate({"kind": "invention", "stage": "substantive_exam", "related_applications": 30})
    verdicts = {t.track: t.eligible for t in plan(batch, rules, []).tracks}
    assert verdicts[TrackName.CENTRALIZED_EXAM] == "yes"
    mark = PlanRequest.model_validate(
        {"kind": "trademark", "stage": "filed", "mark_type": "figurative", "situation": "低空经济"}
    )
    verdicts = {t.track: t.eligible for t in plan(mark, rules, []).tracks}
    assert verdicts[TrackName.TRADEMARK_FAST_EXAM] == "yes"
