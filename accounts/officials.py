"""Officials' accounts, managed in the console by an administrator (an official with `is_admin`): create an
official of their region or below, list them, deactivate one (every token stops at once), reset a password.
Everyone changes their own password. Each step is in the account audit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit, repository
from accounts.audit import AuditAction
from accounts.models import User
from accounts.passwords import hash_password, verify_password
from accounts.permissions import PERMISSIONS, Action, check_admin
from accounts.schemas import NewUser, OfficialIn, OfficialOut, OfficialQuery, PasswordChangeIn, PasswordResetIn
from accounts.service import create_user, deactivate_user
from core.auth import NATIONWIDE, Principal, Role
from core.cache import Cache
from core.db import after_commit, utcnow
from core.errors import Conflict, NotFound, field_error


class OfficialNotFound(NotFound):
    code = "official_not_found"


def official_out(user: User) -> OfficialOut:
    return OfficialOut(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        region_code=user.region_code or "",
        is_admin=user.is_admin,
        is_active=user.is_active,
        created_at=user.created_at,
    )


def _region_of_new(acting: Principal, region_code: str) -> None:
    """An administrator makes officials of their own region or below, never wider."""
    if region_code == NATIONWIDE:
        if acting.region_code != NATIONWIDE:
            raise field_error("region_code", "only a national administrator makes national officials")
        return
    PERMISSIONS.check_region(acting, Action.MANAGE_OFFICIALS, region_code, "the new official")


async def create_official(session: AsyncSession, principal: Principal | None, body: OfficialIn) -> OfficialOut:
    acting = PERMISSIONS.check(principal, Action.MANAGE_OFFICIALS)
    check_admin(acting, Action.MANAGE_OFFICIALS)
    _region_of_new(acting, body.region_code)
    user = await create_user(
        session,
        NewUser(
            role=Role.OFFICIAL,
            username=body.username,
            password=body.password,
            display_name=body.display_name,
            region_code=body.region_code,
            is_admin=body.is_admin,
        ),
    )
    await audit.record(
        session,
        AuditAction.OFFICIAL_CREATED,
        actor=acting,
        region_code=body.region_code,
        subject_user_id=user.id,
        note=f"{body.username}" + (" (administrator)" if body.is_admin else ""),
    )
    return official_out(user)


async def list_officials(session: AsyncSession, principal: Principal | None, query: OfficialQuery) -> list[OfficialOut]:
    acting = PERMISSIONS.check(principal, Action.MANAGE_OFFICIALS)
    check_admin(acting, Action.MANAGE_OFFICIALS)
    scope = PERMISSIONS.scope(acting, Action.MANAGE_OFFICIALS)
    stmt = select(User).where(User.role == Role.OFFICIAL.value, scope.where(region=User.region_code))
    if not query.include_inactive:
        stmt = stmt.where(User.is_active.is_(True))
    return [official_out(u) for u in await session.scalars(stmt.order_by(User.region_code, User.id))]


async def _managed_official(session: AsyncSession, acting: Principal, user_id: int) -> User:
    check_admin(acting, Action.MANAGE_OFFICIALS)
    user = await repository.user_by_id(session, user_id)
    if user is None or user.role != Role.OFFICIAL.value:
        raise OfficialNotFound(f"no official {user_id}")
    PERMISSIONS.check_region(acting, Action.MANAGE_OFFICIALS, user.region_code, f"official {user_id}")
    return user


async def deactivate_official(
    session: AsyncSession, cache: Cache, principal: Principal | None, user_id: int
) -> OfficialOut:
    acting = PERMISSIONS.check(principal, Action.MANAGE_OFFICIALS)
    user = await _managed_official(session, acting, user_id)
    if user.id == acting.user_id:
        raise Conflict("an administrator cannot deactivate themselves", code="cannot_deactivate_self")
    if not user.is_active:
        raise Conflict(f"official {user_id} is already deactivated", code="already_deactivated")
    await deactivate_user(session, cache, user_id=user.id, actor=acting)
    return official_out(user)


async def reset_password(
    session: AsyncSession, cache: Cache, principal: Principal | None, user_id: int, body: PasswordResetIn
) -> OfficialOut:
    """A new password for an official; their tokens stop at once (they sign in with the new one)."""
    acting = PERMISSIONS.check(principal, Action.MANAGE_OFFICIALS)
    new_hash = await hash_password(body.new_password)
    user = await _managed_official(session, acting, user_id)
    if not user.is_active:
        raise Conflict(f"official {user_id} is deactivated", code="already_deactivated")
    user.password_hash = new_hash
    await _revoke_all(session, cache, user.id)
    await audit.record(
        session,
        AuditAction.PASSWORD_RESET,
        actor=acting,
        region_code=user.region_code or "",
        subject_user_id=user.id,
    )
    return official_out(user)


async def change_own_password(
    session: AsyncSession, cache: Cache, principal: Principal | None, body: PasswordChangeIn
) -> None:
    """The signed-in user's new password, given the current one; their other sessions end, this one stays."""
    acting = PERMISSIONS.check(principal, Action.CHANGE_OWN_PASSWORD)
    user = await repository.user_by_id(session, acting.user_id)
    if user is None or user.password_hash is None:
        raise Conflict("this account signs in with WeChat and has no password", code="no_password")
    if not await verify_password(user.password_hash, body.current_password):
        # 422, not 401: the session is fine, a field of the form is wrong.
        raise field_error("current_password", "the current password is wrong", code="wrong_password")
    if body.new_password == body.current_password:
        raise field_error("new_password", "choose a password different from the current one")
    user.password_hash = await hash_password(body.new_password)
    await _revoke_all(session, cache, user.id, keep=acting.token_id)
    await audit.record(
        session,
        AuditAction.PASSWORD_CHANGED,
        actor=acting,
        region_code=await audit.region_of_user(session, user),
        subject_user_id=user.id,
    )


async def _revoke_all(session: AsyncSession, cache: Cache, user_id: int, keep: int | None = None) -> None:
    revoked = await repository.revoke_tokens_of_user(session, user_id, utcnow(), keep=keep)
    await session.flush()

    async def forget() -> None:
        if revoked:
            await cache.delete(*(f"token:{digest}" for digest in revoked))

    after_commit(session, forget)
