"""A small world built only through the HTTP API (so it works against the in-process app and real servers alike):
an official; agencies A and B with one staff account each; enterprises 1 and 2 (verified little giants) with one
staff account each; a programme; a voucher for each enterprise; a pending redemption of each enterprise, 1 at agency
A and 2 at agency B; a credit event on agency A.

"Own" and "other" in the security tests mean: agency staff of A / of B, enterprise staff of 1 / of 2. The in-process
security tests add the incomplete principals (`INCOMPLETE`), which need the database or the cache to make.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.auth import Role
from core.credit_code import make_credit_code

_serial = itertools.count(1)


# `aiohttp.test_utils.TestClient`, or an `aiohttp.ClientSession` made with `base_url` (their request methods'
# signatures differ in detail, so no Protocol: both take a path and return an awaitable `ClientResponse`).
HttpClient = Any


@dataclass
class Who:
    """An account as the tests use it: its id, bearer headers and what it belongs to."""

    user_id: int
    username: str
    password: str
    token: str
    role: Role
    agency_id: int | None = None
    enterprise_id: int | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Signed(Protocol):
    """Anything with bearer headers: a `Who`, or the fixtures' `Account`."""

    @property
    def headers(self) -> dict[str, str]: ...


# role, agency_id, enterprise_id -> a logged-in account
AccountMaker = Callable[[Role, int | None, int | None], Awaitable[Who]]


@dataclass
class World:
    official: Who
    agency_a: int
    agency_b: int
    enterprise_1: int
    enterprise_2: int
    agency_own: Who
    agency_other: Who
    enterprise_own: Who
    enterprise_other: Who
    program_id: int
    voucher_own: int
    voucher_other: int
    redemption_id: int  # enterprise 1's, at agency A
    redemption_other: int  # enterprise 2's, at agency B
    credit_event_id: int
    extra: dict[str, int] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    # An official of another region (the world's records are in Hangzhou, Zhejiang): the in-process security
    # tests add one, to check every official route out of region.
    official_out: Who | None = None
    # The incomplete principals: enterprise staff of no enterprise (a mini-program user not yet bound to one),
    # agency staff of no agency, and a deactivated user whose token had been in use.
    enterprise_unbound: Who | None = None
    agency_unbound: Who | None = None
    deactivated: Who | None = None


INCOMPLETE = ("enterprise_unbound", "agency_unbound", "deactivated")


async def expect(response: Any, status: int) -> Any:
    if response.status != status:
        raise AssertionError(f"expected {status}, got {response.status}: {(await response.text())[:500]}")
    return await response.json() if status != 204 else None


def agency_body(**overrides: Any) -> dict[str, Any]:
    n = next(_serial)
    body: dict[str, Any] = {
        "name_zh": f"杭州安全测试{n}号专利代理事务所",
        "credit_code": make_credit_code(f"91330100KC{n:07d}"),
        "licence_no": f"SEC{n:05d}",
        "kind": "patent",
        "region_code": "330106",
        "founded_year": 2012,
        "patent_attorneys": 6,
        "accepts_vouchers": True,
        "services": [{"service": "invention", "price_min_fen": 300_000, "price_max_fen": 800_000}],
        "fields": ["next_gen_it"],
    }
    body.update(overrides)
    return body


def enterprise_body(**overrides: Any) -> dict[str, Any]:
    n = next(_serial)
    body: dict[str, Any] = {
        "name": f"杭州安全测试科技{n}有限公司",
        "credit_code": make_credit_code(f"91330106MD{n:07d}"),
        "region_code": "330106",
        "industry": "software",
    }
    body.update(overrides)
    return body


