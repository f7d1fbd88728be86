"""Credit scoring at its edges: every category capped on its own, bonuses capped and summed, what an unknown (retired)
category counts, a baseline above and below full marks, and what each refused number of points is told."""

from __future__ import annotations

import pytest

from agencies.catalogue import CreditLevel
from agencies.credit import CATEGORIES, Category, Direction, ScoredEvent, compute_score, points_problem

DEDUCTIONS = [c for c in CATEGORIES.values() if c.direction is Direction.DEDUCTION]
BONUSES = [c for c in CATEGORIES.values() if c.direction is Direction.BONUS]


@pytest.mark.parametrize("category", DEDUCTIONS, ids=lambda c: c.code)
def test_each_deduction_category_counts_up_to_its_maximum_and_no_further(category: Category) -> None:
    code, most = category.code, category.max_points
    at_most = compute_score([ScoredEvent(code, -most)])
    assert (at_most.score, at_most.deductions, at_most.bonus) == (max(0, 100 - most), most, 0)
    beyond = compute_score([ScoredEvent(code, -most), ScoredEvent(code, -1)])
    assert (beyond.score, beyond.deductions) == (at_most.score, most)


@pytest.mark.parametrize("category", BONUSES, ids=lambda c: c.code)
def test_each_bonus_category_counts_up_to_its_maximum_and_no_further(category: Category) -> None:
    code, most = category.code, category.max_points
    beyond = compute_score([ScoredEvent(code, most), ScoredEvent(code, 1)])
    assert (beyond.score, beyond.bonus, beyond.deductions, beyond.level) == (100 + most, most, 0, CreditLevel.A_PLUS)


def test_bonuses_of_different_categories_add_up_each_within_its_own_cap() -> None:
    events = [ScoredEvent("honours", 8), ScoredEvent("honours", 8), ScoredEvent("awards", 3)]
    events.append(ScoredEvent("social_contribution", 1))
    result = compute_score(events)
    assert (result.score, result.bonus) == (114, 14)


def test_deductions_of_different_categories_add_up_and_bonuses_then_count_for_nothing() -> None:
    events = [ScoredEvent("late_annual_report", -20), ScoredEvent("industry_discipline", -5)]
    events += [ScoredEvent("honours", 10), ScoredEvent("awards", 10)]
    result = compute_score(events)
    assert (result.score, result.deductions, result.bonus, result.level) == (75, 25, 20, CreditLevel.C)


def test_events_of_a_category_no_longer_known_count_for_nothing() -> None:
    result = compute_score([ScoredEvent("retired_category", -50), ScoredEvent("retired_bonus", 5)])
    assert (result.score, result.deductions, result.bonus, result.level) == (100, 0, 0, CreditLevel.A)


def test_an_unknown_category_is_skipped_and_the_ones_after_it_still_count() -> None:
    events = [ScoredEvent("retired_category", -50), ScoredEvent("industry_discipline", -5)]
    events += [ScoredEvent("retired_bonus", 5), ScoredEvent("honours", 3)]
    result = compute_score(events)
    assert (result.score, result.deductions, result.bonus, result.level) == (95, 5, 3, CreditLevel.A)


def test_a_deduction_category_whose_events_net_to_nothing_or_more_deducts_nothing() -> None:
    """Only live events are scored, so a deduction category normally sums below zero; one that does not (points
    recorded while a category counted the other way) deducts nothing, and the bonus still counts."""
    for points in ((-5, 5), (3,)):
        events = [ScoredEvent("industry_discipline", p) for p in points] + [ScoredEvent("honours", 4)]
        result = compute_score(events)
        assert (result.score, result.deductions, result.bonus, result.level) == (104, 0, 4, CreditLevel.A_PLUS)
    # The same for a bonus category that nets to nothing or less: it adds nothing.
    result = compute_score([ScoredEvent("awards", 2), ScoredEvent("awards", -6), ScoredEvent("honours", 4)])
    assert (result.score, result.deductions, result.bonus) == (104, 0, 4)


def test_a_baseline_keeps_its_level_until_something_counts() -> None:
    assert compute_score([], baseline=120).level is CreditLevel.A_PLUS
    assert compute_score([ScoredEvent("honours", 5)], baseline=59).score == 64
    # One point deducted from an A+ baseline falls to full marks less that point.
    fallen = compute_score([ScoredEvent("industry_discipline", -1)], baseline=130)
    assert (fallen.score, fallen.level) == (99, CreditLevel.A)
    # Below full marks, a deduction counts from the baseline itself.
    assert compute_score([ScoredEvent("industry_discipline", -1)], baseline=60).level is CreditLevel.D


@pytest.mark.parametrize(
    ("category", "points", "problem"),
    [
        ("late_annual_report", 0, "must not be 0"),
        ("honours", 0, "must not be 0"),
        ("late_annual_report", 5, "a deduction is negative: record -5"),
        ("honours", -3, "bonus points are positive"),
        ("late_annual_report", -21, "late_annual_report counts at most 20 points"),
        ("honours", 11, "honours counts at most 10 points"),
        ("late_annual_report", -20, None),
        ("late_annual_report", -1, None),
        ("honours", 1, None),
        ("honours", 10, None),
        ("retired_category", 0, None),  # the category itself is what the caller is told about
    ],
)
def test_what_is_wrong_with_a_number_of_points_is_said(category: str, points: int, problem: str | None) -> None:
    assert points_problem(category, points) == problem
