"""The protection centres officials keep: anyone reads them; officials add, correct and remove those of their
jurisdiction, each change audited with who, when and what; the seed holds real centres with their sources."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from core.auth import Role
from core.db import Database
from fast_track.schemas import region_exists
from fast_track.seed import CENTRES, seed_centres
from tests.agencies.builders import make_agency
from tests.conftest import AccountFactory

Client = TestClient[Any, Any]
CENTRES_PATH = "/api/v1/fast-track/centres"


def body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "中国（杭州）知识产权保护中心（测试）",
        "seat_region": "330100",
        "region_codes": ["330100"],
        "fields": ["high_end_equipment", "new_materials"],
        "words": ["装备", "新材料"],
        "ipc_classes": ["B23", "C04B"],
        "application_types": ["invention", "utility_model", "design"],
        "contact": "0571-00000000",
        "record_url": "https://example.org/record",
    }
    data.update(overrides)
    return data


async def test_an_official_adds_corrects_and_removes_a_centre_with_audit(
    client: Client, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL, region_code="330000")
    created = await client.post(CENTRES_PATH, json=body(), headers=official.headers)
    assert created.status == 201, await created.text()
    centre = await created.json()
    assert centre["seat_region_name"] == "浙江省杭州市" and centre["scope_confirmed"] is False

    patched = await client.patch(
        f"{CENTRES_PATH}/{centre['id']}",
        json={"fields": ["new_materials"], "scope_confirmed": True},
        headers=official.headers,
    )
    assert patched.status == 200
    assert (await patched.json())["fields"] == ["new_materials"]
    audit = await (await client.get(f"{CENTRES_PATH}/{centre['id']}/audit", headers=official.headers)).json()
    assert [line["action"] for line in audit] == ["created", "updated"]
    assert audit[1]["changes"]["fields"] == {"from": ["high_end_equipment", "new_materials"], "to": ["new_materials"]}
    assert audit[1]["changes"]["scope_confirmed"] == {"from": False, "to": True}
    assert audit[1]["actor_id"] == official.user_id

    # Anyone reads it; a region served finds it.
    found = await (await client.get(f"{CENTRES_PATH}?region=330106")).json()
    assert [c["id"] for c in found] == [centre["id"]]
    assert await (await client.get(f"{CENTRES_PATH}?region=320500")).json() == []

    deleted = await client.delete(f"{CENTRES_PATH}/{centre['id']}", headers=official.headers)
    assert deleted.status == 204
    assert (await client.get(f"{CENTRES_PATH}/{centre['id']}")).status == 404


async def test_officials_keep_only_their_jurisdictions_centres(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    zhejiang = await make_account(Role.OFFICIAL, region_code="330000")
    jiangsu = await make_account(Role.OFFICIAL, region_code="320000")
    centre = await (await client.post(CENTRES_PATH, json=body(), headers=zhejiang.headers)).json()
    for response in (
        await client.post(CENTRES_PATH, json=body(name="另一个中心"), headers=jiangsu.headers),
        await client.patch(f"{CENTRES_PATH}/{centre['id']}", json={"contact": "x"}, headers=jiangsu.headers),
        await client.delete(f"{CENTRES_PATH}/{centre['id']}", headers=jiangsu.headers),
        await client.get(f"{CENTRES_PATH}/{centre['id']}/audit", headers=jiangsu.headers),
    ):
        assert response.status == 403
        assert (await response.json())["error"]["code"] == "outside_jurisdiction"
    unchanged = await (await client.get(f"{CENTRES_PATH}/{centre['id']}")).json()
    assert unchanged["contact"] == "0571-00000000"
    agency_staff = await make_account(Role.AGENCY, agency_id=await make_agency(db))
    refused = await client.post(CENTRES_PATH, json=body(name="x中心"), headers=agency_staff.headers)
    assert refused.status == 403


async def test_bad_centres_are_refused_naming_the_field(client: Client, make_account: AccountFactory) -> None:
    official = await make_account(Role.OFFICIAL)
    for overrides, field in (
        ({"region_codes": ["990000"]}, "region_codes"),
        ({"seat_region": "123"}, "seat_region"),
        ({"application_types": ["trademark"]}, "application_types"),
        ({"ipc_classes": ["not-ipc"]}, "ipc_classes"),
        ({"record_url": "javascript:alert(1)"}, "record_url"),
        ({"fields": ["astrology"]}, "fields"),
    ):
        response = await client.post(CENTRES_PATH, json=body(**overrides), headers=official.headers)
        assert response.status == 422, overrides
        assert field in (await response.json())["error"]["details"][0]["field"]
    await client.post(CENTRES_PATH, json=body(), headers=official.headers)
    duplicate = await client.post(CENTRES_PATH, json=body(), headers=official.headers)
    assert duplicate.status == 409
    assert (await duplicate.json())["error"]["code"] == "centre_exists"
    assert len(await (await client.get(CENTRES_PATH)).json()) == 1


async def test_the_seed_is_real_centres_with_sources_and_idempotent(db: Database, client: Client) -> None:
    async with db.transaction() as session:
        assert await seed_centres(session) == len(CENTRES)
    async with db.transaction() as session:
        assert await seed_centres(session) == 0
    listed = await (await client.get(CENTRES_PATH)).json()
    assert len(listed) == len(CENTRES)
    for centre in listed:
        assert centre["source"].startswith("FAST_TRACK_NOTES S"), centre["name"]
        assert all(region_exists(code) for code in centre["region_codes"]), centre["name"]
    by_name = {c["name"]: c for c in listed}
    # Fields stated in a source: confirmed; matching inferred from a list's order, or not found: unconfirmed.
    assert by_name["中国（深圳）知识产权保护中心"]["scope_confirmed"] is True
    assert by_name["中国（长春）知识产权保护中心"]["scope_confirmed"] is False
    assert by_name["中国（杭州）知识产权保护中心"]["fields"] == []
    assert by_name["中山（灯饰）快速维权中心"]["application_types"] == ["design"]
    # Served regions: Shenzhen's own centre first for a Shenzhen district, the provincial one after it.
    shenzhen = await (await client.get(f"{CENTRES_PATH}?region=440305")).json()
    assert [c["name"] for c in shenzhen] == ["中国（深圳）知识产权保护中心", "中国（广东）知识产权保护中心"]