def program_body(**overrides: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    body: dict[str, Any] = {
        "name": "杭州市知识产权服务券（安全测试）",
        "region_code": "330100",
        "budget_fen": 50_000_000,
        "face_value_fen": 500_000,
        "share_bp": 6000,
        "services": ["invention", "utility_model"],
        "min_qualification": "provincial_specialized",
        "valid_from": (now - dt.timedelta(days=1)).isoformat(),
        "valid_until": (now + dt.timedelta(days=180)).isoformat(),
    }
    body.update(overrides)
    return body


def applications_body() -> dict[str, Any]:
    """A programme's application settings: open since an hour ago, no documents, an official decides."""
    opened = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    return {"open_at": opened.isoformat(), "documents": [], "review": "official"}


REDEEM_BODY_PRICE = 400_000
EVIDENCE = {
    "contract_no": "HT-2026-S01",
    "invoice_no": "FP-33000S01",
    "payment_proof": "bank transfer ref S01",
    "deliverable": "CN202611250099.1",
}


async def create_agency(client: HttpClient, official: Signed, **overrides: Any) -> int:
    body = await expect(
        await client.post("/api/v1/agencies", json=agency_body(**overrides), headers=official.headers), 201
    )
    return int(body["id"])


async def create_enterprise(client: HttpClient, official: Signed) -> int:
    headers = official.headers
    body = await expect(await client.post("/api/v1/enterprises", json=enterprise_body(), headers=headers), 201)
    enterprise_id = int(body["id"])
    qualification = {
        "qualification": "national_little_giant",
        "certificate_no": f"ZJTX-S{enterprise_id}",
        "expires_on": (dt.date.today() + dt.timedelta(days=365)).isoformat(),
    }
    path = f"/api/v1/enterprises/{enterprise_id}/qualification"
    await expect(await client.put(path, json=qualification, headers=headers), 200)
    return enterprise_id


async def issue(client: HttpClient, official: Who, program_id: int, *enterprise_ids: int) -> list[int]:
    body = {"enterprises": [{"enterprise_id": e} for e in enterprise_ids]}
    path = f"/api/v1/voucher-programs/{program_id}/vouchers"
    issued = await expect(await client.post(path, json=body, headers=official.headers), 201)
    return [int(v["id"]) for v in issued["issued"]]


async def redeem(client: HttpClient, who: Who, voucher_id: int, agency_id: int, **headers: str) -> Any:
    body = {"agency_id": agency_id, "service_code": "invention", "price_fen": REDEEM_BODY_PRICE}
    return await client.post(f"/api/v1/vouchers/{voucher_id}/redeem", json=body, headers={**who.headers, **headers})


async def build_world(client: HttpClient, make: AccountMaker) -> World:
    official = await make(Role.OFFICIAL, None, None)
    agency_a = await create_agency(client, official)
    agency_b = await create_agency(client, official)
    enterprise_1 = await create_enterprise(client, official)
    enterprise_2 = await create_enterprise(client, official)
    program = await expect(
        await client.post("/api/v1/voucher-programs", json=program_body(), headers=official.headers), 201
    )
    program_id = int(program["id"])
    voucher_own, voucher_other = await issue(client, official, program_id, enterprise_1, enterprise_2)
    enterprise_own = await make(Role.ENTERPRISE, None, enterprise_1)
    enterprise_other = await make(Role.ENTERPRISE, None, enterprise_2)
    redemption = await expect(await redeem(client, enterprise_own, voucher_own, agency_a), 201)
    redemption_other = await expect(await redeem(client, enterprise_other, voucher_other, agency_b), 201)
    event = await expect(
        await client.post(
            f"/api/v1/agencies/{agency_a}/credit-events",
            json={"category": "late_annual_report", "points": -1, "reason": "annual report filed late"},
            headers=official.headers,
        ),
        201,
    )
    return World(
        official=official,
        agency_a=agency_a,
        agency_b=agency_b,
        enterprise_1=enterprise_1,
        enterprise_2=enterprise_2,
        agency_own=await make(Role.AGENCY, agency_a, None),
        agency_other=await make(Role.AGENCY, agency_b, None),
        enterprise_own=enterprise_own,
        enterprise_other=enterprise_other,
        program_id=program_id,
        voucher_own=voucher_own,
        voucher_other=voucher_other,
        redemption_id=int(redemption["id"]),
        redemption_other=int(redemption_other["id"]),
        credit_event_id=_event_id(event),
    )


def _event_id(body: Any) -> int:
    if "event" in body and isinstance(body["event"], dict):
        return int(body["event"]["id"])
    return int(body["id"])


def real_server_accounts(database_url: str, client: HttpClient) -> AccountMaker:
    """Accounts for a world on real servers: created in the database directly, logged in over HTTP."""
    from accounts.schemas import NewUser
    from accounts.service import create_user
    from app.schema import load_models
    from core.db import Database

    load_models()
    counter = itertools.count(1)

    async def make(role: Role, agency_id: int | None, enterprise_id: int | None) -> Who:
        username = f"{role.value}-{next(counter)}-{next(_serial)}"
        password = "correct-horse-battery"
        db = Database(database_url)
        try:
            async with db.transaction() as session:
                user = await create_user(
                    session,
                    NewUser(
                        role=role,
                        username=username,
                        password=password,
                        agency_id=agency_id,
                        enterprise_id=enterprise_id,
                    ),
                )
                user_id = user.id
        finally:
            await db.dispose()
        login = {"username": username, "password": password}
        body = await expect(await client.post("/api/v1/auth/login", json=login), 200)
        return Who(user_id, username, password, body["token"], role, agency_id, enterprise_id)

    return make
