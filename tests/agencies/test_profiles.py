"""Agency profiles: register (officials), read (anyone), edit (own staff: editable fields; officials: more)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.auth import Role
from core.credit_code import make_credit_code
from core.db import Database
from tests.agencies.builders import make_agency, make_enterprise
from tests.conftest import AccountFactory

Client = TestClient[Any, Any]


def new_agency_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name_zh": "杭州求是专利事务所（普通合伙）",
        "name_en": "Hangzhou Qiushi Patent Office",
        "short_name": "求是",
        "credit_code": make_credit_code("31330000MD0123456"),
        "licence_no": "33200",
        "kind": "both",
        "region_code": "330106",
        "address": "杭州市西湖区文三路 1 号",
        "founded_year": 2001,
        "patent_attorneys": 24,
        "trademark_agents": 6,
        "accepts_vouchers": True,
        "services": [
            {"service": "invention", "price_min_fen": 450_000, "price_max_fen": 800_000},
            {"service": "trademark_registration", "price_min_fen": 80_000, "price_max_fen": 150_000},
        ],
        "fields": ["next_gen_it", "smart_manufacturing"],
        "branches": [{"region_code": "330200", "address": "宁波市鄞州区"}],
    }
    body.update(overrides)
    return body


# ---------------------------------------------------------------- register


async def test_an_official_registers_an_agency_at_full_marks(client: Client, make_account: AccountFactory) -> None:
    official = await make_account(Role.OFFICIAL)
    response = await client.post("/api/v1/agencies", json=new_agency_body(), headers=official.headers)
    assert response.status == 201, await response.text()
    body = await response.json()
    assert body["rating"]["level"] == "A" and body["rating"]["score"] == 100
    assert [s["code"] for s in body["services"]] == ["invention", "trademark_registration"]
    assert body["branches"] == [{"region": {"code": "330200", "name": "浙江省宁波市"}, "address": "宁波市鄞州区"}]
    assert body["rating_history"][0]["cause"] == "initial"
    detail = await client.get(f"/api/v1/agencies/{body['id']}")
    assert detail.status == 200
    assert (await detail.json())["name_en"] == "Hangzhou Qiushi Patent Office"


async def test_registering_needs_an_official(client: Client, db: Database, make_account: AccountFactory) -> None:
    agency_id = await make_agency(db)
    staff = await make_account(Role.AGENCY, agency_id=agency_id)
    assert (await client.post("/api/v1/agencies", json=new_agency_body())).status == 401
    assert (await client.post("/api/v1/agencies", json=new_agency_body(), headers=staff.headers)).status == 403


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"credit_code": "91330100MA0000000X"}, "credit_code"),  # wrong check character
        ({"credit_code": "123"}, "credit_code"),
        ({"region_code": "990101"}, "region_code"),
        ({"region_code": "hangzhou"}, "region_code"),
        ({"kind": "lawyer"}, "kind"),
        ({"founded_year": 2999}, "founded_year"),
        ({"services": [{"service": "invention", "price_min_fen": 500, "price_max_fen": 100}]}, "services.0"),
        (
            {"services": [{"service": "invention", "price_min_fen": -1, "price_max_fen": 100}]},
            "services.0.price_min_fen",
        ),
        ({"kind": "trademark"}, "services"),
        ({"fields": ["astrology"]}, "fields.0"),
        ({"credit_level": "A_plus"}, "credit_level"),
    ],
)
async def test_bad_registrations_are_422_naming_the_field(
    client: Client, make_account: AccountFactory, overrides: dict[str, Any], field: str
) -> None:
    official = await make_account(Role.OFFICIAL)
    response = await client.post("/api/v1/agencies", json=new_agency_body(**overrides), headers=official.headers)
    assert response.status == 422, await response.text()
    assert (await response.json())["error"]["details"][0]["field"] == field
    assert (await (await client.get("/api/v1/agencies")).json())["total"] == 0


async def test_a_second_agency_with_the_same_credit_code_is_409(client: Client, make_account: AccountFactory) -> None:
    official = await make_account(Role.OFFICIAL)
    assert (await client.post("/api/v1/agencies", json=new_agency_body(), headers=official.headers)).status == 201
    again = await client.post("/api/v1/agencies", json=new_agency_body(licence_no="other"), headers=official.headers)
    assert again.status == 409
    assert (await again.json())["error"]["code"] == "agency_exists"


# ---------------------------------------------------------------- read


async def test_detail_is_public_and_unknown_ids_are_404(client: Client, db: Database) -> None:
    agency_id = await make_agency(db, name_zh="杭州甲")
    response = await client.get(f"/api/v1/agencies/{agency_id}")
    assert response.status == 200
    body = await response.json()
    assert body["following"] is None and body["followers"] == 0
    assert body["fields"] == [
        {"code": "next_gen_it", "label_zh": "新一代信息技术", "label_en": "New-generation information technology"}
    ]
    assert (await client.get(f"/api/v1/agencies/{agency_id + 1000}")).status == 404
    assert (await client.get("/api/v1/agencies/abc")).status == 404


# ---------------------------------------------------------------- edit


async def test_staff_edit_their_own_agency_prices_and_contacts(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id = await make_agency(db)
    staff = await make_account(Role.AGENCY, agency_id=agency_id)
    patch = {
        "contact_phone": "0571-88888888",
        "services": [
            {"service": "invention", "price_min_fen": 350_000, "price_max_fen": 650_000},
            {"service": "utility_model", "price_min_fen": 150_000, "price_max_fen": 250_000},
        ],
        "fields": ["new_materials"],
    }
    response = await client.patch(f"/api/v1/agencies/{agency_id}", json=patch, headers=staff.headers)
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["contact_phone"] == "0571-88888888"
    assert [(s["code"], s["price_min_fen"]) for s in body["services"]] == [
        ("invention", 350_000),
        ("utility_model", 150_000),
    ]
    assert [f["code"] for f in body["fields"]] == ["new_materials"]
    # Dropping a service again works (diffed, not re-inserted).
    again = await client.patch(
        f"/api/v1/agencies/{agency_id}",
        json={"services": [{"service": "utility_model", "price_min_fen": 1, "price_max_fen": 2}]},
        headers=staff.headers,
    )
    assert [s["code"] for s in (await again.json())["services"]] == ["utility_model"]


@pytest.mark.parametrize("field", ["name_zh", "credit_code", "licence_no", "region_code"])
async def test_staff_may_not_change_regulated_fields(
    client: Client, db: Database, make_account: AccountFactory, field: str
) -> None:
    agency_id = await make_agency(db, name_zh="原名")
    staff = await make_account(Role.AGENCY, agency_id=agency_id)
    value = {
        "name_zh": "新名字",
        "credit_code": make_credit_code("91330100MA9999999"),
        "licence_no": "x1",
        "region_code": "330200",
    }[field]
    response = await client.patch(
        f"/api/v1/agencies/{agency_id}", json={field: value, "address": "new"}, headers=staff.headers
    )
    assert response.status == 403
    error = (await response.json())["error"]
    assert error["code"] == "regulated_field"
    assert error["details"] == [{"field": field, "message": "officials only"}]
    detail = await (await client.get(f"/api/v1/agencies/{agency_id}")).json()
    assert detail["name_zh"] == "原名" and detail["address"] == ""


@pytest.mark.parametrize("field", ["credit_level", "credit_score"])
async def test_nobody_patches_the_rating(
    client: Client, db: Database, make_account: AccountFactory, field: str
) -> None:
    agency_id = await make_agency(db)
    official = await make_account(Role.OFFICIAL)
    response = await client.patch(f"/api/v1/agencies/{agency_id}", json={field: "A_plus"}, headers=official.headers)
    assert response.status == 422
    assert field in (await response.json())["error"]["message"]


async def test_officials_change_regulated_fields_and_the_name_is_searchable(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id = await make_agency(db, name_zh="原名")
    official = await make_account(Role.OFFICIAL)
    response = await client.patch(
        f"/api/v1/agencies/{agency_id}", json={"name_zh": "钱塘专利事务所", "kind": "both"}, headers=official.headers
    )
    assert response.status == 200, await response.text()
    found = await (await client.get("/api/v1/agencies", params={"q": "qiantang"})).json()
    assert [i["id"] for i in found["items"]] == [agency_id]


async def test_who_may_patch(client: Client, db: Database, make_account: AccountFactory) -> None:
    mine = await make_agency(db)
    other = await make_agency(db)
    staff = await make_account(Role.AGENCY, agency_id=mine)
    enterprise = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))
    patch = {"address": "somewhere"}
    assert (await client.patch(f"/api/v1/agencies/{mine}", json=patch)).status == 401
    assert (await client.patch(f"/api/v1/agencies/{other}", json=patch, headers=staff.headers)).status == 403
    assert (await client.patch(f"/api/v1/agencies/{mine}", json=patch, headers=enterprise.headers)).status == 403
    official = await make_account(Role.OFFICIAL)
    assert (await client.patch(f"/api/v1/agencies/{mine + 999}", json=patch, headers=official.headers)).status == 404


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"patent_attorneys": -1}, "patent_attorneys"),
        ({"address": None}, "address"),
        ({"services": [{"service": "invention", "price_min_fen": 1}]}, "services.0.price_max_fen"),
        ({"services": [{"service": "trademark_registration", "price_min_fen": 1, "price_max_fen": 2}]}, "services"),
        ({"branches": [{"region_code": "000000"}]}, "branches.0.region_code"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_patches_are_422_naming_the_field(
    client: Client, db: Database, make_account: AccountFactory, patch: dict[str, Any], field: str
) -> None:
    agency_id = await make_agency(db, kind="patent")
    staff = await make_account(Role.AGENCY, agency_id=agency_id)
    response = await client.patch(f"/api/v1/agencies/{agency_id}", json=patch, headers=staff.headers)
    assert response.status == 422, await response.text()
    assert (await response.json())["error"]["details"][0]["field"] == field
