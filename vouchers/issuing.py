"""Officials issue vouchers from a program's budget (one by one or a CSV batch, all or nothing) and revoke them
back into it; the vouchers a program has issued."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import Principal
from core.db import utcnow
from core.digits import ascii_int
from core.errors import AppError, NotFound, ValidationFailed
from core.regions import prefix_of
from enterprises.catalogue import Qualification, at_least
from enterprises.service import EnterpriseSummary, enterprise_summaries, enterprises_by_credit_code
from vouchers import repository
from vouchers.errors import BudgetExceeded, EnterpriseCapExceeded, ProgramClosed
from vouchers.models import Voucher, VoucherProgram
from vouchers.permissions import PERMISSIONS, Action
from vouchers.programs import check_jurisdiction, program_or_404
from vouchers.schemas import IssueIn, IssueItem, IssueOut, RevokeIn, VoucherOut
from vouchers.states import VoucherState
from vouchers.transitions import expire_if_due, expired_error, transition
from vouchers.views import vouchers_out

# An enterprise to receive a voucher, and the voucher's face value.
Recipient = tuple[EnterpriseSummary, int]


def parse_issue_csv(text: str) -> tuple[IssueIn, list[int]]:
    """A CSV batch: a header with `credit_code` or `enterprise_id` (and optionally `face_value_fen`), one row per
    voucher. Every bad cell is reported with its line and column; nothing is issued unless every row is good."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise ValidationFailed(f"the file is not valid CSV: {exc}", details=[{"line": reader.line_num}]) from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise ValidationFailed("the file is empty", details=[{"line": 1, "message": "expected a header row"}])
    header = [cell.strip().lower() for cell in rows[0]]
    known = {"credit_code", "enterprise_id", "face_value_fen"}
    problems: list[dict[str, Any]] = [
        {"line": 1, "column": name, "message": "unknown column"} for name in header if name not in known
    ]
    if ("credit_code" in header) == ("enterprise_id" in header):
        problems.append({"line": 1, "column": None, "message": "needs exactly one of credit_code, enterprise_id"})
    if problems:
        raise ValidationFailed(f"line 1: {problems[0]['message']}", details=problems)
    items: list[IssueItem] = []
    lines: list[int] = []
    for index, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(
                {"line": index, "column": None, "message": f"has {len(row)} cells, the header has {len(header)}"}
            )
            continue
        values = dict(zip(header, (cell.strip() for cell in row), strict=True))
        refused_before = len(problems)
        data: dict[str, Any] = {}
        for column, raw in values.items():
            if column == "credit_code":
                data["credit_code"] = raw
            elif not raw and column == "face_value_fen":
                continue
            elif (number := ascii_int(raw, max_digits=13)) is None:
                problems.append({"line": index, "column": column, "message": "must be a positive whole number"})
            else:
                data[column] = number
        if "credit_code" in data and not data["credit_code"]:
            problems.append({"line": index, "column": "credit_code", "message": "is empty"})
            continue
        if len(problems) > refused_before:
            continue  # a cell is refused already: the row as a whole would only repeat it
        try:
            items.append(IssueItem.model_validate(data))
            lines.append(index)
        except ValidationError as exc:  # a number out of range: named by its column, in pydantic's words
            for error in exc.errors():
                at = str(error["loc"][0]) if error["loc"] else None
                problems.append({"line": index, "column": at, "message": error["msg"]})
    if problems:
        first = problems[0]
        where = f"line {first['line']}" + (f", column {first['column']}" if first["column"] else "")
        raise ValidationFailed(f"{where}: {first['message']}", details=problems)
    if not items:
        raise ValidationFailed("the file has no rows", details=[{"line": 2, "message": "expected at least one row"}])
    return IssueIn(enterprises=items), lines


