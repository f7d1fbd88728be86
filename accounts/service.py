"""Accounts: creating users, password login (throttled by `accounts.throttle`), bearer tokens that expire and revoke."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit, repository, throttle
from accounts.errors import BadCredentials
from accounts.models import AuthToken, User
from accounts.passwords import hash_password, verify_password
from accounts.permissions import PERMISSIONS, Action
from accounts.schemas import MeOut, NewUser
from core import regions
from core.auth import NATIONWIDE, Principal, Role
from core.cache import Cache
from core.db import Database, UnitOfWork, after_commit, utcnow
from core.errors import Conflict, NotFound, field_error
from core.settings import Settings
from core.state import CACHE, DATABASE

TOKEN_CACHE_SECONDS = 60


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class PrincipalColumns(Protocol):
    """What a principal is made of: a `User`, or the columns a token lookup reads (`repository.TokenUser`)."""

    @property
    def id(self) -> int: ...
    @property
    def username(self) -> str | None: ...
    @property
    def role(self) -> str: ...
    @property
    def agency_id(self) -> int | None: ...
    @property
    def enterprise_id(self) -> int | None: ...
    @property
    def region_code(self) -> str | None: ...
    @property
    def is_admin(self) -> bool: ...


def principal_for(user: PrincipalColumns, token_id: int | None = None) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username or f"wx:{user.id}",
        role=Role(user.role),
        agency_id=user.agency_id,
        enterprise_id=user.enterprise_id,
        token_id=token_id,
        region_code=user.region_code,
        is_admin=user.is_admin,
    )


def me_of(user: User) -> MeOut:
    return MeOut(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        agency_id=user.agency_id,
        enterprise_id=user.enterprise_id,
        region_code=user.region_code,
        is_admin=user.is_admin,
    )


async def create_user(session: AsyncSession, new: NewUser) -> User:
    if new.role is Role.AGENCY and new.agency_id is None:
        raise field_error("agency_id", "agency staff must belong to an agency")
    if new.role is Role.ENTERPRISE and new.enterprise_id is None:
        raise field_error("enterprise_id", "enterprise staff must belong to an enterprise")
    if new.role is not Role.AGENCY and new.agency_id is not None:
        raise field_error("agency_id", "only agency staff belong to an agency")
    if new.role is not Role.ENTERPRISE and new.enterprise_id is not None:
        raise field_error("enterprise_id", "only enterprise staff belong to an enterprise")
    if new.role is not Role.OFFICIAL and new.region_code is not None:
        raise field_error("region_code", "only officials belong to a region")
    if new.region_code is not None and new.region_code != NATIONWIDE and not regions.is_valid_code(new.region_code):
        raise field_error("region_code", f"{new.region_code} is not a known region code")
    # Hashed before querying: a session that has not touched the database yet holds no connection while argon2 runs.
    password_hash = await hash_password(new.password)
    if await repository.username_taken(session, new.username):
        raise Conflict(f"username {new.username!r} is taken", code="username_taken")
    user = User(
        username=new.username,
        password_hash=password_hash,
        role=new.role.value,
        display_name=new.display_name or new.username,
        agency_id=new.agency_id,
        enterprise_id=new.enterprise_id,
        region_code=(new.region_code or NATIONWIDE) if new.role is Role.OFFICIAL else None,
        is_admin=new.is_admin,
    )
    session.add(user)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        field = "agency_id" if new.agency_id is not None else "enterprise_id"
        raise field_error(field, "no such record") from None
    return user


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: dt.datetime
    user: User


async def issue_token(session: AsyncSession, settings: Settings, user: User, client: str = "password") -> IssuedToken:
    raw = secrets.token_urlsafe(32)
    expires_at = utcnow() + dt.timedelta(seconds=settings.token_ttl_seconds)
    session.add(AuthToken(user_id=user.id, token_hash=token_hash(raw), expires_at=expires_at, client=client))
    await session.flush()
    return IssuedToken(token=raw, expires_at=expires_at, user=user)


async def login(
    database: Database,
    unit: UnitOfWork,
    cache: Cache,
    settings: Settings,
    *,
    username: str,
    password: str,
    address: str,
) -> IssuedToken:
    """Password login, throttled per user name and per address before the password is checked (`accounts.throttle`).

    No database connection is held while the password is verified (tens of milliseconds of CPU, longer when a burst
    queues for the hashing pool): the user is read in a session of its own that is closed first, and the token is
    written afterwards in the request's unit of work, which opens only then.
    """
    attempt = await throttle.admit(cache, settings, username=username, address=address)
    try:
        async with database.request_reader() as reading:  # one statement: no BEGIN / ROLLBACK around it
            user = await repository.active_user_by_username(reading, username)
        verified = await verify_password(user.password_hash if user else None, password)
    except BaseException:
        await throttle.abandoned(cache, attempt)
        raise
    if not verified or user is None:
        await throttle.failed(cache, settings, attempt)
        raise BadCredentials("wrong username or password")
    await throttle.succeeded(cache, attempt)
    return await issue_token(unit.open(), settings, user)


async def logout(session: AsyncSession, cache: Cache, principal: Principal | None, raw_token: str | None) -> None:
    """Revoke the bearer token of the request (`raw_token`, which `principal` was resolved from)."""
    PERMISSIONS.check(principal, Action.LOG_OUT)
    assert raw_token is not None  # a principal comes only from a resolved bearer token
    digest = token_hash(raw_token)
    await repository.revoke_token(session, digest, utcnow())

    async def forget() -> None:
        await cache.delete(f"token:{digest}")

    after_commit(session, forget)


async def deactivate_user(
    session: AsyncSession,
    cache: Cache,
    *,
    username: str | None = None,
    user_id: int | None = None,
    actor: Principal | None = None,
) -> User:
    """Stop an account, named by its user name or (a mini-program user has none) its id: it can no longer log in,
    and every token it holds stops working at once — revoked here and, once this commits, dropped from the token
    cache, where a resolved principal would otherwise live on for up to `TOKEN_CACHE_SECONDS`."""
    if (username is None) == (user_id is None):
        raise ValueError("name the account by exactly one of username, user_id")
    if username is not None:
        user = await repository.user_by_username(session, username)
    elif user_id is not None:
        user = await repository.user_by_id(session, user_id)
    if user is None:
        raise NotFound(f"no user {username if username is not None else user_id}", code="user_not_found")
    user.is_active = False
    revoked = await repository.revoke_tokens_of_user(session, user.id, utcnow())
    await session.flush()
    await audit.record(
        session,
        audit.AuditAction.USER_DEACTIVATED,
        actor=actor,
        region_code=await audit.region_of_user(session, user),
        subject_user_id=user.id,
        note="from the command line" if actor is None else "",
    )

    async def forget() -> None:
        await cache.delete(*(f"token:{digest}" for digest in revoked))

    after_commit(session, forget)
    return user


async def resolve_token(app: web.Application, raw: str) -> Principal | None:
    """The principal behind a bearer token, or None. Cached briefly; logout deletes the cached entry at once."""
    digest = token_hash(raw)
    cache = app[CACHE]
    cached = await cache.get(f"token:{digest}")
    if cached is not None:
        data = json.loads(cached)
        if dt.datetime.fromisoformat(data.pop("expires_at")) <= utcnow():
            return None
        data["role"] = Role(data["role"])
        return Principal(**data)
    # One statement, so no transaction around it (on PostgreSQL one round trip instead of BEGIN, SELECT, ROLLBACK):
    # a request whose token is not cached yet (every first request after a login) pays only the lookup.
    async with app[DATABASE].request_reader() as session:
        found = await repository.live_token(session, digest)
    if found is None:
        return None
    if found.expires_at <= utcnow():
        return None
    principal = principal_for(found.user, found.token_id)
    ttl = min(TOKEN_CACHE_SECONDS, int((found.expires_at - utcnow()).total_seconds()))
    if ttl > 0:
        payload = {
            "user_id": principal.user_id,
            "username": principal.username,
            "role": principal.role.value,
            "agency_id": principal.agency_id,
            "enterprise_id": principal.enterprise_id,
            "token_id": principal.token_id,
            "region_code": principal.region_code,
            "is_admin": principal.is_admin,
            "expires_at": found.expires_at.isoformat(),
        }
        await cache.set(f"token:{digest}", json.dumps(payload), ttl)
    return principal


async def is_active_user(session: AsyncSession, user_id: int) -> bool:
    """Whether the account exists and is not deactivated (an identity signed before a deactivation stops here)."""
    user = await repository.user_by_id(session, user_id)
    return user is not None and user.is_active


async def me(session: AsyncSession, principal: Principal | None) -> MeOut:
    """The signed-in user's own account."""
    acting = PERMISSIONS.check(principal, Action.READ_OWN_ACCOUNT)
    return me_of(await current_user(session, acting))


