"""The credit rules: THE one place for level thresholds, event categories and how a score is computed.

Modelled on CNIPA's 《专利代理信用评价管理办法（试行）》
(国知发运字〔2023〕10号, in force 1 May 2023; POLICY_NOTES §10):
an agency starts from 100 points, negative information deducts points, and bonus points (honours, awards, social
contribution) can lift it above 100, which is the only way to reach A+.

| level | score |
|---|---|
| A+ | above 100 (only through bonus points) |
| A | 90–100 |
| B | 80–89 |
| C | 60–79 |
| D | below 60 |

How a score is computed from the record (`compute_score`):

- Start from the baseline: 100, or the score of the latest imported official evaluation result.
- Take every *live* event recorded after that baseline (live = neither reversed nor itself a reversal).
- Sum deductions per category, each category capped at its maximum (abnormal applications deduct at most 40 in
  total, however many events record them). Same for bonus categories.
- Any deduction: score = min(baseline, 100) − deductions, floored at 0. Bonus points do not buy back deductions
  (a deducted agency recovers through credit repair, i.e. reversal, or a new official evaluation), and an A+
  baseline loses its bonus part once something negative is recorded.
- No deduction: score = baseline + bonus.

Points are whole numbers (the official scale uses tenths only in borderline published results; the model stores
int). Deduction events carry negative points, bonus events positive points.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass

from agencies.catalogue import CreditLevel, Label

CHINA = dt.timezone(dt.timedelta(hours=8))
FULL_SCORE = 100
# Lowest score of each level, best first; above FULL_SCORE is A+.
THRESHOLDS: tuple[tuple[CreditLevel, int], ...] = (
    (CreditLevel.A, 90),
    (CreditLevel.B, 80),
    (CreditLevel.C, 60),
)
# The highest score an imported official result may carry (100 + every bonus category at its maximum).
MAX_SCORE = 130


def level_for(score: int) -> CreditLevel:
    """The credit level of a score: A+ above 100, A from 90, B from 80, C from 60, D below."""
    if score > FULL_SCORE:
        return CreditLevel.A_PLUS
    for level, lowest in THRESHOLDS:
        if score >= lowest:
            return level
    return CreditLevel.D


class Direction(enum.StrEnum):
    DEDUCTION = "deduction"
    BONUS = "bonus"


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    direction: Direction
    max_points: int  # the most this category can count in total (and per event)
    label: Label
    source: str  # where the number comes from


class CategoryCode(enum.StrEnum):
    ABNORMAL_APPLICATIONS = "abnormal_applications"
    SUSPENSION_ORDER = "suspension_order"
    LICENCE_REVOKED = "licence_revoked"
    CRIMINAL_CONVICTION = "criminal_conviction"
    EXCESSIVE_VOLUME = "excessive_volume"
    LATE_ANNUAL_REPORT = "late_annual_report"
    LATE_ANNUAL_REPORT_FIXED = "late_annual_report_fixed"
    ADMINISTRATIVE_PENALTY = "administrative_penalty"
    INDUSTRY_DISCIPLINE = "industry_discipline"
    ABNORMAL_BUSINESS_STATUS = "abnormal_business_status"
    HONOURS = "honours"
    AWARDS = "awards"
    SOCIAL_CONTRIBUTION = "social_contribution"


_NOTES = "POLICY_NOTES §10"
_OURS = "our setting; the measures give no single figure"

CATEGORIES: dict[str, Category] = {
    c.code: c
    for c in (
        Category(
            CategoryCode.ABNORMAL_APPLICATIONS,
            Direction.DEDUCTION,
            40,
            Label("非正常专利申请", "Abnormal patent applications"),
            _NOTES,
        ),
        Category(
            CategoryCode.SUSPENSION_ORDER,
            Direction.DEDUCTION,
            60,
            Label("被责令停止承接新业务", "Ordered to stop taking new business"),
            _NOTES,
        ),
        Category(
            CategoryCode.LICENCE_REVOKED,
            Direction.DEDUCTION,
            100,
            Label("被吊销专利代理机构执业许可证", "Practising licence revoked"),
            _NOTES,
        ),
        Category(
            CategoryCode.CRIMINAL_CONVICTION,
            Direction.DEDUCTION,
            100,
            Label("负责人受到刑事处罚", "Criminal conviction of management"),
            _NOTES,
        ),
        Category(
            CategoryCode.EXCESSIVE_VOLUME,
            Direction.DEDUCTION,
            15,
            Label("人均代理量明显异常且无正当理由", "Filing volume per attorney far above normal"),
            _NOTES,
        ),
        Category(
            CategoryCode.LATE_ANNUAL_REPORT,
            Direction.DEDUCTION,
            20,
            Label("未按时提交年度报告", "Annual report not filed on time"),
            _NOTES,
        ),
        Category(
            CategoryCode.LATE_ANNUAL_REPORT_FIXED,
            Direction.DEDUCTION,
            10,
            Label("年度报告逾期但一个月内补报", "Annual report late, filed within a month"),
            _NOTES,
        ),
        Category(
            CategoryCode.ADMINISTRATIVE_PENALTY,
            Direction.DEDUCTION,
            30,
            Label("受到行政处罚", "Administrative penalty"),
            _OURS,
        ),
        Category(
            CategoryCode.INDUSTRY_DISCIPLINE,
            Direction.DEDUCTION,
            20,
            Label("受到行业自律惩戒", "Industry association discipline"),
            _OURS,
        ),
        Category(
            CategoryCode.ABNORMAL_BUSINESS_STATUS,
            Direction.DEDUCTION,
            20,
            Label("被列入经营异常名录", "Listed as abnormal business operation"),
            _OURS,
        ),
        Category(CategoryCode.HONOURS, Direction.BONUS, 10, Label("获得表彰荣誉", "Honours"), _OURS),
        Category(CategoryCode.AWARDS, Direction.BONUS, 10, Label("获得奖项", "Awards"), _OURS),
        Category(
            CategoryCode.SOCIAL_CONTRIBUTION,
            Direction.BONUS,
            10,
            Label("社会贡献（公益服务等）", "Social contribution (pro bono work and the like)"),
            _OURS,
        ),
    )
}


def points_problem(category_code: str, points: int) -> str | None:
    """Why `points` cannot be recorded under `category_code`, or None."""
    category = CATEGORIES.get(category_code)
    if category is None:
        return None  # the category itself is reported
    if points == 0:
        return "must not be 0"
    if category.direction is Direction.DEDUCTION and points > 0:
        return f"a deduction is negative: record -{points}"
    if category.direction is Direction.BONUS and points < 0:
        return "bonus points are positive"
    if abs(points) > category.max_points:
        return f"{category.code} counts at most {category.max_points} points"
    return None


@dataclass(frozen=True, slots=True)
class ScoredEvent:
    category: str
    points: int


@dataclass(frozen=True, slots=True)
class Score:
    score: int
    level: CreditLevel
    deductions: int
    bonus: int


def compute_score(live_events: Iterable[ScoredEvent], *, baseline: int = FULL_SCORE) -> Score:
    """The score and level from a baseline and the live events after it (see the module docstring)."""
    per_category: dict[str, int] = {}
    for event in live_events:
        per_category[event.category] = per_category.get(event.category, 0) + event.points
    deductions = 0
    bonus = 0
    for code, total in per_category.items():
        category = CATEGORIES.get(code)
        if category is None:
            continue
        if category.direction is Direction.DEDUCTION:
            deductions += min(category.max_points, max(0, -total))
        else:
            bonus += min(category.max_points, max(0, total))
    score = max(0, min(baseline, FULL_SCORE) - deductions) if deductions else baseline + bonus
    return Score(score=score, level=level_for(score), deductions=deductions, bonus=bonus)


# ---------------------------------------------------------------- objections
#
# An agency may object to a deduction recorded against it: it gives a reason and its evidence, its rating is shown
# "under objection" meanwhile, and an official decides — upholds the event (it keeps counting) or reverses it (a
# reversal event, so the score is recomputed by `compute_score` like any other reversal).

# How long after a deduction was recorded the agency may object. The measures (POLICY_NOTES §10) say objections
# are reviewed but give no filing period in our notes: this is our setting, like a published result's notice period.
OBJECTION_PERIOD_DAYS = 30
OBJECTION_PERIOD_SOURCE = "our setting; the measures as noted give no filing period"
# How soon an objection is decided: the province reviews an objection within 5 working days (POLICY_NOTES §10,
# 《专利代理信用评价管理办法（试行）》). Shown to both sides as the date a decision is due.
OBJECTION_DECISION_WORKING_DAYS = 5
OBJECTION_DECISION_SOURCE = _NOTES


def objection_deadline(recorded_at: dt.datetime) -> dt.datetime:
    """The last moment an objection to an event recorded at `recorded_at` may be filed."""
    return recorded_at + dt.timedelta(days=OBJECTION_PERIOD_DAYS)


def decision_due(filed_at: dt.datetime) -> dt.date:
    """The date a decision is due: OBJECTION_DECISION_WORKING_DAYS working days (Monday to Friday) after filing,
    counted in China's time zone (public holidays are not known here and are not skipped)."""
    day = filed_at.astimezone(CHINA).date()
    left = OBJECTION_DECISION_WORKING_DAYS
    while left:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


def objectionable_problem(points: int, *, is_reversal: bool) -> str | None:
    """Why an event cannot be objected to at all, or None (the period and earlier objections are checked apart)."""
    if is_reversal:
        return "a reversal cannot be objected to"
    if points >= 0:
        return "only a deduction can be objected to"
    return None