async def issue_vouchers(
    session: AsyncSession,
    principal: Principal | None,
    program_id: int,
    data: IssueIn,
    *,
    lines: list[int] | None = None,
) -> IssueOut:
    """Issue one voucher per item, all or nothing: eligibility, the yearly cap and the budget are checked first.

    `lines` are the CSV line of each item, when they came from a file: problems then name the line and column."""
    actor = PERMISSIONS.check(principal, Action.ISSUE)
    program = await repository.lock_program(session, program_id)  # issuing queues on the program's budget
    if program is None:
        raise NotFound(f"no voucher programme {program_id}")
    check_jurisdiction(actor, Action.ISSUE, program)
    now = utcnow()
    _check_open(program, now)
    recipients = await _eligible_recipients(session, program, data.enterprises, lines, now.date())
    await _check_year_caps(session, program, recipients, now.year)
    total = _check_budget(program, recipients)
    vouchers = await _write_vouchers(session, actor, program, recipients, data.reason, now)
    issued = await vouchers_out(session, vouchers, with_usable_at=False)
    return IssueOut(
        program_id=program.id,
        issued=issued,
        count=len(issued),
        total_face_value_fen=total,
        remaining_budget_fen=program.budget_fen - program.committed_fen,
    )


async def issue_for_application(
    session: AsyncSession,
    actor: Principal | None,
    program: VoucherProgram,
    enterprise: EnterpriseSummary,
    reason: str,
    now: dt.datetime,
) -> Voucher:
    """One voucher of the program's face value for an approved application — the same rules as `issue_vouchers`
    (programme not over, eligibility, the yearly cap, the budget) on a program row the caller has locked.

    `actor` is the official who approved it, or None when the programme's own rule (first come first served)
    approved it: the audit row then names `system`."""
    if actor is not None:
        PERMISSIONS.check(actor, Action.ISSUE)
    _check_open(program, now)
    recipient = (enterprise, program.face_value_fen)
    _check_eligible(program, enterprise, now.date())
    await _check_year_caps(session, program, [recipient], now.year)
    _check_budget(program, [recipient])
    (voucher,) = await _write_vouchers(session, actor, program, [recipient], reason, now)
    return voucher


async def issue_for_applications(
    session: AsyncSession, program: VoucherProgram, applicants: list[tuple[int, EnterpriseSummary]], now: dt.datetime
) -> list[Voucher | AppError]:
    """A first-come batch on a program row the caller has locked: for each (application id, enterprise), in order,
    its voucher — or the refusal `issue_for_application` would have raised (programme over, not eligible, yearly cap,
    budget used up). The same rules, checked against the budget and the caps as the batch spends them, and the
    vouchers written together: a burst's decisions cost a few statements under the lock, not a few each."""
    caps = await _year_totals(session, program, [e.id for _, e in applicants], now.year)
    face = program.face_value_fen
    spent = 0
    outcomes: list[Voucher | AppError | None] = []  # None: approved, its voucher written below
    recipients: list[Recipient] = []
    reasons: list[str] = []
    for application_id, enterprise in applicants:
        try:
            _check_open(program, now)
            _check_eligible(program, enterprise, now.date())
            _check_year_cap(program, enterprise.id, caps[enterprise.id], face, now.year)
            _check_budget(program, [(enterprise, face)], spent=spent)
        except AppError as refusal:
            outcomes.append(refusal)
            continue
        caps[enterprise.id] += face
        spent += face
        outcomes.append(None)
        recipients.append((enterprise, face))
        reasons.append(
            f"application {application_id} approved automatically: first come, first served within the budget"
        )
    written = iter(await _write_vouchers(session, None, program, recipients, reasons, now))
    return [next(written) if o is None else o for o in outcomes]


def _check_open(program: VoucherProgram, now: dt.datetime) -> None:
    """409 once the programme has ended: no more vouchers are issued from it."""
    if now >= program.valid_until:
        raise ProgramClosed(
            f"programme {program.id} ended at {program.valid_until.isoformat()}; no more vouchers can be issued",
            details={"program_id": program.id, "valid_until": program.valid_until.isoformat()},
        )