async def current_user(session: AsyncSession, principal: Principal) -> User:
    user = await repository.user_by_id(session, principal.user_id)
    if user is None:
        raise BadCredentials("this account no longer exists")
    return user


# ---------------------------------------------------------------- For other domains (WeChat)


async def find_or_create_wechat_user(session: AsyncSession, *, openid: str, unionid: str | None) -> tuple[User, bool]:
    """The user behind a mini-program openid, and whether it was created now.

    A new WeChat user gets the enterprise role with no enterprise yet (binding to an enterprise is a later step,
    done by an official); the unionid is kept when WeChat sends one.
    """
    user = await repository.user_by_openid(session, openid)
    if user is None:
        user = User(role=Role.ENTERPRISE.value, display_name="微信用户", wechat_openid=openid, wechat_unionid=unionid)
        try:
            # Added inside the savepoint: `begin_nested` flushes what is pending before it starts, so a user added
            # before it would fail outside the savepoint and leave the whole transaction unusable.
            async with session.begin_nested():
                session.add(user)
                await session.flush()
        except IntegrityError:  # the same user's first login racing in another request
            user = await repository.user_by_openid(session, openid)
            if user is None:
                raise
            return user, False
        return user, True
    if unionid and user.wechat_unionid != unionid:
        user.wechat_unionid = unionid
        await session.flush()
    return user, False


