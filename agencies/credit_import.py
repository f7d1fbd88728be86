"""The official evaluation import: a CSV file of results, all rows or none.

The file is checked in three steps, each reporting every problem it finds by line and column: the text and header
(`_header`), each row on its own (`_checked_row`), and the rows against the agencies on record
(`_check_against_records`). Each row then becomes its agency's new baseline.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from agencies import repository
from agencies.catalogue import CreditLevel
from agencies.credit import MAX_SCORE, level_for
from agencies.credit_events import apply_rating
from agencies.errors import CsvRejected
from agencies.models import Agency
from agencies.permissions import PERMISSIONS, Action
from agencies.schemas import ImportResult, ImportRowOut
from agencies.search import invalidate_search
from core.auth import Principal
from core.cache import Cache
from core.credit_code import credit_code_problem
from core.permissions import OutsideJurisdiction

IMPORT_COLUMNS = ("credit_code", "name", "score", "level", "evaluated_on", "reference_doc")
IMPORT_REQUIRED = ("credit_code", "score", "evaluated_on")
IMPORT_MAX_ROWS = 20_000

# One problem of the file: {"line": 2, "column": "score", "message": "must be a whole number"}.
Problem = dict[str, Any]


class _CsvReader(Iterator[list[str]], Protocol):
    line_num: int


@dataclass(frozen=True, slots=True)
class _ImportRow:
    line: int
    credit_code: str
    score: int
    evaluated_on: dt.date
    reference_doc: str


def _problem(line: int, column: str | None, message: str) -> Problem:
    return {"line": line, "column": column, "message": message}


# ---------------------------------------------------------------- reading the file


def parse_import(raw: bytes) -> list[_ImportRow]:
    """Every row checked; all problems reported together by line and column, or the parsed rows."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvRejected([_problem(1, None, "the file is not UTF-8 text")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = _header(reader)
    rows, problems = _rows(reader, header)
    if problems:
        raise CsvRejected(problems)
    if not rows:
        raise CsvRejected([_problem(2, None, "no rows")])
    return rows


def _header(reader: _CsvReader) -> list[str]:
    """The column names, lower-cased; CsvRejected naming every missing, unknown or repeated column."""
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise CsvRejected([_problem(1, None, "the file is empty")]) from None
    except csv.Error as exc:
        raise CsvRejected([_problem(1, None, f"not CSV: {exc}")]) from None
    problems = [_problem(1, name, "missing column") for name in IMPORT_REQUIRED if name not in header]
    problems += [
        _problem(1, name or "(blank)", f"unknown column; the columns are {', '.join(IMPORT_COLUMNS)}")
        for name in header
        if name not in IMPORT_COLUMNS
    ]
    if len(set(header)) != len(header):
        problems.append(_problem(1, None, "a column appears twice"))
    if problems:
        raise CsvRejected(problems)
    return header


def _rows(reader: _CsvReader, header: list[str]) -> tuple[list[_ImportRow], list[Problem]]:
    """The rows that passed and the problems of those that did not (blank lines skipped)."""
    rows: list[_ImportRow] = []
    problems: list[Problem] = []
    first_line_of: dict[str, int] = {}
    today = dt.date.today()
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) + len(problems) >= IMPORT_MAX_ROWS:
                problems.append(_problem(line, None, f"at most {IMPORT_MAX_ROWS} rows per file"))
                break
            if len(record) != len(header):
                problems.append(_problem(line, None, f"expected {len(header)} cells, found {len(record)}"))
                continue
            cells = {name: cell.strip() for name, cell in zip(header, record, strict=True)}
            row, row_problems = _checked_row(line, cells, first_line_of, today)
            problems += row_problems
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        problems.append(_problem(reader.line_num, None, f"not CSV: {exc}"))
    return rows, problems


