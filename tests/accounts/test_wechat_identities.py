"""Who a WeChat identity is (the accounts services other domains ask): the active user behind an openid or a
unionid — nobody for a stranger, a deactivated user, or a unionid two accounts share — whether an account may still
act, and the staff of enterprises a batch of pushes will reach, looked up once for the whole batch."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from accounts import links, repository, service
from accounts.models import User
from core.auth import Role
from core.cache import MemoryCache
from core.db import Database
from core.errors import NotFound
from tests.agencies.builders import make_enterprise


async def add_user(db: Database, **fields: object) -> int:
    async with db.transaction() as session:
        user = User(role=Role.ENTERPRISE.value, display_name="微信用户", **fields)
        session.add(user)
        await session.flush()
        return user.id


async def test_an_openid_names_its_active_user_and_nobody_else(db: Database) -> None:
    alice = await add_user(db, wechat_openid="o-alice", enterprise_id=None)
    await add_user(db, wechat_openid="o-gone", is_active=False)
    async with db.transaction() as session:
        found = await service.principal_for_openid(session, "o-alice")
        assert found is not None
        assert (found.user_id, found.role, found.username) == (alice, Role.ENTERPRISE, f"wx:{alice}")
        assert await service.principal_for_openid(session, "o-gone") is None  # deactivated
        assert await service.principal_for_openid(session, "o-stranger") is None


async def test_a_unionid_names_its_one_active_user_and_nobody_when_two_share_it(db: Database) -> None:
    bob = await add_user(db, wechat_openid="o-bob", wechat_unionid="u-bob")
    await add_user(db, wechat_openid="o-bob-old", wechat_unionid="u-bob", is_active=False)
    await add_user(db, wechat_openid="o-c1", wechat_unionid="u-shared")
    await add_user(db, wechat_openid="o-c2", wechat_unionid="u-shared")
    async with db.transaction() as session:
        found = await service.principal_for_unionid(session, "u-bob")  # the deactivated namesake does not count
        assert found is not None and found.user_id == bob
        assert await service.principal_for_unionid(session, "u-shared") is None  # ambiguous: not the wrong person
        assert await service.principal_for_unionid(session, "u-nobody") is None


async def test_only_an_existing_active_account_may_still_act(db: Database) -> None:
    active = await add_user(db, wechat_openid="o-active")
    gone = await add_user(db, wechat_openid="o-deactivated", is_active=False)
    async with db.transaction() as session:
        assert await service.is_active_user(session, active) is True
        assert await service.is_active_user(session, gone) is False
        assert await service.is_active_user(session, gone + 1000) is False


async def test_a_batch_looks_up_its_enterprises_wechat_staff_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second, third = [await make_enterprise(db, name) for name in ("一号公司", "二号公司", "三号公司")]
    staff = await add_user(db, wechat_openid="o-staff-1", enterprise_id=first)
    await add_user(db, wechat_openid="o-staff-gone", enterprise_id=first, is_active=False)
    other = await add_user(db, wechat_openid="o-staff-2", enterprise_id=second)

    async def one_at_a_time(*_: object) -> dict[int, str]:
        raise AssertionError("looked up one enterprise at a time after the batch's look-up")

    async with db.transaction() as session:
        await service.prefetch_wechat_openids(session, [first, second, third])
        monkeypatch.setattr(repository, "openids_of_enterprise_staff", one_at_a_time)
        assert await service.wechat_openids_of_enterprise(session, first) == {staff: "o-staff-1"}
        assert await service.wechat_openids_of_enterprise(session, second) == {other: "o-staff-2"}
        assert await service.wechat_openids_of_enterprise(session, third) == {}  # no WeChat staff


async def test_an_enterprises_staff_requests_go_to_its_own_active_administrators(db: Database) -> None:
    mine, other = [await make_enterprise(db, name) for name in ("一号公司", "二号公司")]
    admin = await add_user(db, wechat_openid="o-admin", enterprise_id=mine, is_admin=True)
    await add_user(db, wechat_openid="o-staff", enterprise_id=mine)
    await add_user(db, wechat_openid="o-admin-gone", enterprise_id=mine, is_admin=True, is_active=False)
    await add_user(db, wechat_openid="o-admin-other", enterprise_id=other, is_admin=True)
    async with db.transaction() as session:
        assert await service.enterprise_administrators(session, mine) == [admin]


async def test_an_account_to_deactivate_is_named_exactly_one_way(db: Database) -> None:
    for names in ({}, {"username": "alice", "user_id": 1}):
        async with db.transaction() as session:
            with pytest.raises(ValueError, match=r"^name the account by exactly one of username, user_id$"):
                await service.deactivate_user(session, MemoryCache("t"), **names)  # type: ignore[arg-type]


async def test_an_unknown_account_to_deactivate_is_refused_naming_it(db: Database) -> None:
    for names, named in (({"username": "ghost"}, "ghost"), ({"user_id": 999_999}, "999999")):
        async with db.transaction() as session:
            with pytest.raises(NotFound) as refused:
                await service.deactivate_user(session, MemoryCache("t"), **names)
        assert (refused.value.status, refused.value.code, str(refused.value)) == (
            404,
            "user_not_found",
            f"no user {named}",
        )


async def test_a_first_mini_program_login_creates_an_enterprise_user_with_no_enterprise_yet(db: Database) -> None:
    async with db.transaction() as session:
        user, created = await service.find_or_create_wechat_user(session, openid="o-new", unionid="u-new")
        again, created_again = await service.find_or_create_wechat_user(session, openid="o-new", unionid=None)
        assert (created, created_again, again.id) == (True, False, user.id)
    async with db.transaction(write=False) as session:
        stored = await session.get(User, user.id)
        assert stored is not None
        assert (stored.role, stored.display_name, stored.enterprise_id, stored.username) == (
            "enterprise",
            "微信用户",
            None,
            None,
        )
        # A login without a unionid keeps the one WeChat sent before.
        assert (stored.wechat_openid, stored.wechat_unionid, stored.is_active) == ("o-new", "u-new", True)


async def test_a_unionid_wechat_sends_later_is_kept_and_a_changed_one_replaces_it(db: Database) -> None:
    user = await add_user(db, wechat_openid="o-later")
    for unionid, kept in ((None, None), ("u-first", "u-first"), (None, "u-first"), ("u-second", "u-second")):
        async with db.transaction() as session:
            found, created = await service.find_or_create_wechat_user(session, openid="o-later", unionid=unionid)
            assert (found.id, created) == (user, False)
        async with db.transaction(write=False) as session:
            stored = await session.get(User, user)
            assert stored is not None and stored.wechat_unionid == kept, unionid


def _first_openid_look_up_misses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The race, made certain: the first look-up of an openid runs before the other request committed its user
    (finds nobody), later ones see it. Returns the openids looked up, in order."""
    looked_up = repository.user_by_openid
    calls: list[str] = []

    async def before_the_other_request_committed(session: object, openid: str) -> User | None:
        calls.append(openid)
        return None if len(calls) == 1 else await looked_up(session, openid)  # type: ignore[arg-type]

    monkeypatch.setattr(repository, "user_by_openid", before_the_other_request_committed)
    return calls


