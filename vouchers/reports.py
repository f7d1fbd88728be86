"""Program reports for officials: issued / redeemed / delivered / settled / expired / remaining, by agency and by
service, as JSON or one CSV table.

A cancelled redemption is not spending: it is counted apart (`cancelled`, `cancelled_fen`), not in `redemptions` or
`redeemed_fen`; its amount shows where it went — back in `outstanding_fen` (the voucher can spend it again), in
`expired_fen` (the voucher had expired: it lapsed with the rest of the balance) or in `revoked_returned_fen` (the
voucher had been revoked: it went back to the budget, like the rest). So the books still satisfy
`issued = redeemed + rejected + revoked_returned + expired + outstanding`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.catalogue import SERVICES, ServiceCode
from agencies.service import get_agency_summary
from core.auth import Principal
from core.csv_export import csv_text
from core.db import utcnow
from core.errors import field_error
from vouchers.models import Redemption, Voucher, VoucherAudit, VoucherProgram
from vouchers.permissions import PERMISSIONS, Action
from vouchers.programs import check_jurisdiction, program_or_404
from vouchers.schemas import (
    ReportLine,
    ReportOut,
    ReportTotals,
    SeriesBucket,
    SeriesOut,
    SeriesPoint,
    SeriesQuery,
)
from vouchers.states import SPENDABLE, RedemptionState, VoucherState

# What the report counts as spent (`redeemed_fen`): pending, delivered or settled — not rejected, not cancelled.
SPENDING = frozenset({RedemptionState.PENDING, RedemptionState.DELIVERED, RedemptionState.SETTLED})


async def program_report(session: AsyncSession, principal: Principal | None, program_id: int) -> ReportOut:
    actor = PERMISSIONS.check(principal, Action.READ_REPORT)
    program = await program_or_404(session, program_id)
    check_jurisdiction(actor, Action.READ_REPORT, program)
    now = utcnow()
    vouchers = await _voucher_totals(session, program.id, now)
    returned = await _returned_to_budget(session, program.id)
    totals, by_agency, by_service = await _redemption_lines(session, program)
    return ReportOut(
        program_id=program.id,
        program_name=program.name,
        generated_at=now,
        totals=ReportTotals(
            budget_fen=program.budget_fen,
            committed_fen=program.committed_fen,
            remaining_budget_fen=program.budget_fen - program.committed_fen,
            vouchers_issued=vouchers.issued,
            issued_fen=vouchers.issued_fen,
            vouchers_revoked=vouchers.revoked,
            revoked_returned_fen=returned,
            vouchers_expired=vouchers.expired,
            expired_fen=vouchers.expired_fen,
            outstanding_fen=vouchers.outstanding_fen,
            redemptions=totals["redemptions"],
            redeemed_fen=totals["redeemed_fen"],
            pending_fen=totals["pending_fen"],
            delivered_fen=totals["delivered_fen"],
            settled_fen=totals["settled_fen"],
            rejected_fen=totals["rejected_fen"],
            cancelled=totals["cancelled"],
            cancelled_fen=totals["cancelled_fen"],
        ),
        by_agency=[ReportLine(**line) for _, line in sorted(by_agency.items())],
        by_service=[ReportLine(**line) for _, line in sorted(by_service.items())],
    )


@dataclass
class _VoucherTotals:
    issued: int = 0
    issued_fen: int = 0
    revoked: int = 0
    expired: int = 0
    expired_fen: int = 0  # balance lapsed on expired vouchers
    outstanding_fen: int = 0  # balance still spendable


async def _voucher_totals(session: AsyncSession, program_id: int, now: dt.datetime) -> _VoucherTotals:
    """The program's vouchers counted by their state as of now (an overdue spendable one counts as expired)."""
    overdue = Voucher.expires_at <= now
    rows = await session.execute(
        select(
            Voucher.state,
            overdue,
            func.count(),
            func.coalesce(func.sum(Voucher.face_value_fen), 0),
            func.coalesce(func.sum(Voucher.balance_fen), 0),
        )
        .where(Voucher.program_id == program_id)
        .group_by(Voucher.state, overdue)
    )
    totals = _VoucherTotals()
    for state, is_overdue, count, face, balance in rows:
        totals.issued += int(count)
        totals.issued_fen += int(face)
        effective = VoucherState(state)
        if effective in SPENDABLE and is_overdue:
            effective = VoucherState.EXPIRED
        if effective is VoucherState.REVOKED:
            totals.revoked += int(count)
        elif effective is VoucherState.EXPIRED:
            totals.expired += int(count)
            totals.expired_fen += int(balance)
        else:
            totals.outstanding_fen += int(balance)
    return totals


