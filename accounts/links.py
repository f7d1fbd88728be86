"""One person, one user: official-account followers linked to users, and one-time links that sign in or link.

WeChat gives a person a different openid in each app. The mini-program's openid is `users.wechat_openid`; the
official account's (the chat, and web authorization in the phone view) is a row of `wechat_followers`, so one user
holds both. A follower is found by that row; else — when the two apps share an Open Platform binding
(`WECHAT_UNIONID_LINKING`) — by the one active user with the same unionid; else a user is created for them (role
enterprise, no enterprise yet: the binding flow starts from there). Without unionids, a mini-program user links
the follower once with a one-time link the chat sends (`purpose="link_wechat"`).

One-time links (`sign_in_links`) are stored as the SHA-256 of a random token, live `SIGN_IN_LINK_TTL_SECONDS`
(the hand-over after web authorization: `HANDOVER_TTL`), and are used by one conditional UPDATE (`used_at IS NULL
AND expires_at > now`), so two requests with the same link never both succeed.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import CheckConstraint, ForeignKey, String, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from accounts import repository
from accounts.models import User
from accounts.service import IssuedToken, find_or_create_wechat_user, issue_token, principal_for, token_hash
from core.auth import Principal, Role
from core.db import Base, BigId, UtcDateTime, utcnow
from core.errors import Conflict, Forbidden, Unauthenticated
from core.settings import Settings

HANDOVER_TTL = 60  # web authorization → the phone view exchanging the link: one redirect away
PURPOSES = ("sign_in", "link_wechat")


class WeChatFollower(Base):
    """An official-account openid and the user it is. One openid per user (one official account)."""

    __tablename__ = "wechat_followers"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    via: Mapped[str] = mapped_column(String(16))  # "created", "openid", "unionid", "link"
    linked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class SignInLink(Base):
    """A one-time link: `sign_in` signs `user_id` in; `link_wechat` links the follower `openid` to whoever uses it."""

    __tablename__ = "sign_in_links"
    __table_args__ = (
        CheckConstraint("purpose IN ('sign_in','link_wechat')", name="purpose"),
        CheckConstraint("purpose <> 'sign_in' OR user_id IS NOT NULL", name="sign_in_has_user"),
        CheckConstraint("purpose <> 'link_wechat' OR openid IS NOT NULL", name="link_has_openid"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    openid: Mapped[str | None] = mapped_column(String(64))
    next_path: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class SignInLinkInvalid(Unauthenticated):
    code = "sign_in_link_invalid"


class FollowerLinkedElsewhere(Conflict):
    code = "wechat_follower_taken"


class AccountDisabled(Forbidden):
    code = "account_disabled"


# ---------------------------------------------------------------- followers


async def _follower_user(session: AsyncSession, openid: str) -> User | None:
    row = await session.get(WeChatFollower, openid)
    return None if row is None else await repository.user_by_id(session, row.user_id)


async def _link(session: AsyncSession, openid: str, user: User, via: str) -> bool:
    """Record openid → user; False when another request linked this openid meanwhile."""
    try:
        async with session.begin_nested():
            session.add(WeChatFollower(openid=openid, user_id=user.id, via=via))
            await session.flush()
    except IntegrityError:
        return False
    return True


async def user_for_follower(
    session: AsyncSession, *, openid: str, unionid: str | None, unionid_linking: bool
) -> tuple[User, bool]:
    """The user an official-account follower is, and whether it was created now (see the module's docstring)."""
    for _attempt in range(2):  # a concurrent first sign-in of the same person: the second round reads its row
        user = await _follower_user(session, openid)
        if user is not None:
            if unionid and not user.wechat_unionid:
                user.wechat_unionid = unionid
                await session.flush()
            return user, False
        # A user created from this very openid before followers had a table of their own.
        user = await repository.user_by_openid(session, openid)
        via = "openid"
        if user is None and unionid_linking and unionid:
            same = await repository.active_users_by_unionid(session, unionid, limit=2)
            user, via = (same[0], "unionid") if len(same) == 1 else (None, via)
        created = False
        if user is None:
            user = User(role=Role.ENTERPRISE.value, display_name="微信用户", wechat_unionid=unionid)
            session.add(user)
            await session.flush()
            created, via = True, "created"
        if await _link(session, openid, user, via):
            return user, created
        if created:
            await session.delete(user)
            await session.flush()
    raise Conflict("this WeChat follower is being linked by another request; try again", code="wechat_link_busy")


async def principal_for_follower(session: AsyncSession, openid: str) -> Principal | None:
    """The active user an official-account openid is linked to, as a principal; None for a stranger."""
    user = await _follower_user(session, openid)
    return principal_for(user) if user is not None and user.is_active else None


async def follower_openid_of(session: AsyncSession, user_id: int) -> str | None:
    return await session.scalar(select(WeChatFollower.openid).where(WeChatFollower.user_id == user_id))


async def user_for_miniprogram(
    session: AsyncSession, *, openid: str, unionid: str | None, unionid_linking: bool
) -> tuple[User, bool]:
    """The user behind a mini-program openid: with unionid linking, a follower's user with the same unionid takes
    the mini-program openid rather than a second user being created."""
    if unionid_linking and unionid and await repository.user_by_openid(session, openid) is None:
        same = await repository.active_users_by_unionid(session, unionid, limit=2)
        if len(same) == 1 and same[0].wechat_openid is None:
            try:
                # Changed inside the savepoint: `begin_nested` flushes what is pending before it starts, so a
                # change made before it would fail outside the savepoint and leave the transaction unusable.
                async with session.begin_nested():
                    same[0].wechat_openid = openid
                    await session.flush()
            except IntegrityError:  # the first login racing: fall through to find the user it made
                pass
            else:
                return same[0], False
    return await find_or_create_wechat_user(session, openid=openid, unionid=unionid)


# ---------------------------------------------------------------- one-time links


@dataclass(frozen=True, slots=True)
class SignedIn:
    issued: IssuedToken
    next_path: str


async def _new_link(session: AsyncSession, link: SignInLink, ttl: int) -> str:
    raw = secrets.token_urlsafe(32)
    link.token_hash = token_hash(raw)
    link.expires_at = utcnow() + dt.timedelta(seconds=ttl)
    session.add(link)
    await session.flush()
    return raw


async def issue_sign_in_link(session: AsyncSession, user: User, *, ttl: int, next_path: str = "") -> str:
    """A link token that signs `user` in once within `ttl` seconds."""
    return await _new_link(session, SignInLink(purpose="sign_in", user_id=user.id, next_path=next_path), ttl)


async def issue_follower_link(session: AsyncSession, openid: str, *, ttl: int) -> str:
    """A link token that links the follower `openid` to the signed-in user who uses it (once, within `ttl`)."""
    return await _new_link(session, SignInLink(purpose="link_wechat", openid=openid), ttl)


async def _use(session: AsyncSession, raw: str, purpose: str) -> SignInLink:
    now = utcnow()
    used_id = await session.scalar(
        update(SignInLink)
        .where(
            SignInLink.token_hash == token_hash(raw),
            SignInLink.purpose == purpose,
            SignInLink.used_at.is_(None),
            SignInLink.expires_at > now,
        )
        .values(used_at=now)
        .returning(SignInLink.id)
    )
    if used_id is None:
        raise SignInLinkInvalid("this link is unknown, already used or expired; ask the chat for a new one")
    link = await session.get(SignInLink, used_id)
    assert link is not None
    return link


async def sign_in_with_link(session: AsyncSession, settings: Settings, raw: str) -> SignedIn:
    """Use a sign-in link once: a bearer token for its user, and the page it was for."""
    link = await _use(session, raw, "sign_in")
    user = await repository.user_by_id(session, link.user_id or 0)
    if user is None or not user.is_active:
        raise AccountDisabled("this account is disabled")
    issued = await issue_token(session, settings, user, client="link")
    return SignedIn(issued=issued, next_path=link.next_path)


async def link_follower(session: AsyncSession, principal: Principal, raw: str) -> User:
    """Use a follower link once: the follower it names becomes the signed-in user.

    A follower already linked to this user is fine; one linked to another user moves only when that user is an
    empty one made for the follower (no user name, no mini-program openid, no enterprise), which is then
    deactivated; otherwise 409 — two real accounts are not merged here.
    """
    link = await _use(session, raw, "link_wechat")
    assert link.openid is not None
    me = await repository.user_by_id(session, principal.user_id)
    if me is None or not me.is_active:
        raise AccountDisabled("this account is disabled")
    row = await session.get(WeChatFollower, link.openid)
    if row is not None and row.user_id == me.id:
        return me
    if await follower_openid_of(session, me.id) is not None:
        raise FollowerLinkedElsewhere("this account is already linked to another official-account follower")
    if row is not None:
        holder = await repository.user_by_id(session, row.user_id)
        if holder is not None and (holder.username or holder.wechat_openid or holder.enterprise_id):
            raise FollowerLinkedElsewhere("this follower already belongs to another account")
        row.user_id, row.via, row.linked_at = me.id, "link", utcnow()
        if holder is not None:
            holder.is_active = False
        await session.flush()
        return me
    session.add(WeChatFollower(openid=link.openid, user_id=me.id, via="link"))
    await session.flush()
    return me