async def principal_for_openid(session: AsyncSession, openid: str) -> Principal | None:
    """The active user linked to a WeChat openid, as a principal; None for a stranger."""
    user = await repository.active_user_by_openid(session, openid)
    return None if user is None else principal_for(user)


async def principal_for_unionid(session: AsyncSession, unionid: str) -> Principal | None:
    """The active user with this WeChat unionid (the same person in our official account and mini-program)."""
    # Two found means the unionid is ambiguous: nobody, rather than the wrong person.
    users = await repository.active_users_by_unionid(session, unionid, limit=2)
    return principal_for(users[0]) if len(users) == 1 else None


async def wechat_openids(session: AsyncSession, user_ids: list[int]) -> dict[int, str]:
    """user id -> openid, for the active users among `user_ids` that have one."""
    return await repository.openids_of_users(session, user_ids)


async def enterprise_administrators(session: AsyncSession, enterprise_id: int) -> list[int]:
    """The active administrators of an enterprise: they approve its staff's binding requests."""
    return await repository.administrators_of(session, enterprise_id)


# Per transaction (`session.info`): enterprise id -> its staff's openids. One decision queues two pushes to the same
# people, and a burst of decisions under a programme's lock would otherwise look each enterprise up twice.
_ENTERPRISE_OPENIDS = "accounts.enterprise_openids"


def _openids_memo(session: AsyncSession) -> dict[int, dict[int, str]]:
    memo: dict[int, dict[int, str]] = session.info.setdefault(_ENTERPRISE_OPENIDS, {})
    return memo


async def wechat_openids_of_enterprise(session: AsyncSession, enterprise_id: int) -> dict[int, str]:
    """user id -> openid for the active staff of an enterprise who use WeChat (looked up once per transaction)."""
    memo = _openids_memo(session)
    if enterprise_id not in memo:
        memo[enterprise_id] = await repository.openids_of_enterprise_staff(session, enterprise_id)
    return dict(memo[enterprise_id])


async def prefetch_wechat_openids(session: AsyncSession, enterprise_ids: Collection[int]) -> None:
    """Look up the WeChat users of many enterprises in one query, for the pushes this transaction is about to queue
    (a batch of decisions under one lock spends its time on the batch, not on a look-up per enterprise)."""
    wanted = set(enterprise_ids) - _openids_memo(session).keys()
    if not wanted:
        return
    found = await repository.openids_of_enterprises_staff(session, wanted)
    for enterprise_id in wanted:
        _openids_memo(session)[enterprise_id] = found.get(enterprise_id, {})