async def _returned_to_budget(session: AsyncSession, program_id: int) -> int:
    """What revocations (and cancellations on revoked vouchers) gave back to the budget."""
    returned = await session.scalar(
        select(func.coalesce(func.sum(VoucherAudit.program_delta_fen), 0)).where(
            VoucherAudit.program_id == program_id,
            VoucherAudit.action.in_((Action.REVOKE.value, Action.CANCEL.value)),
        )
    )
    return -int(returned or 0)


Line = dict[str, Any]


def _blank_line(key: str, name: str) -> Line:
    return {
        "key": key,
        "name": name,
        "redemptions": 0,
        "redeemed_fen": 0,
        "pending_fen": 0,
        "delivered_fen": 0,
        "settled_fen": 0,
        "rejected_fen": 0,
        "cancelled": 0,
        "cancelled_fen": 0,
    }


async def _redemption_lines(
    session: AsyncSession, program: VoucherProgram
) -> tuple[Line, dict[int, Line], dict[str, Line]]:
    """The program's redemptions summed in total, by agency and by service."""
    rows = (
        await session.execute(
            select(
                Redemption.agency_id,
                Redemption.service_code,
                Redemption.state,
                func.count(),
                func.sum(Redemption.amount_fen),
            )
            .where(Redemption.program_id == program.id)
            .group_by(Redemption.agency_id, Redemption.service_code, Redemption.state)
        )
    ).all()
    agency_names = await _agency_names(session, {int(r[0]) for r in rows})
    totals = _blank_line("programme", program.name)
    by_agency: dict[int, Line] = {}
    by_service: dict[str, Line] = {}
    for agency_id, service_code, state, count, amount in rows:
        agency_line = by_agency.setdefault(int(agency_id), _blank_line(str(agency_id), agency_names[int(agency_id)]))
        label = SERVICES[ServiceCode(service_code)].zh if service_code in SERVICES else service_code
        service_line = by_service.setdefault(service_code, _blank_line(service_code, label))
        for line in (totals, agency_line, service_line):
            _count(line, state, int(count), int(amount))
    return totals, by_agency, by_service


def _count(line: Line, state: str, count: int, amount: int) -> None:
    """Add redemptions in `state` to a line; a cancelled one is counted apart, not as spending."""
    line[f"{state}_fen"] += amount
    if state == RedemptionState.CANCELLED:
        line["cancelled"] += count
        return
    line["redemptions"] += count
    if state in SPENDING:
        line["redeemed_fen"] += amount


