"""The rating computation (agencies.credit) at every threshold, and how deductions and bonus combine."""

from __future__ import annotations

import pytest

from agencies.catalogue import CreditLevel
from agencies.credit import CATEGORIES, Direction, ScoredEvent, compute_score, level_for, points_problem


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (0, CreditLevel.D),
        (59, CreditLevel.D),
        (60, CreditLevel.C),
        (79, CreditLevel.C),
        (80, CreditLevel.B),
        (89, CreditLevel.B),
        (90, CreditLevel.A),
        (100, CreditLevel.A),
        (101, CreditLevel.A_PLUS),
        (130, CreditLevel.A_PLUS),
    ],
)
def test_level_thresholds(score: int, level: CreditLevel) -> None:
    assert level_for(score) is level


def test_no_events_is_full_marks_level_a() -> None:
    result = compute_score([])
    assert (result.score, result.level) == (100, CreditLevel.A)


def test_deductions_subtract_from_100() -> None:
    result = compute_score([ScoredEvent("late_annual_report", -20), ScoredEvent("excessive_volume", -15)])
    assert (result.score, result.level) == (65, CreditLevel.C)


def test_a_category_counts_at_most_its_maximum() -> None:
    events = [ScoredEvent("abnormal_applications", -30), ScoredEvent("abnormal_applications", -30)]
    assert compute_score(events).score == 60  # capped at 40


def test_bonus_lifts_above_100_only_without_deductions() -> None:
    assert compute_score([ScoredEvent("honours", 5)]).level is CreditLevel.A_PLUS
    mixed = compute_score([ScoredEvent("honours", 5), ScoredEvent("late_annual_report_fixed", -10)])
    assert (mixed.score, mixed.level) == (90, CreditLevel.A)


def test_score_never_goes_below_zero() -> None:
    events = [ScoredEvent("licence_revoked", -100), ScoredEvent("criminal_conviction", -100)]
    assert compute_score(events).score == 0


def test_baseline_from_an_import_is_the_starting_point() -> None:
    assert compute_score([], baseline=85).score == 85
    assert compute_score([ScoredEvent("industry_discipline", -10)], baseline=85).score == 75
    # An A+ baseline loses its bonus part once something negative is recorded.
    assert compute_score([ScoredEvent("industry_discipline", -5)], baseline=104).score == 95


@pytest.mark.parametrize(
    ("category", "points", "ok"),
    [
        ("abnormal_applications", -40, True),
        ("abnormal_applications", -41, False),
        ("abnormal_applications", 10, False),
        ("abnormal_applications", 1, False),  # the smallest bonus recorded as a deduction
        ("honours", 10, True),
        ("honours", -1, False),
        ("honours", 0, False),
    ],
)
def test_points_must_fit_the_category(category: str, points: int, ok: bool) -> None:
    assert (points_problem(category, points) is None) is ok


def test_a_deduction_recorded_as_positive_points_is_told_to_record_them_negative() -> None:
    assert points_problem("late_annual_report", 1) == "a deduction is negative: record -1"
    assert points_problem("late_annual_report", 20) == "a deduction is negative: record -20"


def test_every_category_has_a_positive_maximum_and_labels() -> None:
    for category in CATEGORIES.values():
        assert category.max_points > 0
        assert category.label.zh and category.label.en
        assert category.direction in (Direction.DEDUCTION, Direction.BONUS)