async def _eligible_recipients(
    session: AsyncSession, program: VoucherProgram, items: list[IssueItem], lines: list[int] | None, today: dt.date
) -> list[Recipient]:
    """Each item's enterprise and face value; 422 listing every item that cannot have its voucher."""
    by_id = await enterprise_summaries(session, [i.enterprise_id for i in items if i.enterprise_id])
    by_code = await enterprises_by_credit_code(session, [i.credit_code for i in items if i.credit_code])
    problems: list[dict[str, Any]] = []
    recipients: list[Recipient] = []
    for index, item in enumerate(items):
        column = "enterprise_id" if item.enterprise_id is not None else "credit_code"
        enterprise = (
            by_id.get(item.enterprise_id) if item.enterprise_id is not None else by_code.get(item.credit_code or "")
        )
        if enterprise is None:
            problems.append(_issue_problem(index, lines, column, "no such enterprise"))
            continue
        face = item.face_value_fen if item.face_value_fen is not None else program.face_value_fen
        problem = _ineligibility(program, enterprise, face, today)
        if problem is not None:
            problem_column, message = problem
            problems.append(_issue_problem(index, lines, problem_column or column, message))
            continue
        recipients.append((enterprise, face))
    if problems:
        first = problems[0]
        raise ValidationFailed(
            f"{first.get('field') or 'line ' + str(first['line'])}: {first['message']}; nothing was issued",
            details=problems,
            code="not_eligible",
        )
    return recipients


def _check_eligible(program: VoucherProgram, enterprise: EnterpriseSummary, today: dt.date) -> None:
    """422 `not_eligible` when the enterprise may not hold a voucher of the programme's face value."""
    problem = _ineligibility(program, enterprise, program.face_value_fen, today)
    if problem is not None:
        raise ValidationFailed(
            f"{problem[1]}; nothing was issued",
            details=[{"field": "enterprise_id", "message": problem[1]}],
            code="not_eligible",
        )


def _ineligibility(
    program: VoucherProgram, enterprise: EnterpriseSummary, face: int, today: dt.date
) -> tuple[str | None, str] | None:
    """Why this enterprise cannot receive a voucher of this face value, and the column at fault (None: the one
    naming the enterprise); None when it can."""
    if face > program.face_value_fen:
        return "face_value_fen", f"above the programme's face value of {program.face_value_fen} fen"
    problems = eligibility_problems(program, enterprise, today)
    return None if not problems else (None, problems[0][1])


def eligibility_problems(
    program: VoucherProgram, enterprise: EnterpriseSummary, today: dt.date
) -> list[tuple[str, str]]:
    """Why this enterprise may not hold a voucher of this program, as (`region` | `qualification`, words); [] if
    it may."""
    problems: list[tuple[str, str]] = []
    if not enterprise.region_code.startswith(prefix_of(program.region_code)):
        problems.append(("region", f"enterprise is in region {enterprise.region_code}, outside {program.region_code}"))
    held = enterprise.qualification_on(today)
    needed = Qualification(program.min_qualification)
    if not at_least(held, needed):
        problems.append(("qualification", f"enterprise qualification is {held.value}; needs {needed.value}"))
    return problems


def _issue_problem(index: int, lines: list[int] | None, column: str, message: str) -> dict[str, Any]:
    if lines is not None:
        return {"line": lines[index], "column": column, "message": message}
    return {"field": f"enterprises.{index}.{column}", "message": message}


async def _check_year_caps(
    session: AsyncSession, program: VoucherProgram, recipients: list[Recipient], year: int
) -> None:
    """409 when an enterprise would receive more from this program in `year` than its per-enterprise cap."""
    cap = program.per_enterprise_year_cap_fen
    if cap is None:
        return
    wanted: dict[int, int] = defaultdict(int)
    for enterprise, face in recipients:
        wanted[enterprise.id] += face
    for enterprise_id, amount in wanted.items():
        already = await repository.enterprise_year_total(session, program.id, enterprise_id, year)
        _check_year_cap(program, enterprise_id, already, amount, year)


async def _year_totals(
    session: AsyncSession, program: VoucherProgram, enterprise_ids: list[int], year: int
) -> defaultdict[int, int]:
    """What each enterprise already received from the program in `year` (0 when there is no cap to check)."""
    totals: defaultdict[int, int] = defaultdict(int)
    if program.per_enterprise_year_cap_fen is not None and enterprise_ids:
        totals.update(await repository.enterprise_year_totals(session, program.id, enterprise_ids, year))
    return totals


