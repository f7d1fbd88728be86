"""Pushes: a rating change for a followed agency → an outbox row in the same transaction → the worker → exactly one
subscribe message recorded at the stand-in, only with consent, never twice."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from core.auth import Role
from core.db import Database, utcnow
from core.events import RatingChanged, VoucherStateChanged, publish
from core.settings import Settings
from tests.agencies.builders import make_agency, make_enterprise
from tests.conftest import AccountFactory
from wechat.models import PushOutbox, SubscribeConsent
from wechat.pushes import PUSHES
from wechat.state import WECHAT
from wechat.worker import PushWorker
from wechat_standin.app import StandIn, openid_for

Client = TestClient[Any, Any]
LATE_REPORT = {"category": "late_annual_report", "points": -20, "reason": "2025年度报告逾期"}


async def wechat_user(client: Client, code: str) -> dict[str, str]:
    response = await client.post("/api/v1/auth/wechat-login", json={"code": code})
    assert response.status == 200, await response.text()
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def consent(client: Client, headers: dict[str, str], settings: Settings, result: str = "accept") -> Any:
    response = await client.post(
        "/api/v1/me/wechat/subscriptions",
        json={"results": {settings.wechat_template_rating_changed: result}},
        headers=headers,
    )
    assert response.status == 200, await response.text()
    return await response.json()


def worker(app: web.Application) -> PushWorker:
    return app[WECHAT].worker


async def test_a_rating_change_reaches_a_consenting_follower_exactly_once(
    client: Client,
    app: web.Application,
    db: Database,
    standin: StandIn,
    settings: Settings,
    make_account: AccountFactory,
) -> None:
    agency_id = await make_agency(db, score=100)
    alice = await wechat_user(client, "alice.1")
    bob = await wechat_user(client, "bob.1")  # follows, but never consented
    for headers in (alice, bob):
        assert (await client.post(f"/api/v1/agencies/{agency_id}/follow", headers=headers)).status in (200, 201)
    await consent(client, alice, settings)
    official = await make_account(Role.OFFICIAL)

    response = await client.post(
        f"/api/v1/agencies/{agency_id}/credit-events", json=LATE_REPORT, headers=official.headers
    )
    assert response.status == 201, await response.text()

    report = await worker(app).run_once()
    assert report.sent == 1
    [sent] = standin.sent
    assert sent["api"] == "subscribe/send"
    assert sent["touser"] == openid_for(settings.wechat_appid, "alice")
    assert sent["body"]["template_id"] == settings.wechat_template_rating_changed
    assert sent["body"]["page"] == f"pages/agency/detail?id={agency_id}"
    assert "80" in sent["body"]["data"]["thing3"]["value"]

    again = await worker(app).run_once()
    assert again.sent == 0 and len(standin.sent) == 1
    consents = await (await client.get("/api/v1/me/wechat/subscriptions", headers=alice)).json()
    rating = next(t for t in consents["templates"] if t["purpose"] == "rating_changed")
    assert (rating["remaining"], rating["granted_total"], rating["used_total"]) == (0, 1, 1)


async def test_without_consent_nothing_is_queued_or_sent(
    client: Client, app: web.Application, db: Database, standin: StandIn, make_account: AccountFactory
) -> None:
    agency_id = await make_agency(db, score=100)
    headers = await wechat_user(client, "carol.1")
    await client.post(f"/api/v1/agencies/{agency_id}/follow", headers=headers)
    official = await make_account(Role.OFFICIAL)
    response = await client.post(
        f"/api/v1/agencies/{agency_id}/credit-events", json=LATE_REPORT, headers=official.headers
    )
    assert response.status == 201
    await worker(app).run_once()
    assert standin.sent == []
    async with db.transaction() as session:
        assert (await session.scalars(select(PushOutbox))).all() == []


async def test_one_consent_allows_one_send(
    client: Client, app: web.Application, db: Database, standin: StandIn, settings: Settings
) -> None:
    agency_id = await make_agency(db, score=100)
    headers = await wechat_user(client, "dan.1")
    await client.post(f"/api/v1/agencies/{agency_id}/follow", headers=headers)
    await consent(client, headers, settings)
    event = RatingChanged(agency_id, "测试所", "A", "B", 100, 80, "event")
    async with db.transaction() as session:
        await publish(session, event)
    await asyncio.sleep(1.01)  # a second change, a second later: a new version of the news
    async with db.transaction() as session:
        await publish(session, RatingChanged(agency_id, "测试所", "B", "C", 80, 60, "event"))
    report = await worker(app).run_once()
    assert (report.sent, report.no_consent) == (1, 1)
    assert len(standin.sent) == 1


async def test_a_rolled_back_change_queues_nothing(
    client: Client, db: Database, standin: StandIn, settings: Settings
) -> None:
    agency_id = await make_agency(db, score=100)
    headers = await wechat_user(client, "erin.1")
    await client.post(f"/api/v1/agencies/{agency_id}/follow", headers=headers)
    await consent(client, headers, settings)
    try:
        async with db.transaction() as session:
            await publish(session, RatingChanged(agency_id, "测试所", "A", "B", 100, 80, "event"))
            raise RuntimeError("the change fails after publishing")
    except RuntimeError:
        pass
    async with db.transaction() as session:
        assert (await session.scalars(select(PushOutbox))).all() == []


async def test_transient_errors_are_retried_with_backoff_and_final_ones_recorded(
    client: Client, app: web.Application, db: Database, standin: StandIn, settings: Settings
) -> None:
    agency_id = await make_agency(db, score=100)
    headers = await wechat_user(client, "fay.1")
    await client.post(f"/api/v1/agencies/{agency_id}/follow", headers=headers)
    await consent(client, headers, settings)
    async with db.transaction() as session:
        await publish(session, RatingChanged(agency_id, "测试所", "A", "B", 100, 80, "event"))
    standin.failures["subscribe/send"].extend([-1, 43101])

    busy = await worker(app).run_once()
    assert busy.retrying == 1 and standin.sent == []
    async with db.transaction() as session:
        row = await session.scalar(select(PushOutbox))
        assert row is not None and row.state == "pending" and row.attempts == 1
        assert row.next_attempt_at > utcnow() + dt.timedelta(seconds=3)
        consent_row = await session.scalar(select(SubscribeConsent))
        assert consent_row is not None and consent_row.remaining == 1  # given back: nothing was delivered
        await session.execute(update(PushOutbox).values(next_attempt_at=utcnow()))

    refused = await worker(app).run_once()
    assert refused.failed == 1 and standin.sent == []
    async with db.transaction() as session:
        row = await session.scalar(select(PushOutbox))
        assert row is not None and row.state == "failed" and row.last_error.startswith("43101")
        consent_row = await session.scalar(select(SubscribeConsent))
        assert consent_row is not None and consent_row.remaining == 0
    assert (await worker(app).run_once()).sent == 0


async def test_two_workers_at_once_send_each_push_once(
    client: Client, app: web.Application, db: Database, standin: StandIn, settings: Settings
) -> None:
    agency_id = await make_agency(db, score=100)
    for n in range(5):
        headers = await wechat_user(client, f"user{n}.1")
        await client.post(f"/api/v1/agencies/{agency_id}/follow", headers=headers)
        await consent(client, headers, settings)
    async with db.transaction() as session:
        await publish(session, RatingChanged(agency_id, "测试所", "A", "B", 100, 80, "event"))
    other = PushWorker(Database(settings.database_url), app[WECHAT].client, app[PUSHES])
    reports = await asyncio.gather(worker(app).run_once(limit=3), other.run_once(limit=3), worker(app).run_once())
    await other.db.dispose()
    assert sum(r.sent for r in reports) == 5
    assert sorted(item["touser"] for item in standin.sent) == sorted(
        openid_for(settings.wechat_appid, f"user{n}") for n in range(5)
    )


async def test_a_push_interrupted_mid_send_is_not_resent(
    client: Client, app: web.Application, db: Database, standin: StandIn, settings: Settings
) -> None:
    agency_id = await make_agency(db, score=100)
    headers = await wechat_user(client, "gus.1")
    await client.post(f"/api/v1/agencies/{agency_id}/follow", headers=headers)
    await consent(client, headers, settings)
    async with db.transaction() as session:
        await publish(session, RatingChanged(agency_id, "测试所", "A", "B", 100, 80, "event"))
        await session.flush()
        await session.execute(update(PushOutbox).values(state="sending", claimed_at=utcnow() - dt.timedelta(hours=1)))
    report = await worker(app).run_once()
    assert report.interrupted == 1 and standin.sent == []
    async with db.transaction() as session:
        row = await session.scalar(select(PushOutbox))
        assert row is not None and row.state == "failed"


async def test_voucher_state_changes_reach_the_enterprises_wechat_users(
    client: Client, app: web.Application, db: Database, standin: StandIn, settings: Settings
) -> None:
    from accounts.models import User

    enterprise_id = await make_enterprise(db)
    headers = await wechat_user(client, "hana.1")
    async with db.transaction() as session:
        await session.execute(update(User).values(enterprise_id=enterprise_id))
    response = await client.post(
        "/api/v1/me/wechat/subscriptions",
        json={"results": {settings.wechat_template_voucher_changed: "accept"}},
        headers=headers,
    )
    assert response.status == 200
    expires = utcnow() + dt.timedelta(days=30)
    async with db.transaction() as session:
        await publish(session, VoucherStateChanged(7, enterprise_id, "issued", "active", 500_000, expires))
    assert (await worker(app).run_once()).sent == 1
    [sent] = standin.sent
    assert sent["body"]["template_id"] == settings.wechat_template_voucher_changed
    assert sent["body"]["data"]["amount3"]["value"] == "5000.00元"


async def test_consent_registration_checks_templates_and_linking(
    client: Client, standin: StandIn, settings: Settings, make_account: AccountFactory
) -> None:
    headers = await wechat_user(client, "ivy.1")
    unknown = await client.post(
        "/api/v1/me/wechat/subscriptions", json={"results": {"tpl-nope": "accept"}}, headers=headers
    )
    assert unknown.status == 422
    assert (await unknown.json())["error"]["details"][0]["field"] == "results.tpl-nope"
    rejected = await consent(client, headers, settings, result="reject")
    assert all(t["remaining"] == 0 for t in rejected["templates"])
    twice = await consent(client, headers, settings)
    twice = await consent(client, headers, settings)
    assert next(t for t in twice["templates"] if t["purpose"] == "rating_changed")["remaining"] == 2

    password_user = await make_account(Role.OFFICIAL)
    not_linked = await client.post(
        "/api/v1/me/wechat/subscriptions",
        json={"results": {settings.wechat_template_rating_changed: "accept"}},
        headers=password_user.headers,
    )
    assert not_linked.status == 409
    anonymous = await client.get("/api/v1/me/wechat/subscriptions")
    assert anonymous.status == 401


async def test_a_voucher_nearing_expiry_is_reminded_once(
    client: Client,
    app: web.Application,
    db: Database,
    standin: StandIn,
    settings: Settings,
    make_account: AccountFactory,
) -> None:
    from accounts.models import User
    from tests.vouchers.builders import make_enterprise as make_qualified_enterprise
    from tests.vouchers.builders import make_program, program_body

    official = await make_account(Role.OFFICIAL)
    enterprise_id = await make_qualified_enterprise(db)
    soon = (utcnow() + dt.timedelta(days=3)).isoformat()
    program = await make_program(client, official.headers, **{**program_body(), "valid_until": soon})
    response = await client.post(
        f"/api/v1/voucher-programs/{program['id']}/vouchers",
        json={"enterprises": [{"enterprise_id": enterprise_id}]},
        headers=official.headers,
    )
    assert response.status == 201, await response.text()
    headers = await wechat_user(client, "kim.1")
    async with db.transaction() as session:
        await session.execute(update(User).where(User.wechat_openid.is_not(None)).values(enterprise_id=enterprise_id))
    await client.post(
        "/api/v1/me/wechat/subscriptions",
        json={"results": {settings.wechat_template_voucher_expiring: "accept"}},
        headers=headers,
    )
    assert await worker(app).scan_expiring() == 1
    assert await worker(app).scan_expiring() == 0  # the same expiry is never queued twice
    assert (await worker(app).run_once()).sent == 1
    [sent] = standin.sent
    assert sent["body"]["template_id"] == settings.wechat_template_voucher_expiring
    assert sent["body"]["data"]["amount2"]["value"] == "5000.00元"