def _checked_row(
    line: int, cells: dict[str, str], first_line_of: dict[str, int], today: dt.date
) -> tuple[_ImportRow | None, list[Problem]]:
    """The row, or its problems. A valid credit code not seen before is noted in `first_line_of`."""
    problems: list[Problem] = []
    code = cells["credit_code"].upper()
    code_problem = credit_code_problem(code)
    if code_problem is not None:
        problems.append(_problem(line, "credit_code", code_problem))
    elif code in first_line_of:
        problems.append(_problem(line, "credit_code", f"already on line {first_line_of[code]}"))
    else:
        first_line_of[code] = line
    score = 0
    try:
        score = int(cells["score"])
        if not 0 <= score <= MAX_SCORE:
            problems.append(_problem(line, "score", f"must be a whole number from 0 to {MAX_SCORE}"))
    except ValueError:
        problems.append(_problem(line, "score", "must be a whole number"))
    # The level is optional and only compared with a score that is itself fine.
    if not problems and cells.get("level"):
        given = cells["level"].replace("+", "_plus")
        expected = level_for(score)
        if given != expected.value:
            problems.append(
                _problem(line, "level", f"{cells['level']} does not match score {score} (level {expected.value})")
            )
    evaluated_on = today
    try:
        evaluated_on = dt.date.fromisoformat(cells["evaluated_on"])
        if evaluated_on > today:
            problems.append(_problem(line, "evaluated_on", "must not be in the future"))
    except ValueError:
        problems.append(_problem(line, "evaluated_on", "must be a date like 2025-06-30"))
    reference_doc = cells.get("reference_doc", "")
    if len(reference_doc) > 200:
        problems.append(_problem(line, "reference_doc", "at most 200 characters"))
    if problems:
        return None, problems
    return _ImportRow(line, code, score, evaluated_on, reference_doc), []


def _check_against_records(rows: list[_ImportRow], agencies: dict[str, Agency]) -> None:
    """CsvRejected naming every row whose agency is unknown or whose evaluation is older than the one on record."""
    problems = []
    for row in rows:
        known = agencies.get(row.credit_code)
        if known is None:
            problems.append(_problem(row.line, "credit_code", "no agency with this credit code"))
        elif known.evaluated_on is not None and row.evaluated_on < known.evaluated_on:
            problems.append(
                _problem(row.line, "evaluated_on", f"older than the evaluation already recorded ({known.evaluated_on})")
            )
    if problems:
        raise CsvRejected(problems)


# ---------------------------------------------------------------- applying it


def _check_jurisdiction(acting: Principal, rows: list[_ImportRow], agencies: dict[str, Agency]) -> None:
    """All or none: 403 `outside_jurisdiction` naming every line whose agency is outside the official's region."""
    scope = PERMISSIONS.scope(acting, Action.IMPORT_RESULTS)
    outside = [row.line for row in rows if not scope.covers(region_code=agencies[row.credit_code].region_code)]
    if outside:
        raise OutsideJurisdiction(
            f"lines {', '.join(map(str, outside))} name agencies outside your jurisdiction; nothing was imported",
            details={"lines": outside, "your_region": acting.region_code},
        )


async def import_results(session: AsyncSession, cache: Cache, principal: Principal | None, raw: bytes) -> ImportResult:
    """Import an official evaluation result file: all rows or none. Each row becomes the agency's new baseline:
    the credit events recorded so far are part of that evaluation, later events count on top of it."""
    acting = PERMISSIONS.check(principal, Action.IMPORT_RESULTS)
    rows = parse_import(raw)
    found = await repository.by_credit_codes(session, [row.credit_code for row in rows], for_update=True)
    agencies = {agency.credit_code: agency for agency in found}
    _check_against_records(rows, agencies)
    _check_jurisdiction(acting, rows, agencies)
    last_ids = await repository.last_event_ids(session, [agency.id for agency in agencies.values()])
    out: list[ImportRowOut] = []
    changed = 0
    for row in rows:
        agency = agencies[row.credit_code]
        previous_score, previous_level = agency.credit_score, agency.credit_level
        agency.credit_baseline = row.score
        agency.baseline_event_id = last_ids.get(agency.id, agency.baseline_event_id)
        agency.evaluated_on = row.evaluated_on
        note = f"official evaluation of {row.evaluated_on}" + (f" ({row.reference_doc})" if row.reference_doc else "")
        if await apply_rating(session, cache, agency, row.score, cause="import", acting=acting, note=note):
            changed += 1
        out.append(
            ImportRowOut(
                line=row.line,
                agency_id=agency.id,
                credit_code=row.credit_code,
                score=agency.credit_score,
                level=CreditLevel(agency.credit_level),
                previous_score=previous_score,
                previous_level=CreditLevel(previous_level),
            )
        )
    await session.flush()
    invalidate_search(session, cache)
    return ImportResult(imported=len(rows), changed=changed, rows=out)
