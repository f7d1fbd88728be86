"""Reviews on screen: the agency answers a review once, an official hides an abusive one with a reason; what each
caller sees in the list, and the count and average on the profile and on the search result cards (whose caches a
review or a hide drops)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from core.auth import Role
from core.db import Database
from tests.conftest import Account, AccountFactory
from tests.vouchers.builders import EVIDENCE, issue, make_agency, make_enterprise
from tests.vouchers.conftest import World

Client = TestClient[Any, Any]


async def delivered_review(
    client: Client, world: World, staff: Account, enterprise_id: int, rating: int, comment: str
) -> dict[str, Any]:
    """A fresh voucher for the enterprise, spent at the world's agency, delivered, and reviewed by `staff`."""
    (voucher,) = await issue(client, world.official.headers, world.program["id"], enterprise_id)
    body = {"agency_id": world.agency_id, "service_code": "invention", "price_fen": 400_000}
    redeemed = await client.post(f"/api/v1/vouchers/{voucher['id']}/redeem", json=body, headers=staff.headers)
    assert redeemed.status in (200, 201), await redeemed.text()
    redemption_id = (await redeemed.json())["id"]
    confirmed = await client.post(
        f"/api/v1/redemptions/{redemption_id}/confirm", json=EVIDENCE, headers=world.agency.headers
    )
    assert confirmed.status == 200, await confirmed.text()
    response = await client.post(
        f"/api/v1/agencies/{world.agency_id}/reviews",
        json={"redemption_id": redemption_id, "rating": rating, "comment": comment},
        headers=staff.headers,
    )
    assert response.status == 201, await response.text()
    review: dict[str, Any] = await response.json()
    return review


async def card(client: Client, agency_id: int) -> dict[str, Any]:
    region = (await (await client.get(f"/api/v1/agencies/{agency_id}")).json())["region"]["code"]
    page = await (await client.get("/api/v1/agencies", params={"region": region, "page_size": 50})).json()
    found: dict[str, Any] = next(c for c in page["items"] if c["id"] == agency_id)
    return found


async def listing(client: Client, agency_id: int, who: Account | None = None) -> dict[str, Any]:
    response = await client.get(f"/api/v1/agencies/{agency_id}/reviews", headers=who.headers if who else None)
    assert response.status == 200
    result: dict[str, Any] = await response.json()
    return result


async def test_reply_once_hide_with_a_reason_and_the_average_follows_everywhere(
    client: Client, db: Database, world: World, make_account: AccountFactory
) -> None:
    agency_id = world.agency_id
    assert (await card(client, agency_id))["review_count"] == 0  # cached now: the writes below must drop it
    good = await delivered_review(client, world, world.enterprise, world.enterprise_id, 5, "撰写质量高，答复及时")
    assert good["mine"] is True and good["redemption_id"] is not None
    other_enterprise = await make_enterprise(db)
    other_staff = await make_account(Role.ENTERPRISE, enterprise_id=other_enterprise)
    abusive = await delivered_review(
        client, world, other_staff, other_enterprise, 1, "骗子公司！！！经办人 138xxxx 是个混蛋"
    )
    after_two = await card(client, agency_id)
    assert (after_two["review_count"], after_two["review_average"]) == (2, 3.0), "a new review drops cached searches"

    # The agency answers once.
    reply_url = f"/api/v1/agencies/{agency_id}/reviews/{good['id']}/reply"
    answered = await client.post(reply_url, json={"reply": "感谢认可，我们会继续努力"}, headers=world.agency.headers)
    assert answered.status == 200, await answered.text()
    assert (await answered.json())["reply"] == "感谢认可，我们会继续努力"
    twice = await client.post(reply_url, json={"reply": "再答一次"}, headers=world.agency.headers)
    assert (twice.status, (await twice.json())["error"]["code"]) == (409, "already_replied")

    # An official hides the abusive one with a reason.
    hide_url = f"/api/v1/agencies/{agency_id}/reviews/{abusive['id']}/hide"
    no_reason = await client.post(hide_url, json={"reason": ""}, headers=world.official.headers)
    assert no_reason.status == 422 and (await no_reason.json())["error"]["details"][0]["field"] == "reason"
    hidden = await client.post(hide_url, json={"reason": "含人身攻击和个人信息"}, headers=world.official.headers)
    assert hidden.status == 200, await hidden.text()
    assert (await hidden.json())["hidden"] is True
    again = await client.post(hide_url, json={"reason": "再次隐藏"}, headers=world.official.headers)
    assert (again.status, (await again.json())["error"]["code"]) == (409, "review_hidden")
    late_reply = await client.post(
        f"/api/v1/agencies/{agency_id}/reviews/{abusive['id']}/reply",
        json={"reply": "请联系我们"},
        headers=world.agency.headers,
    )
    assert (late_reply.status, (await late_reply.json())["error"]["code"]) == (409, "review_hidden")

    # The public sees one review and its average, on the list, the profile and the result card.
    public = await listing(client, agency_id)
    assert [r["id"] for r in public["items"]] == [good["id"]]
    assert public["summary"] == {"count": 1, "average": 5.0}
    assert public["items"][0]["reply"] == "感谢认可，我们会继续努力"
    assert public["items"][0]["redemption_id"] is None and public["items"][0]["mine"] is False
    detail = await (await client.get(f"/api/v1/agencies/{agency_id}")).json()
    assert detail["reviews"] == {"count": 1, "average": 5.0}
    after_hide = await card(client, agency_id)
    assert (after_hide["review_count"], after_hide["review_average"]) == (1, 5.0), "hiding drops cached searches"

    audit = await (await client.get(f"/api/v1/agencies/{agency_id}/audit", headers=world.official.headers)).json()
    actions = [(a["action"], a["subject_id"]) for a in reversed(audit["items"]) if a["subject"] == "review"]
    assert actions == [
        ("review_written", good["id"]),
        ("review_written", abusive["id"]),
        ("review_replied", good["id"]),
        ("review_hidden", abusive["id"]),
    ]


