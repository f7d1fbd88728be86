"""A binding decision is pushed to the person it concerns: a subscribe message queued in the outbox with the
decision, to their mini-program openid, when they consented to the template — and nothing without consent."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from accounts.service import find_or_create_wechat_user, issue_token
from core.auth import Role
from core.db import Database
from core.settings import Settings
from tests.conftest import AccountFactory
from tests.support.world import create_enterprise, expect
from wechat.models import PushOutbox, SubscribeConsent

Client = TestClient[Any, Any]


async def applicant(db: Database, settings: Settings, openid: str, *, consent: bool) -> dict[str, str]:
    async with db.transaction() as session:
        user, _ = await find_or_create_wechat_user(session, openid=openid, unionid=None)
        if consent:
            session.add(
                SubscribeConsent(user_id=user.id, template_id=settings.wechat_template_account_changed, remaining=1)
            )
        issued = await issue_token(session, settings, user, client="wechat")
    return {"Authorization": f"Bearer {issued.token}"}


async def test_the_decision_is_queued_for_a_consenting_user_only(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    enterprise_id = await create_enterprise(client, official)
    detail = await expect(await client.get(f"/api/v1/enterprises/{enterprise_id}", headers=official.headers), 200)
    for openid, consent in (("o-consented", True), ("o-silent", False)):
        headers = await applicant(db, settings, openid, consent=consent)
        body = {"credit_code": detail["credit_code"], "person_name": "孙七", "phone": "13900001234"}
        asked = await expect(await client.post("/api/v1/me/enterprise-binding", json=body, headers=headers), 201)
        path = f"/api/v1/enterprise-memberships/{asked['id']}/reject"
        await expect(await client.post(path, json={"reason": "不是本公司员工"}, headers=official.headers), 200)
    async with db.transaction() as session:
        rows = list((await session.scalars(select(PushOutbox))).all())
    assert [row.openid for row in rows] == ["o-consented"]
    data = json.loads(rows[0].data)
    assert (rows[0].template_id, data["phrase2"], data["thing3"]) == (
        settings.wechat_template_account_changed,
        "未通过",
        "不是本公司员工",
    )


async def pushes(db: Database, subject_prefix: str) -> list[PushOutbox]:
    async with db.transaction() as session:
        rows = await session.scalars(select(PushOutbox).where(PushOutbox.subject.startswith(subject_prefix)))
        return list(rows.all())


async def test_a_request_to_join_is_queued_for_the_enterprises_consenting_administrators(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    enterprise_id = await create_enterprise(client, official)
    detail = await expect(await client.get(f"/api/v1/enterprises/{enterprise_id}", headers=official.headers), 200)

    async def ask(headers: dict[str, str], name: str) -> dict[str, Any]:
        body = {"credit_code": detail["credit_code"], "person_name": name, "phone": "13900001234"}
        asked: dict[str, Any] = await expect(
            await client.post("/api/v1/me/enterprise-binding", json=body, headers=headers), 201
        )
        return asked

    # No administrator yet: the first request waits for an official, and no administrator is told.
    first = await ask(await applicant(db, settings, "o-admin", consent=True), "赵一")
    assert await pushes(db, "binding-request:") == []
    path = f"/api/v1/enterprise-memberships/{first['id']}/approve"
    await expect(await client.post(path, json={}, headers=official.headers), 200)  # 赵一 is its administrator now

    second = await ask(await applicant(db, settings, "o-newcomer", consent=True), "钱二")
    rows = await pushes(db, "binding-request:")
    assert [(row.openid, row.subject) for row in rows] == [("o-admin", f"binding-request:{second['id']}")]
    data = json.loads(rows[0].data)
    assert (rows[0].template_id, data["phrase2"], data["thing3"]) == (
        settings.wechat_template_account_changed,
        "待审批",
        "钱二申请绑定",
    )
    # The newcomer, not an administrator, is told nothing about a third request.
    third = await ask(await applicant(db, settings, "o-third", consent=True), "孙三")
    rows = await pushes(db, f"binding-request:{third['id']}")
    assert [row.openid for row in rows] == ["o-admin"]
