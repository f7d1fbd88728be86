"""The security tests' world: built through the API by `tests.support.world`, accounts made by `make_account`."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from accounts.models import User
from bot.models import ConsultationTicket
from core.auth import Role
from core.db import Database
from tests.conftest import AccountFactory
from tests.support.world import Who, World, build_world, create_enterprise

Client = TestClient[Any, Any]


def maker(make_account: AccountFactory) -> Any:
    async def make(role: Role, agency_id: int | None, enterprise_id: int | None) -> Who:
        account = await make_account(role, agency_id=agency_id, enterprise_id=enterprise_id)
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


@pytest.fixture
async def world(client: Client, db: Database, make_account: AccountFactory) -> World:
    built = await build_world(client, maker(make_account))
    async with db.transaction() as session:
        ticket = ConsultationTicket(
            sender_id=f"u:{built.enterprise_own.user_id}",
            channel="miniprogram",
            user_id=built.enterprise_own.user_id,
            enterprise_id=built.enterprise_1,
            question="优先审查需要哪些材料？",
        )
        session.add(ticket)
        await session.flush()
        built.extra["ticket_id"] = ticket.id
        # enterprise_own uses the mini-program: its account is linked to a WeChat openid.
        await session.execute(
            update(User).where(User.id == built.enterprise_own.user_id).values(wechat_openid="o-security-own")
        )
    return built


@pytest.fixture
async def enterprise_id(client: Client, make_account: AccountFactory) -> int:
    official = await maker(make_account)(Role.OFFICIAL, None, None)
    return await create_enterprise(client, official)