def _check_year_cap(program: VoucherProgram, enterprise_id: int, already: int, amount: int, year: int) -> None:
    """409 when `amount` more would take the enterprise past the program's per-enterprise cap for `year`."""
    cap = program.per_enterprise_year_cap_fen
    if cap is not None and already + amount > cap:
        raise EnterpriseCapExceeded(
            f"enterprise {enterprise_id} would receive {already + amount} fen from this programme in "
            f"{year}; the cap is {cap} fen",
            details={"enterprise_id": enterprise_id, "already_fen": already, "requested_fen": amount, "cap_fen": cap},
        )


def _check_budget(program: VoucherProgram, recipients: list[Recipient], *, spent: int = 0) -> int:
    """The total face value to issue; 409 when it is more than the program has left (less `spent`: what a batch
    has already set aside and not yet committed)."""
    total = sum(face for _, face in recipients)
    remaining = program.budget_fen - program.committed_fen - spent
    if total > remaining:
        raise BudgetExceeded(
            f"issuing {total} fen would exceed the programme's remaining budget of {remaining} fen",
            details={"requested_fen": total, "remaining_fen": remaining, "budget_fen": program.budget_fen},
        )
    return total


async def _write_vouchers(
    session: AsyncSession,
    actor: Principal | None,
    program: VoucherProgram,
    recipients: list[Recipient],
    reason: str | list[str],
    now: dt.datetime,
) -> list[Voucher]:
    """A voucher for each recipient (`reason`: one for all, or one each), its face value committed from the budget
    through `transition`. The vouchers are inserted in one flush first, so a batch costs a few statements, not a
    few per voucher; their audit rows, the budget and the pushes follow in the next flush."""
    expires_at = program.valid_until
    if program.voucher_validity_days is not None:
        expires_at = min(expires_at, now + dt.timedelta(days=program.voucher_validity_days))
    reasons = reason if isinstance(reason, list) else [reason] * len(recipients)
    assert len(reasons) == len(recipients)
    reasons = [r or f"issued from programme {program.name}" for r in reasons]
    vouchers = [
        Voucher(
            program_id=program.id,
            enterprise_id=enterprise.id,
            face_value_fen=face,
            balance_fen=0,
            state=VoucherState.ISSUED.value,
            state_reason=reason,
            issued_at=now,
            expires_at=expires_at,
            issued_by=None if actor is None else actor.user_id,
        )
        for (enterprise, face), reason in zip(recipients, reasons, strict=True)
    ]
    session.add_all(vouchers)
    await session.flush()
    for voucher, reason in zip(vouchers, reasons, strict=True):
        face = voucher.face_value_fen
        await transition(
            session,
            actor,
            Action.ISSUE,
            voucher,
            to=VoucherState.ISSUED,
            program=program,
            amount=face,
            balance_delta=face,
            program_delta=face,
            reason=reason,
            now=now,
        )
    return vouchers


async def program_vouchers(session: AsyncSession, principal: Principal | None, program_id: int) -> list[VoucherOut]:
    actor = PERMISSIONS.check(principal, Action.LIST_PROGRAM_VOUCHERS)
    check_jurisdiction(actor, Action.LIST_PROGRAM_VOUCHERS, await program_or_404(session, program_id))
    return await vouchers_out(session, await repository.vouchers_of_program(session, program_id), with_usable_at=False)


async def revoke(session: AsyncSession, principal: Principal | None, voucher_id: int, data: RevokeIn) -> VoucherOut:
    actor = PERMISSIONS.check(principal, Action.REVOKE)
    voucher = await repository.lock_voucher(session, voucher_id)
    if voucher is None:
        raise NotFound(f"no voucher {voucher_id}")
    check_jurisdiction(actor, Action.REVOKE, await program_or_404(session, voucher.program_id))
    now = utcnow()
    if await expire_if_due(session, actor, voucher, now):
        raise expired_error(voucher)
    program = await repository.lock_program(session, voucher.program_id)
    assert program is not None
    returned = voucher.balance_fen
    await transition(
        session,
        actor,
        Action.REVOKE,
        voucher,
        to=VoucherState.REVOKED,
        program=program,
        amount=returned,
        balance_delta=-returned,
        program_delta=-returned,
        reason=data.reason,
        state_reason=f"revoked: {data.reason}",
        now=now,
    )
    (out,) = await vouchers_out(session, [voucher], with_usable_at=False)
    return out
