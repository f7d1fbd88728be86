"""Follows: enterprise staff follow agencies to be told (through WeChat pushes) when a rating changes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from agencies import repository
from agencies.lookup import existing_agency
from agencies.permissions import PERMISSIONS, Action
from agencies.schemas import FollowOut, FollowsOut
from agencies.serialisers import cards
from core.auth import Principal


async def follow(session: AsyncSession, principal: Principal | None, agency_id: int) -> FollowOut:
    """Enterprise staff follow an agency (idempotent) to be told when its rating changes."""
    acting = PERMISSIONS.check(principal, Action.FOLLOW)
    await existing_agency(session, agency_id)
    await repository.add_follow(session, acting.user_id, agency_id)
    return FollowOut(agency_id=agency_id, following=True, followers=await repository.follower_count(session, agency_id))


async def unfollow(session: AsyncSession, principal: Principal | None, agency_id: int) -> None:
    acting = PERMISSIONS.check(principal, Action.FOLLOW)
    await existing_agency(session, agency_id)
    await repository.remove_follow(session, acting.user_id, agency_id)


async def my_follows(session: AsyncSession, principal: Principal | None) -> FollowsOut:
    acting = PERMISSIONS.check(principal, Action.FOLLOW)
    ids = await repository.followed_ids(session, acting.user_id)
    return FollowsOut(items=cards(await repository.cards_by_ids(session, ids)))


async def follower_user_ids(session: AsyncSession, agency_id: int) -> list[int]:
    """Users following the agency (the WeChat pushes tell them when its rating changes)."""
    return await repository.follower_user_ids(session, agency_id)