async def test_each_caller_sees_the_reviews_it_may(
    client: Client, db: Database, world: World, make_account: AccountFactory
) -> None:
    agency_id = world.agency_id
    visible = await delivered_review(client, world, world.enterprise, world.enterprise_id, 4, "不错")
    writer_enterprise = await make_enterprise(db)
    writer = await make_account(Role.ENTERPRISE, enterprise_id=writer_enterprise)
    colleague = await make_account(Role.ENTERPRISE, enterprise_id=writer_enterprise)
    abusive = await delivered_review(client, world, writer, writer_enterprise, 1, "辱骂内容")
    hidden = await client.post(
        f"/api/v1/agencies/{agency_id}/reviews/{abusive['id']}/hide",
        json={"reason": "辱骂"},
        headers=world.official.headers,
    )
    assert hidden.status == 200
    other_agency_staff = await make_account(Role.AGENCY, agency_id=await make_agency(db))

    def ids(result: dict[str, Any]) -> set[int]:
        return {r["id"] for r in result["items"]}

    both, only_visible = {visible["id"], abusive["id"]}, {visible["id"]}
    assert ids(await listing(client, agency_id)) == only_visible
    assert ids(await listing(client, agency_id, world.official)) == both
    assert ids(await listing(client, agency_id, world.agency)) == both
    assert ids(await listing(client, agency_id, other_agency_staff)) == only_visible
    assert ids(await listing(client, agency_id, world.enterprise)) == only_visible
    mine = await listing(client, agency_id, colleague)
    assert ids(mine) == both, "the enterprise that wrote a hidden review sees it, and why"
    shown = next(r for r in mine["items"] if r["id"] == abusive["id"])
    assert (shown["hidden"], shown["hidden_reason"], shown["mine"]) == (True, "辱骂", True)
    # Whoever asks, the summary counts the visible reviews only.
    for who in (None, world.official, world.agency, colleague):
        assert (await listing(client, agency_id, who))["summary"] == {"count": 1, "average": 4.0}