async def test_a_first_login_that_loses_the_race_to_create_its_user_gets_the_winners(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    winner = await add_user(db, wechat_openid="o-racing")
    calls = _first_openid_look_up_misses(monkeypatch)
    async with db.transaction() as session:
        user, created = await service.find_or_create_wechat_user(session, openid="o-racing", unionid=None)
        assert (user.id, created, calls) == (winner, False, ["o-racing", "o-racing"])
    monkeypatch.undo()
    async with db.transaction(write=False) as session:
        assert len(list(await session.scalars(select(User).where(User.wechat_openid == "o-racing")))) == 1


async def test_a_followers_first_mini_program_login_that_loses_the_race_gets_the_winners_user(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With unionid linking, the follower's user would take the mini-program openid; a first login of that openid
    committed in another request meanwhile wins, and this one gets its user instead of a failed transaction."""
    follower = await add_user(db, wechat_unionid="u-shared", wechat_openid=None)
    winner = await add_user(db, wechat_openid="o-mini-racing")
    calls = _first_openid_look_up_misses(monkeypatch)
    async with db.transaction() as session:
        user, created = await links.user_for_miniprogram(
            session, openid="o-mini-racing", unionid="u-shared", unionid_linking=True
        )
        assert (user.id, created, calls) == (winner, False, ["o-mini-racing", "o-mini-racing"])
    monkeypatch.undo()
    async with db.transaction(write=False) as session:
        stored = await session.get(User, follower)
        assert stored is not None and stored.wechat_openid is None


async def test_the_openids_of_users_are_those_of_the_active_ones_that_use_wechat(db: Database) -> None:
    reachable = await add_user(db, wechat_openid="o-reachable")
    gone = await add_user(db, wechat_openid="o-gone-away", is_active=False)
    async with db.transaction() as session:
        without = User(role=Role.OFFICIAL.value, display_name="科员", username="no-wechat", region_code="330106")
        session.add(without)
        await session.flush()
        no_wechat = without.id
    async with db.transaction(write=False) as session:
        found = await service.wechat_openids(session, [reachable, gone, no_wechat, reachable + 1000])
        assert found == {reachable: "o-reachable"}
        assert await service.wechat_openids(session, []) == {}


async def test_an_enterprises_wechat_staff_are_looked_up_once_a_transaction(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, other = [await make_enterprise(db, name) for name in ("一号公司", "二号公司")]
    staff = await add_user(db, wechat_openid="o-mine", enterprise_id=mine)
    await add_user(db, wechat_openid="o-other", enterprise_id=other)
    looked_up = repository.openids_of_enterprise_staff
    asked: list[int] = []

    async def counting(session: object, enterprise_id: int) -> dict[int, str]:
        asked.append(enterprise_id)
        return await looked_up(session, enterprise_id)  # type: ignore[arg-type]

    monkeypatch.setattr(repository, "openids_of_enterprise_staff", counting)
    async with db.transaction() as session:
        first = await service.wechat_openids_of_enterprise(session, mine)
        first[0] = "changed by the caller"  # a copy: the memo is not the caller's to change
        assert await service.wechat_openids_of_enterprise(session, mine) == {staff: "o-mine"}
    assert asked == [mine]
