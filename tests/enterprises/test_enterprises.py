"""Enterprises: officials register them and record verified qualifications; staff see only their own."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp.test_utils import TestClient

from core.auth import Role
from core.credit_code import make_credit_code
from core.db import utcnow
from tests.conftest import AccountFactory

Client = TestClient[Any, Any]


def body(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "杭州云栖智能装备有限公司",
        "credit_code": make_credit_code("91330106MA2J00001"),
        "region_code": "330106",
        "industry": "智能制造",
        "legal_representative": "陈志远",
    }
    data.update(overrides)
    return data


async def test_official_registers_and_staff_read_only_their_own(client: Client, make_account: AccountFactory) -> None:
    official = await make_account(Role.OFFICIAL)
    created = await client.post("/api/v1/enterprises", json=body(), headers=official.headers)
    assert created.status == 201, await created.text()
    enterprise = await created.json()
    assert enterprise["qualification"]["qualification"] == "none"
    other = await (
        await client.post(
            "/api/v1/enterprises",
            json=body(name="另一家公司", credit_code=make_credit_code("91330106MA2J00002")),
            headers=official.headers,
        )
    ).json()

    staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise["id"])
    mine = await client.get("/api/v1/me/enterprise", headers=staff.headers)
    assert (await mine.json())["id"] == enterprise["id"]
    assert (await client.get(f"/api/v1/enterprises/{enterprise['id']}", headers=staff.headers)).status == 200
    foreign = await client.get(f"/api/v1/enterprises/{other['id']}", headers=staff.headers)
    assert foreign.status == 403
    assert (await client.get("/api/v1/enterprises", headers=staff.headers)).status == 403
    assert (await client.post("/api/v1/enterprises", json=body(), headers=staff.headers)).status == 403

    listed = await (await client.get("/api/v1/enterprises?q=另一家", headers=official.headers)).json()
    assert [e["id"] for e in listed["items"]] == [other["id"]]


async def test_bad_or_duplicate_credit_codes_are_refused(client: Client, make_account: AccountFactory) -> None:
    official = await make_account(Role.OFFICIAL)
    bad = await client.post(
        "/api/v1/enterprises", json=body(credit_code="91330106MA2J000010"), headers=official.headers
    )
    assert bad.status == 422
    assert (await bad.json())["error"]["details"][0]["field"] == "credit_code"
    assert (await client.post("/api/v1/enterprises", json=body(), headers=official.headers)).status == 201
    again = await client.post("/api/v1/enterprises", json=body(name="改名"), headers=official.headers)
    assert again.status == 409
    assert (await again.json())["error"]["code"] == "credit_code_taken"


async def test_qualification_needs_certificate_and_expiry_and_counts_until_it_expires(
    client: Client, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    enterprise = await (await client.post("/api/v1/enterprises", json=body(), headers=official.headers)).json()
    url = f"/api/v1/enterprises/{enterprise['id']}/qualification"
    missing = await client.put(url, json={"qualification": "national_little_giant"}, headers=official.headers)
    assert missing.status == 422
    assert (await missing.json())["error"]["details"][0]["field"] == "certificate_no"
    expired = await client.put(
        url,
        json={"qualification": "national_little_giant", "certificate_no": "X-1", "expires_on": "2020-01-01"},
        headers=official.headers,
    )
    assert expired.status == 422
    expires_on = (utcnow().date() + dt.timedelta(days=300)).isoformat()
    ok = await client.put(
        url,
        json={"qualification": "national_little_giant", "certificate_no": "GXB-2024-1", "expires_on": expires_on},
        headers=official.headers,
    )
    assert ok.status == 200
    qualification = (await ok.json())["qualification"]
    assert qualification["valid"] is True
    assert qualification["verified_by"] == official.user_id
    staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise["id"])
    self_certify = await client.put(
        url,
        json={"qualification": "national_little_giant", "certificate_no": "FAKE", "expires_on": expires_on},
        headers=staff.headers,
    )
    assert self_certify.status == 403
