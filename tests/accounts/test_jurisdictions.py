"""Jurisdictions: an official acts on the programmes, vouchers, enterprises, flags, reports and credit records of
their region and below — a provincial official the whole province, a city official the city and its districts, a
district official the district — and is refused (403 `outside_jurisdiction`) or shown nothing elsewhere."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import ColumnClause, Select, literal_column, select

from core.auth import NATIONWIDE, NOTHING, Principal, Role, Scope
from tests.conftest import AccountFactory
from tests.support.world import agency_body, enterprise_body, expect, program_body

Client = TestClient[Any, Any]
OUTSIDE = (403, "outside_jurisdiction")


async def refused(response: Any) -> tuple[int, str]:
    return response.status, (await response.json())["error"]["code"]


def official(region_code: str | None) -> Principal:
    return Principal(user_id=1, username="o", role=Role.OFFICIAL, region_code=region_code)


@pytest.mark.parametrize(
    ("region", "inside", "outside"),
    [
        ("330000", ["330000", "330100", "330106", "330200"], ["340100", "440300"]),
        ("330100", ["330100", "330106", "330122"], ["330000", "330200", "440300"]),
        ("330106", ["330106"], ["330100", "330105", "330000"]),
        (NATIONWIDE, ["330106", "440300", "110000"], []),
    ],
)
def test_an_officials_scope_is_their_region_and_below(region: str, inside: list[str], outside: list[str]) -> None:
    scope = Scope.of(official(region))
    assert all(scope.covers(region_code=code) for code in inside)
    assert not any(scope.covers(region_code=code) for code in outside)


def test_an_official_of_no_region_or_a_record_of_no_region_is_never_covered() -> None:
    assert Scope.of(official(None)) == NOTHING
    assert not Scope.of(official(None)).covers(region_code="330106")
    assert not Scope.of(official("330100")).covers(agency_id=1)  # where the record is was not said: refused
    agency: ColumnClause[int] = literal_column("agency_id")
    assert str(Scope.of(official("330100")).where(agency=agency)) == "false"  # no region column: nothing


async def test_each_level_sees_its_own_enterprises(client: Client, make_account: AccountFactory) -> None:
    national = await make_account(Role.OFFICIAL)
    made = {}
    for region in ("330106", "330203", "440305"):
        body = await expect(
            await client.post(
                "/api/v1/enterprises", json=enterprise_body(region_code=region), headers=national.headers
            ),
            201,
        )
        made[region] = body["id"]
    expected = {
        "330000": {"330106", "330203"},
        "330100": {"330106"},
        "330200": {"330203"},
        "330106": {"330106"},
        "440300": {"440305"},
        "110000": set(),
    }
    for region, codes in expected.items():
        who = await make_account(Role.OFFICIAL, region_code=region)
        page = await expect(await client.get("/api/v1/enterprises", headers=who.headers), 200)
        assert {e["id"] for e in page["items"]} == {made[c] for c in codes}, region
        assert page["total"] == len(codes)
        for code, enterprise_id in made.items():
            response = await client.get(f"/api/v1/enterprises/{enterprise_id}", headers=who.headers)
            assert (response.status == 200) == (code in codes), (region, code)
            if code not in codes:
                assert await refused(response) == OUTSIDE
    # Moving an enterprise out of one's region is refused too, and changes nothing.
    hangzhou = await make_account(Role.OFFICIAL, region_code="330100")
    moved = await client.patch(
        f"/api/v1/enterprises/{made['330106']}", json={"region_code": "440305"}, headers=hangzhou.headers
    )
    assert await refused(moved) == OUTSIDE
    body = await expect(await client.get(f"/api/v1/enterprises/{made['330106']}", headers=national.headers), 200)
    assert body["region_code"] == "330106"


async def test_programmes_vouchers_and_reports_follow_the_programmes_region(
    client: Client, make_account: AccountFactory
) -> None:
    national = await make_account(Role.OFFICIAL)
    zhejiang = await make_account(Role.OFFICIAL, region_code="330000")
    hangzhou = await make_account(Role.OFFICIAL, region_code="330100")
    ningbo = await make_account(Role.OFFICIAL, region_code="330200")
    created = await client.post(
        "/api/v1/voucher-programs", json=program_body(region_code="330200"), headers=hangzhou.headers
    )
    assert await refused(created) == OUTSIDE
    program = await expect(
        await client.post(
            "/api/v1/voucher-programs", json=program_body(region_code="330100"), headers=hangzhou.headers
        ),
        201,
    )
    enterprise = await expect(
        await client.post("/api/v1/enterprises", json=enterprise_body(region_code="330106"), headers=national.headers),
        201,
    )
    qualification = {"qualification": "national_little_giant", "certificate_no": "ZJ-1", "expires_on": "2030-12-31"}
    path = f"/api/v1/enterprises/{enterprise['id']}/qualification"
    await expect(await client.put(path, json=qualification, headers=hangzhou.headers), 200)
    issue = {"enterprises": [{"enterprise_id": enterprise["id"]}]}
    path = f"/api/v1/voucher-programs/{program['id']}/vouchers"
    assert await refused(await client.post(path, json=issue, headers=ningbo.headers)) == OUTSIDE
    voucher = (await expect(await client.post(path, json=issue, headers=zhejiang.headers), 201))["issued"][0]
    for who, allowed in ((hangzhou, True), (zhejiang, True), (ningbo, False), (national, True)):
        for url in (
            f"/api/v1/voucher-programs/{program['id']}/vouchers",
            f"/api/v1/voucher-programs/{program['id']}/report",
            f"/api/v1/voucher-programs/{program['id']}/report.csv",
            f"/api/v1/vouchers/{voucher['id']}",
        ):
            response = await client.get(url, headers=who.headers)
            assert (response.status == 200) == allowed, (url, response.status)
            if not allowed:
                assert await refused(response) == OUTSIDE
    revoke = f"/api/v1/vouchers/{voucher['id']}/revoke"
    assert (
        await refused(await client.post(revoke, json={"reason": "lost its qualification"}, headers=ningbo.headers))
        == OUTSIDE
    )
    await expect(await client.post(revoke, json={"reason": "lost its qualification"}, headers=hangzhou.headers), 200)


async def test_credit_events_follow_the_agencys_region(client: Client, make_account: AccountFactory) -> None:
    national = await make_account(Role.OFFICIAL)
    hangzhou = await make_account(Role.OFFICIAL, region_code="330100")
    created = await client.post("/api/v1/agencies", json=agency_body(region_code="440305"), headers=hangzhou.headers)
    assert await refused(created) == OUTSIDE
    shenzhen = await expect(
        await client.post("/api/v1/agencies", json=agency_body(region_code="440305"), headers=national.headers), 201
    )
    local = await expect(
        await client.post("/api/v1/agencies", json=agency_body(region_code="330106"), headers=hangzhou.headers), 201
    )
    event = {"category": "late_annual_report", "points": -1, "reason": "annual report filed late"}
    far = await client.post(f"/api/v1/agencies/{shenzhen['id']}/credit-events", json=event, headers=hangzhou.headers)
    assert await refused(far) == OUTSIDE
    await expect(
        await client.post(f"/api/v1/agencies/{local['id']}/credit-events", json=event, headers=hangzhou.headers), 201
    )
    edit = await client.patch(f"/api/v1/agencies/{shenzhen['id']}", json={"description": "x"}, headers=hangzhou.headers)
    assert await refused(edit) == OUTSIDE

    # An evaluation file naming an agency outside the region is refused whole, naming the line.
    rows = "credit_code,score,evaluated_on\n" + "".join(
        f"{code},{score},2026-06-30\n" for code, score in ((local["credit_code"], 90), (shenzhen["credit_code"], 80))
    )
    imported = await client.post(
        "/api/v1/agencies/credit-import",
        data=rows.encode(),
        headers={"Content-Type": "text/csv", **hangzhou.headers},
    )
    body = await imported.json()
    assert (imported.status, body["error"]["code"], body["error"]["details"]["lines"]) == (
        403,
        "outside_jurisdiction",
        [3],
    )
    after = await expect(await client.get(f"/api/v1/agencies/{local['id']}"), 200)
    assert after["rating"]["score"] == 99  # the one event above; the file changed nothing


async def test_audit_entries_are_read_in_the_region_they_belong_to(
    client: Client, make_account: AccountFactory
) -> None:
    zhejiang = await make_account(Role.OFFICIAL, region_code="330000", is_admin=True)
    guangdong = await make_account(Role.OFFICIAL, region_code="440000", is_admin=True)
    for admin, region in ((zhejiang, "330100"), (guangdong, "440300")):
        body = {"username": f"clerk_{region}", "password": "correct-horse-battery", "region_code": region}
        await expect(await client.post("/api/v1/officials", json=body, headers=admin.headers), 201)
    for admin, region in ((zhejiang, "330100"), (guangdong, "440300")):
        log = await expect(await client.get("/api/v1/account-audit", headers=admin.headers), 200)
        assert [row["region_code"] for row in log["items"]] == [region]
        listed = await expect(await client.get("/api/v1/officials", headers=admin.headers), 200)
        assert {o["region_code"] for o in listed} == {admin_region(region), region}


def admin_region(region: str) -> str:
    return region[:2] + "0000"


async def test_a_principal_cached_before_regions_reaches_nothing(client: Client, make_account: AccountFactory) -> None:
    """An official whose cached principal says no region (as cached before this release) is refused, not widened."""
    hangzhou = await make_account(Role.OFFICIAL, region_code="330100")
    response = await client.get("/api/v1/enterprises", headers=hangzhou.headers)
    assert response.status == 200
    assert Scope.of(Principal(user_id=1, username="x", role=Role.OFFICIAL)) == NOTHING
    stmt: Select[tuple[int]] = select(literal_column("1")).where(NOTHING.where(region=literal_column("region_code")))
    assert "false" in str(stmt).lower() or "0 = 1" in str(stmt)
