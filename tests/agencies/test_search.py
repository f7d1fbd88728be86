"""GET /api/v1/agencies: filters, sorts, pagination, and cached results that never go stale after a write."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from agencies.schemas import AgencyPage
from core.auth import Role
from core.db import Database
from tests.agencies.builders import make_agency
from tests.conftest import AccountFactory

Client = TestClient[Any, Any]


async def search(client: Client, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/agencies", params={k: str(v) for k, v in params.items()})
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    AgencyPage.model_validate(body)  # the hot path builds plain data: it must keep the declared shape
    return body


def names(body: dict[str, Any]) -> list[str]:
    return [item["name_zh"] for item in body["items"]]


async def test_the_newcomer_query_returns_rated_agencies_with_prices(client: Client, db: Database) -> None:
    await make_agency(db, name_zh="杭州求是专利事务所（普通合伙）", region_code="330106", score=96)
    await make_agency(db, name_zh="宁波甬信专利代理有限公司", region_code="330203")
    await make_agency(
        db, name_zh="杭州商标事务所", kind="trademark", services=[("trademark_registration", 80_000, 150_000)]
    )
    body = await search(client, region="330100", service="invention")
    assert body["total"] == 1
    item = body["items"][0]
    assert item["name_zh"] == "杭州求是专利事务所（普通合伙）"
    assert item["credit_level"] == "A"
    assert item["region"] == {"code": "330106", "name": "浙江省杭州市"}
    assert item["services"][0] == {
        "code": "invention",
        "label_zh": "发明专利申请",
        "label_en": "Invention patent filing",
        "price_min_fen": 300_000,
        "price_max_fen": 600_000,
    }


@pytest.mark.parametrize("region", ["330000", "浙江", "浙江省", "zhejiang", "浙"])
async def test_a_province_filter_matches_its_cities(client: Client, db: Database, region: str) -> None:
    await make_agency(db, name_zh="杭州甲", region_code="330106")
    await make_agency(db, name_zh="宁波乙", region_code="330203")
    await make_agency(db, name_zh="南京丙", region_code="320102")
    body = await search(client, region=region, sort="rating")
    assert sorted(names(body)) == ["宁波乙", "杭州甲"]


@pytest.mark.parametrize("region", ["杭州", "hangzhou", "330100"])
async def test_a_city_filter_by_name_pinyin_or_code(client: Client, db: Database, region: str) -> None:
    await make_agency(db, name_zh="杭州甲", region_code="330106")
    await make_agency(db, name_zh="宁波乙", region_code="330203")
    assert names(await search(client, region=region)) == ["杭州甲"]


async def test_a_district_code_matches_that_district_only(client: Client, db: Database) -> None:
    await make_agency(db, name_zh="西湖甲", region_code="330106")
    await make_agency(db, name_zh="滨江乙", region_code="330108")
    assert names(await search(client, region="330106")) == ["西湖甲"]


async def test_an_unknown_region_is_422_naming_it(client: Client) -> None:
    response = await client.get("/api/v1/agencies", params={"region": "atlantis"})
    assert response.status == 422
    assert (await response.json())["error"]["details"][0]["field"] == "query.region"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "cheapest"}, "query.sort"),
        ({"page_size": "500"}, "query.page_size"),
        ({"service": "massage"}, "query.service"),
        ({"min_rating": "E"}, "query.min_rating"),
    ],
)
async def test_bad_parameters_are_422_naming_them(client: Client, params: dict[str, str], field: str) -> None:
    response = await client.get("/api/v1/agencies", params=params)
    assert response.status == 422
    assert (await response.json())["error"]["details"][0]["field"] == field


@pytest.mark.parametrize("q", ["求是", "qiushi", "Qiushi Patent", "qs", "QIU SHI"])
async def test_q_matches_chinese_english_abbreviation_and_pinyin(client: Client, db: Database, q: str) -> None:
    await make_agency(
        db, name_zh="杭州求是专利事务所（普通合伙）", name_en="Hangzhou Qiushi Patent Office", short_name="求是"
    )
    await make_agency(db, name_zh="杭州天勤知识产权代理有限公司", short_name="天勤")
    assert names(await search(client, q=q)) == ["杭州求是专利事务所（普通合伙）"]


@pytest.mark.parametrize("q", ["长江", "重庆长江", "chongqing", "庆长"])
async def test_q_with_characters_of_several_readings(client: Client, db: Database, q: str) -> None:
    await make_agency(db, name_zh="重庆长江专利事务所", short_name="长江")
    await make_agency(db, name_zh="杭州天勤知识产权代理有限公司", short_name="天勤")
    assert names(await search(client, q=q)) == ["重庆长江专利事务所"]


async def test_q_with_like_wildcards_matches_literally(client: Client, db: Database) -> None:
    await make_agency(db, name_zh="百分百专利")
    assert (await search(client, q="%"))["total"] == 0
    assert (await search(client, q="_"))["total"] == 0


async def test_relevance_puts_exact_names_first(client: Client, db: Database) -> None:
    await make_agency(db, name_zh="杭州天勤知识产权代理有限公司", short_name="天勤", score=80)
    await make_agency(db, name_zh="天勤二号", score=99)
    body = await search(client, q="天勤")
    assert names(body) == ["杭州天勤知识产权代理有限公司", "天勤二号"]


async def test_min_rating_field_vouchers_filters(client: Client, db: Database) -> None:
    await make_agency(db, name_zh="甲A", score=95, fields=["biotech_medicine"], accepts_vouchers=True)
    await make_agency(db, name_zh="乙B", score=85, fields=["biotech_medicine"], accepts_vouchers=False)
    await make_agency(db, name_zh="丙C", score=70, fields=["mechanical"], accepts_vouchers=True)
    await make_agency(db, name_zh="丁Aplus", score=103, fields=["mechanical"], accepts_vouchers=True)
    assert sorted(names(await search(client, min_rating="B"))) == sorted(["甲A", "乙B", "丁Aplus"])
    assert sorted(names(await search(client, min_rating="A"))) == sorted(["甲A", "丁Aplus"])
    assert sorted(names(await search(client, field="biotech_medicine"))) == ["乙B", "甲A"]
    assert sorted(names(await search(client, accepts_vouchers="true", min_rating="A"))) == sorted(["甲A", "丁Aplus"])
    assert names(await search(client, accepts_vouchers="false")) == ["乙B"]


async def test_sorts(client: Client, db: Database) -> None:
    await make_agency(db, name_zh="便宜", score=85, patent_attorneys=3, services=[("invention", 200_000, 400_000)])
    await make_agency(db, name_zh="大所", score=92, patent_attorneys=80, services=[("invention", 500_000, 900_000)])
    await make_agency(db, name_zh="高分", score=104, patent_attorneys=20, services=[("invention", 400_000, 800_000)])
    assert names(await search(client, sort="rating")) == ["高分", "大所", "便宜"]
    assert names(await search(client, sort="attorneys")) == ["大所", "高分", "便宜"]
    assert names(await search(client, sort="price", service="invention")) == ["便宜", "高分", "大所"]
    assert names(await search(client)) == ["高分", "大所", "便宜"]


async def test_pages_and_total(client: Client, db: Database) -> None:
    for i in range(5):
        await make_agency(db, name_zh=f"所{i}", score=90 + i)
    first = await search(client, page_size=2, sort="rating")
    third = await search(client, page_size=2, page=3, sort="rating")
    beyond = await search(client, page_size=2, page=9)
    assert (first["total"], names(first)) == (5, ["所4", "所3"])
    assert (third["total"], names(third)) == (5, ["所0"])
    assert (beyond["total"], beyond["items"]) == (5, [])


async def test_a_cached_search_is_fresh_after_a_profile_update(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id = await make_agency(db, name_zh="杭州甲", accepts_vouchers=False)
    staff = await make_account(Role.AGENCY, agency_id=agency_id)
    assert (await search(client, accepts_vouchers="true"))["total"] == 0
    assert (await search(client, accepts_vouchers="true"))["total"] == 0  # now served from the cache
    response = await client.patch(
        f"/api/v1/agencies/{agency_id}", json={"accepts_vouchers": True}, headers=staff.headers
    )
    assert response.status == 200, await response.text()
    assert (await search(client, accepts_vouchers="true"))["total"] == 1


async def test_a_cached_search_is_fresh_after_a_rating_change(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id = await make_agency(db, name_zh="杭州甲", score=92)
    official = await make_account(Role.OFFICIAL)
    assert (await search(client, min_rating="A"))["total"] == 1
    event = {"category": "late_annual_report", "points": -20, "reason": "2025年度报告未按时提交"}
    response = await client.post(f"/api/v1/agencies/{agency_id}/credit-events", json=event, headers=official.headers)
    assert response.status == 201, await response.text()
    assert (await search(client, min_rating="A"))["total"] == 0
    body = await search(client)
    assert (body["items"][0]["credit_level"], body["items"][0]["credit_score"]) == ("C", 72)


async def test_a_failed_write_does_not_invalidate_but_a_new_agency_shows_up(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    assert (await search(client))["total"] == 0
    from tests.agencies.test_profiles import new_agency_body

    response = await client.post("/api/v1/agencies", json=new_agency_body(), headers=official.headers)
    assert response.status == 201, await response.text()
    assert (await search(client))["total"] == 1


async def near_cache_answers(client: Client, result: str) -> float:
    metrics = await (await client.get("/metrics")).text()
    line = f'near_cache_answers_total{{result="{result}",route="/api/v1/agencies"}}'
    return sum(float(row.split()[-1]) for row in metrics.splitlines() if row.startswith(line))


async def test_a_repeated_search_is_answered_from_memory_until_an_agency_changes(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id = await make_agency(db, name_zh="杭州甲", accepts_vouchers=False)
    official = await make_account(Role.OFFICIAL)
    first = await search(client, region="330100", sort="rating")
    assert (await near_cache_answers(client, "hit"), await near_cache_answers(client, "miss")) == (0, 1)
    assert await search(client, region="330100", sort="rating") == first
    assert await near_cache_answers(client, "hit") == 1
    response = await client.patch(f"/api/v1/agencies/{agency_id}", json={"name_zh": "杭州乙"}, headers=official.headers)
    assert response.status == 200, await response.text()
    assert names(await search(client, region="330100", sort="rating")) == ["杭州乙"]
    assert (await near_cache_answers(client, "hit"), await near_cache_answers(client, "miss")) == (1, 2)


async def test_an_invalid_search_is_not_kept(client: Client) -> None:
    for _ in range(2):
        response = await client.get("/api/v1/agencies", params={"min_rating": "Z"})
        assert response.status == 422
    assert await near_cache_answers(client, "hit") == 0
