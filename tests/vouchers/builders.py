"""Test data for enterprises and vouchers: rows written straight to the database, programmes through the API."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

from aiohttp.test_utils import TestClient

from agencies.models import Agency, AgencyService
from core.credit_code import make_credit_code
from core.db import Database, utcnow
from enterprises.models import Enterprise

Client = TestClient[Any, Any]
_serial = itertools.count(1)


async def make_agency(
    db: Database,
    *,
    region_code: str = "330106",
    services: Sequence[tuple[str, int, int]] = (("invention", 300_000, 800_000), ("utility_model", 100_000, 300_000)),
    accepts_vouchers: bool = True,
    level: str = "A",
    score: int = 92,
    contact_name: str = "",
    address: str = "",
    phone: str = "",
) -> int:
    n = next(_serial)
    agency = Agency(
        name_zh=f"券测{n}号专利代理事务所",
        credit_code=make_credit_code(f"91330100KB{n:07d}"),
        licence_no=f"V{n:05d}",
        kind="patent",
        region_code=region_code,
        founded_year=2012,
        patent_attorneys=8,
        accepts_vouchers=accepts_vouchers,
        credit_score=score,
        credit_level=level,
        contact_name=contact_name,
        address=address,
        contact_phone=phone,
    )
    async with db.transaction() as session:
        session.add(agency)
        await session.flush()
        for code, low, high in services:
            session.add(AgencyService(agency_id=agency.id, service_code=code, price_min_fen=low, price_max_fen=high))
        return agency.id


async def make_enterprise(
    db: Database,
    *,
    region_code: str = "330106",
    qualification: str = "national_little_giant",
    expires_on: dt.date | None = None,
    legal_representative: str = "",
    address: str = "",
    phone: str = "",
) -> int:
    n = next(_serial)
    enterprise = Enterprise(
        name=f"杭州券测科技{n}有限公司",
        credit_code=make_credit_code(f"91330106MC{n:07d}"),
        region_code=region_code,
        industry="software",
        qualification=qualification,
        certificate_no=None if qualification == "none" else f"ZJTX-{n}",
        qualification_expires_on=None
        if qualification == "none"
        else (expires_on or utcnow().date() + dt.timedelta(days=365)),
        legal_representative=legal_representative,
        address=address,
        phone=phone,
    )
    async with db.transaction() as session:
        session.add(enterprise)
        await session.flush()
        return enterprise.id


def program_body(**overrides: Any) -> dict[str, Any]:
    now = utcnow()
    body: dict[str, Any] = {
        "name": "杭州市知识产权服务券 2026",
        "region_code": "330100",
        "budget_fen": 10_000_000,
        "face_value_fen": 500_000,
        "share_bp": 6000,
        "services": ["invention", "utility_model", "priority_exam_assist"],
        "min_qualification": "provincial_specialized",
        "valid_from": (now - dt.timedelta(days=1)).isoformat(),
        "valid_until": (now + dt.timedelta(days=180)).isoformat(),
    }
    body.update(overrides)
    return body


async def make_program(client: Client, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/voucher-programs", json=program_body(**overrides), headers=headers)
    assert response.status == 201, await response.text()
    result: dict[str, Any] = await response.json()
    return result


async def issue(
    client: Client, headers: dict[str, str], program_id: int, *enterprise_ids: int, face_value_fen: int | None = None
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [{"enterprise_id": e} for e in enterprise_ids]
    if face_value_fen is not None:
        for item in items:
            item["face_value_fen"] = face_value_fen
    response = await client.post(
        f"/api/v1/voucher-programs/{program_id}/vouchers", json={"enterprises": items}, headers=headers
    )
    assert response.status == 201, await response.text()
    issued: list[dict[str, Any]] = (await response.json())["issued"]
    return issued


EVIDENCE = {
    "contract_no": "HT-2026-001",
    "invoice_no": "FP-33000001",
    "payment_proof": "bank transfer ICBC 2026-11-25 ref 8812",
    "deliverable": "CN202611250001.2",
}
