"""What a bearer token is and how long it names its user: a login's token is 256 random bits whose SHA-256 alone is
stored, for the configured lifetime; it names its user up to, and not at, the moment it expires — read from the
database or from the token cache, which keeps a principal at most `TOKEN_CACHE_SECONDS` and never past the token's
expiry. A refused login says only that the name or password was wrong."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import delete, select, update

from accounts import service
from accounts.errors import BadCredentials, LoginBusy
from accounts.models import AuthToken, User
from accounts.schemas import NewUser
from core.auth import Principal, Role
from core.db import Database, utcnow
from core.settings import Settings
from core.state import CACHE
from tests.agencies.builders import make_agency, make_enterprise
from tests.conftest import AccountFactory

Client = TestClient[Any, Any]
MICROSECOND = dt.timedelta(microseconds=1)


async def stored_token(db: Database, raw: str) -> AuthToken:
    async with db.transaction(write=False) as session:
        token = await session.scalar(select(AuthToken).where(AuthToken.token_hash == service.token_hash(raw)))
        assert token is not None
        return token


async def expire_at(db: Database, raw: str, moment: dt.datetime) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(AuthToken).where(AuthToken.token_hash == service.token_hash(raw)).values(expires_at=moment)
        )


def freeze(monkeypatch: pytest.MonkeyPatch, moment: dt.datetime) -> None:
    monkeypatch.setattr(service, "utcnow", lambda: moment)


def record_cache_sets(app: web.Application, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    cache = app[CACHE]
    original = cache.set
    seen: list[tuple[str, int]] = []

    async def recording(key: str, value: str, ttl: int) -> None:
        seen.append((key, ttl))
        await original(key, value, ttl)

    monkeypatch.setattr(cache, "set", recording)
    return seen


async def test_a_login_issues_256_random_bits_of_which_only_the_sha256_is_stored_for_the_tokens_lifetime(
    client: Client, db: Database, settings: Settings
) -> None:
    agency = await make_agency(db)
    async with db.transaction() as session:
        await service.create_user(
            session,
            NewUser(
                role=Role.AGENCY, username="clerk", password="long-enough-1", agency_id=agency, display_name="代理人"
            ),
        )
    before = utcnow()
    response = await client.post("/api/v1/auth/login", json={"username": "clerk", "password": "long-enough-1"})
    after = utcnow()
    assert response.status == 200
    body = await response.json()
    raw = body["token"]
    assert len(raw) == 43  # 32 bytes, URL-safe base64 without padding

    token = await stored_token(db, raw)
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.client == "password"
    assert token.revoked_at is None
    lifetime = dt.timedelta(seconds=settings.token_ttl_seconds)
    expires_at = dt.datetime.fromisoformat(body["expires_at"])
    assert before + lifetime <= expires_at <= after + lifetime
    assert abs(token.expires_at.replace(tzinfo=dt.UTC) - expires_at) < dt.timedelta(milliseconds=1)

    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert body["user"] == await me.json()
    assert body["user"] == {
        "user_id": token.user_id,
        "username": "clerk",
        "display_name": "代理人",
        "role": "agency",
        "agency_id": agency,
        "enterprise_id": None,
        "region_code": None,
        "is_admin": False,
    }


async def test_a_refused_login_says_only_that_the_name_or_password_was_wrong(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    gone = await make_account(Role.OFFICIAL)
    async with db.transaction() as session:
        await session.execute(update(User).where(User.id == gone.user_id).values(is_active=False))
    for username, password in (
        (official.username, "not-the-password"),
        ("nobody-of-that-name", "not-the-password"),
        (gone.username, gone.password),  # deactivated: the right password does not help
    ):
        refused = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert refused.status == 401, username
        assert (await refused.json())["error"] == {"code": "bad_credentials", "message": "wrong username or password"}


async def test_attempts_that_were_never_judged_do_not_count_against_the_user(
    client: Client, make_account: AccountFactory, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    official = await make_account(Role.OFFICIAL)
    login = {"username": official.username, "password": official.password}

    async def busy(*_: object) -> bool:
        raise LoginBusy("too many logins are being checked; try again shortly")

    with monkeypatch.context() as patched:
        patched.setattr(service, "verify_password", busy)
        for _ in range(settings.login_max_failures + 1):
            unjudged = await client.post("/api/v1/auth/login", json=login)
            assert (unjudged.status, (await unjudged.json())["error"]["code"]) == (503, "login_busy")
    assert (await client.post("/api/v1/auth/login", json=login)).status == 200


async def test_a_token_names_its_user_until_and_not_at_the_moment_it_expires(
    app: web.Application, db: Database, make_account: AccountFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    official = await make_account(Role.OFFICIAL)
    expires_at = utcnow() + dt.timedelta(hours=1)
    await expire_at(db, official.token, expires_at)

    freeze(monkeypatch, expires_at)  # read from the database: nothing cached yet
    assert await service.resolve_token(app, official.token) is None
    freeze(monkeypatch, expires_at - MICROSECOND)
    principal = await service.resolve_token(app, official.token)
    assert principal is not None and principal.user_id == official.user_id


async def test_a_cached_token_names_its_user_until_and_not_at_the_moment_it_expires(
    app: web.Application, db: Database, make_account: AccountFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    official = await make_account(Role.OFFICIAL)
    now = utcnow()
    expires_at = now + dt.timedelta(seconds=30)
    await expire_at(db, official.token, expires_at)
    freeze(monkeypatch, now)
    assert await service.resolve_token(app, official.token) is not None  # cached now
    async with db.transaction() as session:  # from here on only the cache knows the token
        await session.execute(delete(AuthToken).where(AuthToken.token_hash == service.token_hash(official.token)))

    freeze(monkeypatch, expires_at - MICROSECOND)
    cached = await service.resolve_token(app, official.token)
    assert cached is not None and cached.user_id == official.user_id
    freeze(monkeypatch, expires_at)
    assert await service.resolve_token(app, official.token) is None


async def test_the_token_cache_keeps_a_principal_a_minute_at_most_and_never_past_its_tokens_expiry(
    app: web.Application, db: Database, make_account: AccountFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = [await make_account(Role.OFFICIAL) for _ in range(5)]
    now = utcnow()
    left = [dt.timedelta(hours=12), dt.timedelta(seconds=30.5), dt.timedelta(seconds=1.5), dt.timedelta(seconds=1)]
    left.append(dt.timedelta(seconds=0.5))
    for account, remaining in zip(accounts, left, strict=True):
        await expire_at(db, account.token, now + remaining)
    freeze(monkeypatch, now)
    sets = record_cache_sets(app, monkeypatch)
    for account in accounts:
        principal = await service.resolve_token(app, account.token)
        assert principal is not None and principal.user_id == account.user_id
    assert sets == [
        (f"token:{service.token_hash(accounts[0].token)}", service.TOKEN_CACHE_SECONDS),
        (f"token:{service.token_hash(accounts[1].token)}", 30),
        (f"token:{service.token_hash(accounts[2].token)}", 1),
        (f"token:{service.token_hash(accounts[3].token)}", 1),
    ]  # the last, half a second from its end, is not cached at all
    assert service.TOKEN_CACHE_SECONDS == 60


async def test_a_principal_whose_account_is_gone_is_refused(db: Database) -> None:
    ghost = Principal(user_id=999_999, username="ghost", role=Role.OFFICIAL)
    async with db.transaction(write=False) as session:
        with pytest.raises(BadCredentials) as refused:
            await service.me(session, ghost)
    assert (refused.value.status, refused.value.code, refused.value.message) == (
        401,
        "bad_credentials",
        "this account no longer exists",
    )


async def test_each_kind_of_accounts_token_names_exactly_its_user_role_and_records(
    app: web.Application, db: Database, make_account: AccountFactory
) -> None:
    agency = await make_agency(db)
    enterprise = await make_enterprise(db)
    official = await make_account(Role.OFFICIAL, region_code="330106", is_admin=True)
    agency_staff = await make_account(Role.AGENCY, agency_id=agency)
    enterprise_staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise)
    wanted = {
        official.token: (official.user_id, official.username, Role.OFFICIAL, None, None, "330106", True),
        agency_staff.token: (agency_staff.user_id, agency_staff.username, Role.AGENCY, agency, None, None, False),
        enterprise_staff.token: (
            enterprise_staff.user_id,
            enterprise_staff.username,
            Role.ENTERPRISE,
            None,
            enterprise,
            None,
            False,
        ),
    }
    for raw, want in wanted.items():
        token_id = (await stored_token(db, raw)).id
        for read in ("database", "cache"):
            principal = await service.resolve_token(app, raw)
            assert principal is not None
            named = (
                principal.user_id,
                principal.username,
                principal.role,
                principal.agency_id,
                principal.enterprise_id,
                principal.region_code,
                principal.is_admin,
            )
            assert (named, principal.token_id) == (want, token_id), read


async def test_me_shows_each_kind_of_account_its_own_records(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    enterprise = await make_enterprise(db)
    official = await make_account(Role.OFFICIAL, region_code="330106", is_admin=True)
    staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise)
    for account, records in (
        (official, {"agency_id": None, "enterprise_id": None, "region_code": "330106", "is_admin": True}),
        (staff, {"agency_id": None, "enterprise_id": enterprise, "region_code": None, "is_admin": False}),
    ):
        me = await client.get("/api/v1/me", headers=account.headers)
        assert me.status == 200
        assert await me.json() == {
            "user_id": account.user_id,
            "username": account.username,
            "display_name": account.username,
            "role": account.role.value,
            **records,
        }


async def test_a_token_records_which_kind_of_login_issued_it(db: Database, settings: Settings) -> None:
    async with db.transaction() as session:
        user, _ = await service.find_or_create_wechat_user(session, openid="o-kind-of-login", unionid=None)
        issued = await service.issue_token(session, settings, user, client="wechat")
    token = await stored_token(db, issued.token)
    assert (token.client, token.user_id, issued.user.id) == ("wechat", user.id, user.id)
    assert abs(token.expires_at.replace(tzinfo=dt.UTC) - issued.expires_at) < dt.timedelta(milliseconds=1)
