"""The dates of an objection (agencies.credit): until when an agency may object to a deduction, by when an official
must decide (five working days, counted in China's time zone), and which events cannot be objected to at all."""

from __future__ import annotations

import datetime as dt

import pytest

from agencies.credit import (
    OBJECTION_DECISION_WORKING_DAYS,
    OBJECTION_PERIOD_DAYS,
    decision_due,
    objection_deadline,
    objectionable_problem,
)
from agencies.credit_events import event_out
from agencies.models import CreditEvent

CHINA = dt.timezone(dt.timedelta(hours=8))


def china(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=CHINA)


def test_an_agency_may_object_for_thirty_days_to_the_moment() -> None:
    assert OBJECTION_PERIOD_DAYS == 30
    recorded = dt.datetime(2026, 3, 2, 7, 15, 30, tzinfo=dt.UTC)
    assert objection_deadline(recorded) == dt.datetime(2026, 4, 1, 7, 15, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("filed_at", "due"),
    [
        (china("2026-03-02"), "2026-03-09"),  # Monday: the next Monday
        (china("2026-03-04"), "2026-03-11"),  # Wednesday: the next Wednesday
        (china("2026-03-06"), "2026-03-13"),  # Friday: the next Friday
        (china("2026-03-07"), "2026-03-13"),  # Saturday: the weekend does not count, Friday
        (china("2026-03-08"), "2026-03-13"),  # Sunday: Friday
        # Friday 18:00 UTC is already Saturday in China: counted from Saturday, not from the UTC Friday.
        (dt.datetime(2026, 3, 6, 18, 0, tzinfo=dt.UTC), "2026-03-13"),
        # Thursday 20:00 UTC is Friday 04:00 in China: due the next Friday, not Thursday.
        (dt.datetime(2026, 3, 5, 20, 0, tzinfo=dt.UTC), "2026-03-13"),
    ],
)
def test_a_decision_is_due_five_working_days_after_filing_in_chinas_calendar(filed_at: dt.datetime, due: str) -> None:
    assert OBJECTION_DECISION_WORKING_DAYS == 5
    assert decision_due(filed_at) == dt.date.fromisoformat(due)


def test_only_a_deduction_that_is_not_a_reversal_can_be_objected_to() -> None:
    assert objectionable_problem(-1, is_reversal=False) is None
    assert objectionable_problem(-40, is_reversal=False) is None
    assert objectionable_problem(0, is_reversal=False) == "only a deduction can be objected to"
    assert objectionable_problem(5, is_reversal=False) == "only a deduction can be objected to"
    assert objectionable_problem(-5, is_reversal=True) == "a reversal cannot be objected to"
    assert objectionable_problem(5, is_reversal=True) == "a reversal cannot be objected to"


def test_the_record_offers_an_objection_up_to_the_very_moment_the_period_ends() -> None:
    """The filing is refused only once the deadline has passed (`now > deadline`): at the deadline itself the
    credit record still shows the deduction as objectionable until then."""
    recorded = dt.datetime(2026, 3, 2, 7, 15, 30, tzinfo=dt.UTC)
    deadline = dt.datetime(2026, 4, 1, 7, 15, 30, tzinfo=dt.UTC)
    deduction = CreditEvent(
        id=7,
        agency_id=1,
        category="late_annual_report",
        points=-20,
        reason="2025年度报告逾期",
        reference_doc="",
        reverses_event_id=None,
        created_by=1,
        created_at=recorded,
    )

    def until(now: dt.datetime) -> dt.datetime | None:
        return event_out(deduction, reversed_by=None, baseline_event_id=None, now=now).objectionable_until

    assert until(recorded) == deadline
    assert until(deadline) == deadline
    assert until(deadline + dt.timedelta(microseconds=1)) is None
