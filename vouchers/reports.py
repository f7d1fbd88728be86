"""Programme reports for officials: issued / redeemed / delivered / settled / expired / remaining, by agency and by
service, as JSON or one CSV table.

A cancelled redemption is not spending: it is counted apart (`cancelled`, `cancelled_fen`), not in `redemptions` or
`redeemed_fen`; its amount shows where it went — back in `outstanding_fen` (the voucher can spend it again), in
`expired_fen` (the voucher had expired: it lapsed with the rest of the balance) or in `revoked_returned_fen` (the
voucher had been revoked: it went back to the budget, like the rest). So the books still satisfy
`issued = redeemed + rejected + revoked_returned + expired + outstanding`."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.catalogue import SERVICES, ServiceCode
from agencies.service import get_agency_summary
from core.auth import Principal
from core.db import utcnow
from core.errors import NotFound
from vouchers import repository
from vouchers.models import Redemption, Voucher, VoucherAudit
from vouchers.permissions import check
from vouchers.schemas import ReportLine, ReportOut, ReportTotals
from vouchers.states import SPENDABLE, Action, RedemptionState, VoucherState


async def program_report(session: AsyncSession, principal: Principal | None, program_id: int) -> ReportOut:
    check(principal, "program.report")
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
            if state != RedemptionState.REJECTED:
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
