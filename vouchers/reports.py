"""Programme reports for officials: issued / redeemed / delivered / settled / expired / remaining, by agency and by
service, as JSON or one CSV table.

A cancelled redemption is not spending: it is counted apart (`cancelled`, `cancelled_fen`), not in `redemptions` or
`redeemed_fen`; its amount shows where it went — back in `outstanding_fen` (the voucher can spend it again), in
`expired_fen` (the voucher had expired: it lapsed with the rest of the balance) or in `revoked_returned_fen` (the
voucher had been revoked: it went back to the budget, like the rest). So the books still satisfy
`issued = redeemed + rejected + revoked_returned + expired + outstanding`."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.catalogue import SERVICES, ServiceCode
from agencies.service import get_agency_summary
from core.auth import Principal
from core.db import utcnow
from core.errors import NotFound, field_error
from vouchers import repository
from vouchers.models import Redemption, Voucher, VoucherAudit
from vouchers.permissions import PERMISSIONS, Action
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
    PERMISSIONS.check(principal, Action.READ_REPORT)
    program = await repository.program(session, program_id)
    if program is None:
        raise NotFound(f"no voucher programme {program_id}")
    now = utcnow()
    overdue = Voucher.expires_at <= now
    voucher_rows = await session.execute(
        select(
            Voucher.state,
            overdue,
            func.count(),
            func.coalesce(func.sum(Voucher.face_value_fen), 0),
            func.coalesce(func.sum(Voucher.balance_fen), 0),
        )
        .where(Voucher.program_id == program.id)
        .group_by(Voucher.state, overdue)
    )
    issued = issued_fen = revoked = expired = expired_fen = outstanding = 0
    for state, is_overdue, count, face, balance in voucher_rows:
        issued += int(count)
        issued_fen += int(face)
        effective = VoucherState(state)
        if effective in SPENDABLE and is_overdue:
            effective = VoucherState.EXPIRED
        if effective is VoucherState.REVOKED:
            revoked += int(count)
        elif effective is VoucherState.EXPIRED:
            expired += int(count)
            expired_fen += int(balance)
        else:
            outstanding += int(balance)
    revoked_returned = -int(
        await session.scalar(
            select(func.coalesce(func.sum(VoucherAudit.program_delta_fen), 0)).where(
                VoucherAudit.program_id == program.id,
                VoucherAudit.action.in_((Action.REVOKE.value, Action.CANCEL.value)),
            )
        )
        or 0
    )
    redemption_rows = (
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

    def blank(key: str, name: str) -> dict[str, Any]:
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

    agency_names: dict[int, str] = {}
    for agency_id in sorted({int(r[0]) for r in redemption_rows}):
        summary = await get_agency_summary(session, agency_id)
        agency_names[agency_id] = summary.name_zh if summary else f"agency {agency_id}"
    totals = blank("programme", program.name)
    by_agency: dict[int, dict[str, Any]] = {}
    by_service: dict[str, dict[str, Any]] = {}
    for agency_id, service_code, state, count, amount in redemption_rows:
        agency_line = by_agency.setdefault(int(agency_id), blank(str(agency_id), agency_names[int(agency_id)]))
        label = SERVICES[ServiceCode(service_code)].zh if service_code in SERVICES else service_code
        service_line = by_service.setdefault(service_code, blank(service_code, label))
        for line in (totals, agency_line, service_line):
            line[f"{state}_fen"] += int(amount)
            if state == RedemptionState.CANCELLED:
                line["cancelled"] += int(count)
                continue
            line["redemptions"] += int(count)
            if state in SPENDING:
                line["redeemed_fen"] += int(amount)
    return ReportOut(
        program_id=program.id,
        program_name=program.name,
        generated_at=now,
        totals=ReportTotals(
            budget_fen=program.budget_fen,
            committed_fen=program.committed_fen,
            remaining_budget_fen=program.budget_fen - program.committed_fen,
            vouchers_issued=issued,
            issued_fen=issued_fen,
            vouchers_revoked=revoked,
            revoked_returned_fen=revoked_returned,
            vouchers_expired=expired,
            expired_fen=expired_fen,
            outstanding_fen=outstanding,
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
    """Spending per China day / week / month over the programme's validity (or `from`..`to`), cumulated, against
    the budget: one GROUP BY over the programme's spending redemptions, bucketed by when they were made."""
    PERMISSIONS.check(principal, Action.READ_REPORT)
    program = await repository.program(session, program_id)
    if program is None:
        raise NotFound(f"no voucher programme {program_id}")
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
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SERIES_CSV_COLUMNS)
    for p in series.points:
        writer.writerow([p.start.isoformat(), p.end.isoformat(), p.redeemed_fen, p.spent_fen, p.budget_fen])
    return out.getvalue()


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
    """One table: a `programme` row with the totals, then a row per agency and per service."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_CSV_COLUMNS)
    t = report.totals
    writer.writerow(
        [
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
    )
    for section, lines in (("agency", report.by_agency), ("service", report.by_service)):
        for line in lines:
            writer.writerow(
                [
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
            )
    return out.getvalue()
