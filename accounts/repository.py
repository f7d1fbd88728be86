"""Queries over users and bearer tokens (2.0-style); the rules about them are in `accounts.service`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import AuthToken, User
from core.cache import Cache
from core.db import after_commit, utcnow


async def user_by_id(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def user_by_username(session: AsyncSession, username: str) -> User | None:
    """The user with this name, active or not."""
    return await session.scalar(select(User).where(User.username == username))


async def username_taken(session: AsyncSession, username: str) -> bool:
    return await session.scalar(select(User.id).where(User.username == username)) is not None


async def active_user_by_username(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(User.username == username, User.is_active.is_(True)))


async def user_by_openid(session: AsyncSession, openid: str) -> User | None:
    """The user behind a WeChat openid, active or not."""
    return await session.scalar(select(User).where(User.wechat_openid == openid))


async def active_user_by_openid(session: AsyncSession, openid: str) -> User | None:
    return await session.scalar(select(User).where(User.wechat_openid == openid, User.is_active.is_(True)))


async def active_users_by_unionid(session: AsyncSession, unionid: str, limit: int) -> list[User]:
    """Up to `limit` active users with this unionid, oldest first."""
    stmt = select(User).where(User.wechat_unionid == unionid, User.is_active.is_(True)).order_by(User.id).limit(limit)
    return list((await session.scalars(stmt)).all())


async def openids_of_users(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, str]:
    """user id -> openid, for the active users among `user_ids` that have one."""
    if not user_ids:
        return {}
    rows = await session.execute(
        select(User.id, User.wechat_openid).where(
            User.id.in_(user_ids), User.wechat_openid.is_not(None), User.is_active.is_(True)
        )
    )
    return {user_id: openid for user_id, openid in rows if openid}


async def openids_of_enterprise_staff(session: AsyncSession, enterprise_id: int) -> dict[int, str]:
    """user id -> openid for the active staff of an enterprise who use WeChat."""
    rows = await session.execute(
        select(User.id, User.wechat_openid).where(
            User.enterprise_id == enterprise_id, User.wechat_openid.is_not(None), User.is_active.is_(True)
        )
    )
    return {user_id: openid for user_id, openid in rows if openid}


async def openids_of_enterprises_staff(
    session: AsyncSession, enterprise_ids: Collection[int]
) -> dict[int, dict[int, str]]:
    """enterprise id -> (user id -> openid) for the active WeChat staff of each enterprise that has any."""
    rows = await session.execute(
        select(User.enterprise_id, User.id, User.wechat_openid).where(
            User.enterprise_id.in_(set(enterprise_ids)), User.wechat_openid.is_not(None), User.is_active.is_(True)
        )
    )
    found: dict[int, dict[int, str]] = {}
    for enterprise_id, user_id, openid in rows:
        if enterprise_id is not None and openid:
            found.setdefault(enterprise_id, {})[user_id] = openid
    return found


async def administrators_of(session: AsyncSession, enterprise_id: int) -> list[int]:
    """The active administrators of an enterprise (user ids)."""
    rows = await session.scalars(
        select(User.id).where(User.enterprise_id == enterprise_id, User.is_admin.is_(True), User.is_active.is_(True))
    )
    return list(rows)


@dataclass(frozen=True, slots=True)
class TokenUser:
    """The columns of a user that make its principal."""

    id: int
    username: str | None
    role: str
    agency_id: int | None
    enterprise_id: int | None
    region_code: str | None
    is_admin: bool


@dataclass(frozen=True, slots=True)
class LiveToken:
    """An unrevoked bearer token and its active user's principal-making columns (no ORM objects: every request whose
    token is not cached yet reads this)."""

    token_id: int
    expires_at: dt.datetime
    user: TokenUser


async def live_token(session: AsyncSession, token_hash: str) -> LiveToken | None:
    """The unrevoked token with this hash and its active user (expiry is the caller's to judge)."""
    row = (
        await session.execute(
            select(
                AuthToken.id,
                AuthToken.expires_at,
                User.id,
                User.username,
                User.role,
                User.agency_id,
                User.enterprise_id,
                User.region_code,
                User.is_admin,
            )
            .join(User, User.id == AuthToken.user_id)
            .where(AuthToken.token_hash == token_hash, AuthToken.revoked_at.is_(None), User.is_active.is_(True))
        )
    ).first()
    return None if row is None else LiveToken(row[0], row[1], TokenUser(*row[2:]))


async def revoke_token(session: AsyncSession, token_hash: str, at: dt.datetime) -> None:
    await session.execute(
        update(AuthToken)
        .where(AuthToken.token_hash == token_hash, AuthToken.revoked_at.is_(None))
        .values(revoked_at=at)
    )


async def revoke_tokens_of_user(
    session: AsyncSession, user_id: int, at: dt.datetime, keep: int | None = None
) -> list[str]:
    """Revoke every unrevoked token of the user (but the token `keep`); the hashes of those revoked now."""
    live = [AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None)]
    if keep is not None:
        live.append(AuthToken.id != keep)
    hashes = list((await session.scalars(select(AuthToken.token_hash).where(*live))).all())
    if hashes:
        await session.execute(update(AuthToken).where(*live).values(revoked_at=at))
    return hashes


async def forget_cached_principals(session: AsyncSession, cache: Cache, user_id: int) -> None:
    """Once this transaction commits, drop the principal cached for each live token of the user, so the next
    request with any of them resolves the account as it is now (its enterprise, agency, region, role)."""
    hashes = list(
        (
            await session.scalars(
                select(AuthToken.token_hash).where(
                    AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None), AuthToken.expires_at > utcnow()
                )
            )
        ).all()
    )
    if not hashes:
        return

    async def forget() -> None:
        await cache.delete(*(f"token:{digest}" for digest in hashes))

    after_commit(session, forget)
