"""The security tests' world: built through the API by `tests.support.world`, accounts made by `make_account`, and
the incomplete principals made the way the service makes (or could be handed) them."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from accounts.models import User
from accounts.service import TOKEN_CACHE_SECONDS, deactivate_user, find_or_create_wechat_user, issue_token, token_hash
from bot.models import ConsultationTicket, KnowledgeAnswer
from core.auth import Role
from core.db import Database, utcnow
from core.settings import Settings
from core.state import CACHE
from tests.conftest import AccountFactory
from tests.support.world import (
    Who,
    World,
    applications_body,
    build_world,
    create_enterprise,
    enterprise_body,
    expect,
    program_body,
)

Client = TestClient[Any, Any]


# The security world's officials belong to Zhejiang (where its records are); `official_out` to Shenzhen.
IN_REGION = "330000"
OUT_OF_REGION = "440300"


def maker(make_account: AccountFactory, region_code: str = IN_REGION) -> Any:
    """Accounts of the security world: every one an administrator (of its enterprise, agency or the officials of its
    region), so the refusals the matrix shows are about whose record it is, not about being one."""

    async def make(role: Role, agency_id: int | None, enterprise_id: int | None) -> Who:
        account = await make_account(
            role,
            agency_id=agency_id,
            enterprise_id=enterprise_id,
            region_code=region_code if role is Role.OFFICIAL else None,
            is_admin=True,
        )
        return Who(
            user_id=account.user_id,
            username=account.username,
            password=account.password,
            token=account.token,
            role=role,
            agency_id=agency_id,
            enterprise_id=enterprise_id,
        )

    return make


async def unbound_enterprise_staff(db: Database, settings: Settings) -> Who:
    """A mini-program user as `POST /api/v1/auth/wechat-login` makes one: enterprise role, no enterprise yet."""
    async with db.transaction() as session:
        user, _created = await find_or_create_wechat_user(session, openid="o-security-unbound", unionid=None)
        issued = await issue_token(session, settings, user, client="wechat")
        user_id = user.id
    return Who(user_id, f"wx:{user_id}", "", issued.token, Role.ENTERPRISE)


async def unbound_agency_staff(app: web.Application, user: Who) -> Who:
    """Agency staff whose principal names no agency. The database cannot hold one (a CHECK constraint), so it is
    handed to the API the one other way a principal arrives: the token cache, which the resolver trusts."""
    token = secrets.token_urlsafe(32)
    payload = {
        "user_id": user.user_id,
        "username": user.username,
        "role": Role.AGENCY.value,
        "agency_id": None,
        "enterprise_id": None,
        "token_id": None,
        "expires_at": (utcnow() + dt.timedelta(days=1)).isoformat(),
    }
    await app[CACHE].set(f"token:{token_hash(token)}", json.dumps(payload), 10 * TOKEN_CACHE_SECONDS)
    return Who(user.user_id, user.username, user.password, token, Role.AGENCY)


async def deactivated_staff(client: Client, app: web.Application, db: Database, user: Who) -> Who:
    """Enterprise staff of enterprise 1 whose token was in use (so the resolved principal is cached) when an
    operator deactivated the account."""
    await expect(await client.get("/api/v1/me", headers=user.headers), 200)
    async with db.transaction() as session:
        await deactivate_user(session, app[CACHE], username=user.username)
    return user


@pytest.fixture
async def world(
    client: Client, app: web.Application, db: Database, settings: Settings, make_account: AccountFactory
) -> World:
    built = await build_world(client, maker(make_account))
    make = maker(make_account)
    built.enterprise_unbound = await unbound_enterprise_staff(db, settings)
    built.agency_unbound = await unbound_agency_staff(app, await make(Role.AGENCY, built.agency_b, None))
    built.deactivated = await deactivated_staff(client, app, db, await make(Role.ENTERPRISE, None, built.enterprise_1))
    built.official_out = await maker(make_account, OUT_OF_REGION)(Role.OFFICIAL, None, None)
    await furnish_onboarding(client, app, db, settings, built)
    async with db.transaction() as session:
        ticket = ConsultationTicket(
            sender_id=f"u:{built.enterprise_own.user_id}",
            channel="miniprogram",
            user_id=built.enterprise_own.user_id,
            enterprise_id=built.enterprise_1,
            question="优先审查需要哪些材料？",
        )
        session.add(ticket)
        # An official answer of Zhejiang (the knowledge loop), for its officials to correct or withdraw.
        answer = KnowledgeAnswer(
            question="数据知识产权怎么登记？",
            answer="向省数据知识产权登记平台提交登记申请。",
            lang="zh",
            intent="",
            source_document="浙江省数据知识产权登记办法（试行）",
            source_article="第八条",
            source_date=dt.date(2023, 6, 1),
            source_status="in_force",
            region_code=IN_REGION,
            status="active",
        )
        session.add(answer)
        await session.flush()
        built.extra["ticket_id"] = ticket.id
        built.extra["knowledge_answer"] = answer.id
        # enterprise_own uses the mini-program: its account is linked to a WeChat openid.
        await session.execute(
            update(User).where(User.id == built.enterprise_own.user_id).values(wechat_openid="o-security-own")
        )
    # A programme taking applications, and enterprise 1's application to it.
    body = program_body(name="申领测试专项", applications=applications_body())
    program = await expect(
        await client.post("/api/v1/voucher-programs", json=body, headers=built.official.headers), 201
    )
    built.extra["applications_program"] = program["id"]
    path = f"/api/v1/voucher-programs/{program['id']}/applications"
    application = await expect(await client.post(path, json={}, headers=built.enterprise_own.headers), 201)
    built.extra["application_own"] = application["id"]
    return built


@pytest.fixture
async def enterprise_id(client: Client, make_account: AccountFactory) -> int:
    official = await maker(make_account)(Role.OFFICIAL, None, None)
    return await create_enterprise(client, official)


async def wechat_user(db: Database, settings: Settings, openid: str) -> dict[str, str]:
    """A new mini-program user (enterprise role, bound to nothing) and the bearer headers of its token."""
    async with db.transaction() as session:
        user, _created = await find_or_create_wechat_user(session, openid=openid, unionid=None)
        issued = await issue_token(session, settings, user, client="wechat")
    return {"Authorization": f"Bearer {issued.token}"}


def binding_body(credit_code: str, n: int, **extra: Any) -> dict[str, Any]:
    return {"credit_code": credit_code, "person_name": f"申请人{n}", "phone": f"1380000{n:04d}", **extra}


async def furnish_onboarding(client: Client, app: web.Application, db: Database, settings: Settings, w: World) -> None:
    """What the onboarding routes act on: binding requests to enterprise 1 (two pending, one approved), an
    enterprise registered by its staff and awaiting verification, two open invitations to agency A, two Hangzhou
    officials for the administrator to manage, and enterprise 2's credit code."""
    official = w.official.headers
    code_1 = (await expect(await client.get(f"/api/v1/enterprises/{w.enterprise_1}", headers=official), 200))[
        "credit_code"
    ]
    code_2 = (await expect(await client.get(f"/api/v1/enterprises/{w.enterprise_2}", headers=official), 200))[
        "credit_code"
    ]
    w.texts["credit_code_2"] = code_2
    memberships = []
    for n in range(1, 4):
        headers = await wechat_user(db, settings, f"o-security-applicant-{n}")
        sent = await client.post("/api/v1/me/enterprise-binding", json=binding_body(code_1, n), headers=headers)
        memberships.append((await expect(sent, 201))["id"])
    w.extra["membership_approve"], w.extra["membership_reject"], w.extra["membership_remove"] = memberships
    path = f"/api/v1/enterprise-memberships/{memberships[2]}/approve"
    await expect(await client.post(path, json={}, headers=official), 200)
    registrant = await wechat_user(db, settings, "o-security-registrant")
    new_enterprise = {"name": "杭州新注册科技有限公司", "region_code": "330106", "industry": "software"}
    body = binding_body(enterprise_body()["credit_code"], 9, enterprise=new_enterprise)
    registered = await expect(await client.post("/api/v1/me/enterprise-binding", json=body, headers=registrant), 201)
    w.extra["enterprise_pending"] = registered["enterprise_id"]
    w.extra["membership_registrant"] = registered["id"]
    invitations = f"/api/v1/agencies/{w.agency_a}/invitations"
    first = await expect(await client.post(invitations, json={"invitee_name": "张三"}, headers=official), 201)
    second = await expect(await client.post(invitations, json={"invitee_name": "李四"}, headers=official), 201)
    w.extra["invitation_revoke"] = first["id"]
    w.texts["invitation_code"] = second["code"]
    w.extra["invitation_open"] = second["id"]
    for key in ("official_deactivate", "official_password"):
        made = {"username": f"hz_{key}", "password": "correct-horse-battery", "region_code": "330100"}
        w.extra[key] = (await expect(await client.post("/api/v1/officials", json=made, headers=official), 201))[
            "user_id"
        ]
