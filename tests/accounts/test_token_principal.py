"""A bearer token names the same principal whether it is read from the database (the first request after a login,
one statement of the columns a principal is made of) or from the token cache afterwards — every field of it, for
each kind of account — and a revoked, expired or deactivated token names nobody on either path."""

from __future__ import annotations

import datetime as dt

from aiohttp import web
from sqlalchemy import select, update

from accounts.models import AuthToken, User
from accounts.service import find_or_create_wechat_user, issue_token, principal_for, resolve_token, token_hash
from core.auth import Principal, Role
from core.db import Database, utcnow
from core.settings import Settings
from tests.conftest import AccountFactory
from tests.vouchers.builders import make_agency, make_enterprise


async def expected(db: Database, raw_token: str) -> Principal:
    async with db.transaction(write=False) as session:
        token = await session.scalar(select(AuthToken).where(AuthToken.token_hash == token_hash(raw_token)))
        assert token is not None
        user = await session.get(User, token.user_id)
        assert user is not None
        return principal_for(user, token.id)


async def test_each_kind_of_account_resolves_to_its_whole_principal_from_the_database_and_from_the_cache(
    app: web.Application, db: Database, make_account: AccountFactory, settings: Settings
) -> None:
    official = await make_account(Role.OFFICIAL, region_code="330106", is_admin=True)
    agency_staff = await make_account(Role.AGENCY, agency_id=await make_agency(db))
    enterprise_staff = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))
    async with db.transaction() as session:  # a WeChat user: no user name, no enterprise yet
        wechat_user, _ = await find_or_create_wechat_user(session, openid="o-token-principal", unionid=None)
        wechat_token = (await issue_token(session, settings, wechat_user, client="wechat")).token

    for raw in (official.token, agency_staff.token, enterprise_staff.token, wechat_token):
        want = await expected(db, raw)
        from_database = await resolve_token(app, raw)  # not cached yet: read from the database
        from_cache = await resolve_token(app, raw)
        assert from_database == want and from_cache == want

    official_principal = await resolve_token(app, official.token)
    assert official_principal is not None
    assert (official_principal.region_code, official_principal.is_admin) == ("330106", True)
    wechat_principal = await resolve_token(app, wechat_token)
    assert wechat_principal is not None
    assert wechat_principal.username == f"wx:{wechat_principal.user_id}" and wechat_principal.enterprise_id is None


async def test_a_revoked_an_expired_and_a_deactivated_accounts_token_name_nobody_when_read_from_the_database(
    app: web.Application, db: Database, make_account: AccountFactory
) -> None:
    revoked, expired, deactivated = [
        await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db)) for _ in range(3)
    ]
    async with db.transaction() as session:
        now = utcnow()
        await session.execute(
            update(AuthToken).where(AuthToken.token_hash == token_hash(revoked.token)).values(revoked_at=now)
        )
        await session.execute(
            update(AuthToken)
            .where(AuthToken.token_hash == token_hash(expired.token))
            .values(expires_at=now - dt.timedelta(seconds=1))
        )
        await session.execute(update(User).where(User.id == deactivated.user_id).values(is_active=False))

    for account in (revoked, expired, deactivated):
        assert await resolve_token(app, account.token) is None, account.username
    assert await resolve_token(app, "not-a-token-anyone-was-given") is None
