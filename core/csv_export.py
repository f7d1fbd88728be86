"""Every CSV file the service writes goes through `csv_text`: no cell can reach a spreadsheet as a formula.

Excel, LibreOffice and Google Sheets run a cell that starts with `=`, `+`, `-` or `@` (and, after their own
trimming, a tab or a carriage return) as a formula: an agency named `=HYPERLINK("http://…")` would be a live link,
or worse, in the official who opens the report. Such a text cell gets a leading `'`, which spreadsheets read as
"this is text" and do not show. Numbers stay numbers: only text cells are changed, so a negative amount written as
an int is still a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def formula_safe(cell: object) -> object:
    """The cell as written: text that a spreadsheet would run as a formula gets a leading `'`."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def csv_text(header: Sequence[str], rows: Iterable[Iterable[object]]) -> str:
    """A CSV document, header first, every cell passed through `formula_safe`.

    Lines end in CRLF (RFC 4180), which also makes the writer quote a cell holding either character: with `\\n`
    alone a bare CR inside a name went out unquoted, and spreadsheets start a new row there — a row whose first
    cell is whatever followed, a formula included."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([formula_safe(name) for name in header])
    writer.writerows([formula_safe(cell) for cell in row] for row in rows)
    return out.getvalue()