async def _agency_names(session: AsyncSession, agency_ids: set[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for agency_id in sorted(agency_ids):
        summary = await get_agency_summary(session, agency_id)
        names[agency_id] = summary.name_zh if summary else f"agency {agency_id}"
    return names


# ---------------------------------------------------------------- spending over time

CHINA = ZoneInfo("Asia/Shanghai")  # UTC+8 all year (no daylight saving since 1991)
MAX_SERIES_BUCKETS = 1000


def china_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(CHINA).date()


def china_midnight(day: dt.date) -> dt.datetime:
    """The UTC instant a China day begins."""
    return dt.datetime.combine(day, dt.time(), CHINA).astimezone(dt.UTC)


def bucket_start(day: dt.date, bucket: SeriesBucket) -> dt.date:
    if bucket is SeriesBucket.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if bucket is SeriesBucket.MONTH:
        return day.replace(day=1)
    return day


def next_bucket(start: dt.date, bucket: SeriesBucket) -> dt.date:
    if bucket is SeriesBucket.WEEK:
        return start + dt.timedelta(days=7)
    if bucket is SeriesBucket.MONTH:
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start + dt.timedelta(days=1)


def series_buckets(first: dt.date, last: dt.date, bucket: SeriesBucket) -> list[tuple[dt.date, dt.date]]:
    """(start, end) of each bucket from `first` to `last` (inclusive), the outer two clipped to them; at most one
    more than MAX_SERIES_BUCKETS, so an over-long range is found without listing it all."""
    buckets: list[tuple[dt.date, dt.date]] = []
    start = bucket_start(first, bucket)
    while start <= last and len(buckets) <= MAX_SERIES_BUCKETS:
        following = next_bucket(start, bucket)
        buckets.append((max(start, first), min(following - dt.timedelta(days=1), last)))
        start = following
    return buckets


def _china_bucket(dialect: str, bucket: SeriesBucket) -> ColumnElement[str]:
    """The bucket's first China day of a redemption, as text YYYY-MM-DD, computed by the database."""
    if dialect == "postgresql":
        local = func.timezone(literal_column("'Asia/Shanghai'"), Redemption.created_at)
        unit: ColumnElement[str] = literal_column(f"'{bucket.value}'")  # date_trunc's week starts on Monday
        return func.to_char(func.date_trunc(unit, local), literal_column("'YYYY-MM-DD'"))
    # SQLite keeps UTC text; China is a fixed +8 hours.
    if bucket is SeriesBucket.WEEK:
        return func.date(Redemption.created_at, "+8 hours", "-6 days", "weekday 1")  # the Monday on or before
    if bucket is SeriesBucket.MONTH:
        return func.strftime("%Y-%m-01", Redemption.created_at, "+8 hours")
    return func.date(Redemption.created_at, "+8 hours")


async def spending_series(
    session: AsyncSession, principal: Principal | None, program_id: int, query: SeriesQuery
) -> SeriesOut:
    """Spending per China day / week / month over the program's validity (or `from`..`to`), cumulated, against
    the budget: one GROUP BY over the program's spending redemptions, bucketed by when they were made."""
    actor = PERMISSIONS.check(principal, Action.READ_REPORT)
    program = await program_or_404(session, program_id)
    check_jurisdiction(actor, Action.READ_REPORT, program)
    first = query.date_from or china_day(program.valid_from)
    last = query.date_to or china_day(program.valid_until)
    if first > last:
        field = "query.from" if query.date_from is not None else "query.to"
        raise field_error(field, f"from ({first}) must be on or before to ({last})")
    buckets = series_buckets(first, last, query.bucket)
    if len(buckets) > MAX_SERIES_BUCKETS:
        raise field_error(
            "query.bucket",
            f"{first} to {last} is more than {MAX_SERIES_BUCKETS} {query.bucket.value} buckets; "
            "choose a longer bucket (week, month) or a shorter from/to",
            code="too_many_buckets",
        )
    begins = china_midnight(first)
    # Spending before `from` gets no bucket (NULL): it opens the cumulative sum.
    spent = (
        select(
            case(
                (Redemption.created_at < begins, None),
                else_=_china_bucket(session.get_bind().dialect.name, query.bucket),
            ).label("bucket"),
            Redemption.amount_fen,
        )
        .where(
            Redemption.program_id == program.id,
            Redemption.state.in_([s.value for s in SPENDING]),
            Redemption.created_at < china_midnight(last + dt.timedelta(days=1)),
        )
        .subquery()
    )
    rows = await session.execute(select(spent.c.bucket, func.sum(spent.c.amount_fen)).group_by(spent.c.bucket))
    by_bucket: dict[dt.date | None, int] = {}
    for key, amount in rows:
        by_bucket[None if key is None else dt.date.fromisoformat(str(key))] = int(amount)
    before = by_bucket.get(None, 0)
    running = before
    points: list[SeriesPoint] = []
    for start, end in buckets:
        redeemed = by_bucket.get(bucket_start(start, query.bucket), 0)
        running += redeemed
        points.append(
            SeriesPoint(start=start, end=end, redeemed_fen=redeemed, spent_fen=running, budget_fen=program.budget_fen)
        )
    return SeriesOut(
        program_id=program.id,
        program_name=program.name,
        generated_at=utcnow(),
        bucket=query.bucket,
        timezone="Asia/Shanghai",
        date_from=first,
        date_to=last,
        spent_before_fen=before,
        points=points,
    )


SERIES_CSV_COLUMNS = ("start", "end", "redeemed_fen", "spent_fen", "budget_fen")


def series_csv(series: SeriesOut) -> str:
    """One row per bucket; dates are China days."""
    rows = ([p.start.isoformat(), p.end.isoformat(), p.redeemed_fen, p.spent_fen, p.budget_fen] for p in series.points)
    return csv_text(SERIES_CSV_COLUMNS, rows)


REPORT_CSV_COLUMNS = (
    "section",
    "key",
    "name",
    "redemptions",
    "redeemed_fen",
    "pending_fen",
    "delivered_fen",
    "settled_fen",
    "rejected_fen",
    "cancelled",
    "cancelled_fen",
    "budget_fen",
    "issued_fen",
    "revoked_returned_fen",
    "expired_fen",
    "outstanding_fen",
    "remaining_budget_fen",
)


def report_csv(report: ReportOut) -> str:
    """One table: a `programme` row with the totals, then a row per agency and per service (names are written
    formula-safe, see `core.csv_export`)."""
    return csv_text(REPORT_CSV_COLUMNS, _report_rows(report))


def _report_rows(report: ReportOut) -> Iterator[list[object]]:
    t = report.totals
    yield [
        "programme",
        report.program_id,
        report.program_name,
        t.redemptions,
        t.redeemed_fen,
        t.pending_fen,
        t.delivered_fen,
        t.settled_fen,
        t.rejected_fen,
        t.cancelled,
        t.cancelled_fen,
        t.budget_fen,
        t.issued_fen,
        t.revoked_returned_fen,
        t.expired_fen,
        t.outstanding_fen,
        t.remaining_budget_fen,
    ]
    for section, lines in (("agency", report.by_agency), ("service", report.by_service)):
        for line in lines:
            yield [
                section,
                line.key,
                line.name,
                line.redemptions,
                line.redeemed_fen,
                line.pending_fen,
                line.delivered_fen,
                line.settled_fen,
                line.rejected_fen,
                line.cancelled,
                line.cancelled_fen,
                *([""] * 6),
            ]