async def test_who_may_reply_and_hide(client: Client, db: Database, world: World, make_account: AccountFactory) -> None:
    review = await delivered_review(client, world, world.enterprise, world.enterprise_id, 3, "一般")
    base = f"/api/v1/agencies/{world.agency_id}/reviews/{review['id']}"
    other_staff = await make_account(Role.AGENCY, agency_id=await make_agency(db))
    assert (await client.post(f"{base}/reply", json={"reply": "谢谢"})).status == 401
    for who, code in ((world.official, "forbidden"), (world.enterprise, "forbidden"), (other_staff, "not_your_agency")):
        response = await client.post(f"{base}/reply", json={"reply": "谢谢"}, headers=who.headers)
        assert (response.status, (await response.json())["error"]["code"]) == (403, code)
    for who in (world.agency, world.enterprise):
        response = await client.post(f"{base}/hide", json={"reason": "不喜欢"}, headers=who.headers)
        assert (response.status, (await response.json())["error"]["code"]) == (403, "forbidden")
    missing = await client.post(
        f"/api/v1/agencies/{world.agency_id}/reviews/{10**9}/reply",
        json={"reply": "谢谢"},
        headers=world.agency.headers,
    )
    assert (missing.status, (await missing.json())["error"]["code"]) == (404, "review_not_found")
    too_long = await client.post(f"{base}/reply", json={"reply": "长" * 1001}, headers=world.agency.headers)
    assert too_long.status == 422 and (await too_long.json())["error"]["details"][0]["field"] == "reply"
    assert (await listing(client, world.agency_id))["items"][0]["reply"] is None, "a refused reply changes nothing"


async def test_two_replies_at_once_leave_exactly_one(
    client: Client, world: World, make_account: AccountFactory
) -> None:
    review = await delivered_review(client, world, world.enterprise, world.enterprise_id, 4, "好")
    colleague = await make_account(Role.AGENCY, agency_id=world.agency_id)
    url = f"/api/v1/agencies/{world.agency_id}/reviews/{review['id']}/reply"
    responses = await asyncio.gather(
        client.post(url, json={"reply": "甲的回复"}, headers=world.agency.headers),
        client.post(url, json={"reply": "乙的回复"}, headers=colleague.headers),
    )
    assert sorted(r.status for r in responses) == [200, 409]
    [winner] = [await r.json() for r in responses if r.status == 200]
    assert (await listing(client, world.agency_id))["items"][0]["reply"] == winner["reply"]


async def test_an_official_shows_a_hidden_review_again_with_a_reason_and_the_average_follows(
    client: Client, db: Database, world: World, make_account: AccountFactory
) -> None:
    agency_id = world.agency_id
    review = await delivered_review(client, world, world.enterprise, world.enterprise_id, 2, "进度慢，沟通一般")
    base = f"/api/v1/agencies/{agency_id}/reviews/{review['id']}"
    visible = await client.post(f"{base}/restore", json={"reason": "误操作"}, headers=world.official.headers)
    assert (visible.status, (await visible.json())["error"]["code"]) == (409, "review_not_hidden")
    hidden = await client.post(f"{base}/hide", json={"reason": "疑似广告"}, headers=world.official.headers)
    assert hidden.status == 200, await hidden.text()
    assert (await card(client, agency_id))["review_count"] == 0

    no_reason = await client.post(f"{base}/restore", json={"reason": ""}, headers=world.official.headers)
    assert no_reason.status == 422 and (await no_reason.json())["error"]["details"][0]["field"] == "reason"
    by_agency = await client.post(f"{base}/restore", json={"reason": "我们认为合理"}, headers=world.agency.headers)
    assert by_agency.status == 403
    assert (await card(client, agency_id))["review_count"] == 0, "refusals change nothing"

    restored = await client.post(f"{base}/restore", json={"reason": "核实为真实评价"}, headers=world.official.headers)
    assert restored.status == 200, await restored.text()
    body = await restored.json()
    assert body["hidden"] is False and not body.get("hidden_reason")
    public = await listing(client, agency_id)
    assert [r["id"] for r in public["items"]] == [review["id"]]
    assert public["summary"] == {"count": 1, "average": 2.0}
    after = await card(client, agency_id)
    assert (after["review_count"], after["review_average"]) == (1, 2.0), "restoring drops cached searches"
    twice = await client.post(f"{base}/restore", json={"reason": "再次恢复"}, headers=world.official.headers)
    assert (twice.status, (await twice.json())["error"]["code"]) == (409, "review_not_hidden")
    assert (await card(client, agency_id))["review_count"] == 1

    audit = await (await client.get(f"/api/v1/agencies/{agency_id}/audit", headers=world.official.headers)).json()
    actions = [a["action"] for a in reversed(audit["items"]) if a["subject"] == "review"]
    assert actions == ["review_written", "review_hidden", "review_restored"]
