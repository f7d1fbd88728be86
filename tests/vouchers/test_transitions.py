"""`vouchers.transitions` tested directly: the one function every change of a voucher, a redemption or a programme's
committed money goes through, and lazy expiry.

The routes' tests see these moves through their answers; here each guard is hit head-on (the refusal's error, its
code and details, nothing changed after it), money at its edges (a balance to zero and to the face value, the budget
to the last fen) and the audit row and event each move writes, field by field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import Principal, Role
from core.db import Database, utcnow
from core.errors import Forbidden
from core.events import EventBus, VoucherStateChanged
from tests.vouchers.builders import Client
from tests.vouchers.conftest import World
from vouchers.errors import BudgetExceeded, IllegalTransition
from vouchers.models import Redemption, Voucher, VoucherAudit, VoucherProgram
from vouchers.permissions import Action
from vouchers.states import RedemptionState, VoucherState
from vouchers.transitions import (
    effective_state,
    expire_if_due,
    expired_error,
    expiry_reason,
    materialise_expiry,
    transition,
)

V = VoucherState
EXPIRES = dt.datetime(2027, 6, 30, 16, 0, tzinfo=dt.UTC)


def official_of(w: World) -> Principal:
    return Principal(user_id=w.official.user_id, username=w.official.username, role=Role.OFFICIAL)


def enterprise_of(w: World) -> Principal:
    return Principal(
        user_id=w.enterprise.user_id,
        username=w.enterprise.username,
        role=Role.ENTERPRISE,
        enterprise_id=w.enterprise_id,
    )


def agency_of(w: World) -> Principal:
    return Principal(user_id=w.agency.user_id, username=w.agency.username, role=Role.AGENCY, agency_id=w.agency_id)


def voucher_at(state: VoucherState, expires_at: dt.datetime = EXPIRES, balance_fen: int = 300_000) -> Voucher:
    return Voucher(id=7, state=state.value, expires_at=expires_at, balance_fen=balance_fen, face_value_fen=500_000)


def listen(event_bus: EventBus) -> list[VoucherStateChanged]:
    seen: list[VoucherStateChanged] = []

    async def listener(_session: Any, event: VoucherStateChanged) -> None:
        seen.append(event)

    event_bus.subscribe(VoucherStateChanged, listener)
    return seen


async def audits(db: Database, voucher_id: int) -> list[VoucherAudit]:
    async with db.transaction(write=False) as session:
        rows = await session.scalars(
            select(VoucherAudit).where(VoucherAudit.voucher_id == voucher_id).order_by(VoucherAudit.id)
        )
        return list(rows)


ISSUED = ("issued", 500_000, "issued from programme 杭州市知识产权服务券 2026")  # the world's voucher, untouched


async def row(db: Database, voucher_id: int) -> tuple[str, int, str]:
    async with db.transaction(write=False) as session:
        voucher = await session.get(Voucher, voucher_id)
        assert voucher is not None
        return voucher.state, voucher.balance_fen, voucher.state_reason


async def committed(db: Database, program_id: int) -> int:
    async with db.transaction(write=False) as session:
        program = await session.get(VoucherProgram, program_id)
        assert program is not None
        return program.committed_fen


async def refused_in_transaction(
    db: Database, move: Callable[[AsyncSession, Voucher], Awaitable[Any]], w: World
) -> Any:
    """Run `move` on the world's voucher in a transaction that it must abort: the exception it raised."""
    with pytest.raises(Exception) as raised:  # each caller asserts the exact error
        async with db.transaction() as session:
            voucher = await session.get(Voucher, w.voucher["id"])
            assert voucher is not None
            await move(session, voucher)
    return raised.value


# ------------------------------------------------------------------------------------------------ effective_state


@pytest.mark.parametrize("state", [V.ISSUED, V.PARTIALLY_REDEEMED])
def test_a_spendable_voucher_is_expired_from_the_very_moment_of_its_expiry(state: VoucherState) -> None:
    voucher = voucher_at(state)
    assert effective_state(voucher, EXPIRES - dt.timedelta(microseconds=1)) is state
    assert effective_state(voucher, EXPIRES) is V.EXPIRED
    assert effective_state(voucher, EXPIRES + dt.timedelta(days=1)) is V.EXPIRED


def test_the_moment_given_decides_not_the_clock() -> None:
    tomorrow = utcnow() + dt.timedelta(days=1)
    assert effective_state(voucher_at(V.ISSUED, expires_at=tomorrow), tomorrow) is V.EXPIRED
    yesterday = utcnow() - dt.timedelta(days=1)
    assert effective_state(voucher_at(V.ISSUED, expires_at=yesterday), yesterday - dt.timedelta(hours=1)) is V.ISSUED


def test_without_a_moment_the_clock_decides() -> None:
    assert effective_state(voucher_at(V.ISSUED, expires_at=utcnow() - dt.timedelta(seconds=1))) is V.EXPIRED
    assert effective_state(voucher_at(V.ISSUED, expires_at=utcnow() + dt.timedelta(hours=1))) is V.ISSUED


@pytest.mark.parametrize("state", [V.REDEEMED, V.DELIVERED, V.SETTLED, V.REVOKED, V.EXPIRED])
def test_a_voucher_with_nothing_to_spend_keeps_its_state_past_its_expiry(state: VoucherState) -> None:
    assert effective_state(voucher_at(state), EXPIRES + dt.timedelta(days=30)) is state


def test_the_expiry_reason_names_the_moment_and_the_fen_that_lapsed() -> None:
    voucher = voucher_at(V.PARTIALLY_REDEEMED, balance_fen=123_457)
    assert expiry_reason(voucher) == "expired at 2027-06-30T16:00:00+00:00; the unspent 123457 fen lapsed"
    assert expiry_reason(voucher, 1) == "expired at 2027-06-30T16:00:00+00:00; the unspent 1 fen lapsed"
    assert expiry_reason(voucher, 0) == "expired at 2027-06-30T16:00:00+00:00; the unspent 0 fen lapsed"


def test_the_expired_error_is_a_409_voucher_expired_naming_the_voucher_and_its_expiry() -> None:
    error = expired_error(voucher_at(V.ISSUED))
    assert (error.status, error.code, error.voucher_id) == (409, "voucher_expired", 7)
    assert error.message == "voucher 7 expired at 2027-06-30T16:00:00+00:00"
    assert error.details == {"voucher_id": 7, "state": "expired", "expires_at": "2027-06-30T16:00:00+00:00"}


# ------------------------------------------------------------------------------------------------ transition


async def test_a_move_writes_the_voucher_its_audit_row_and_its_event(
    world: World, db: Database, event_bus: EventBus
) -> None:
    seen = listen(event_bus)
    program_id = world.program["id"]
    before = await committed(db, program_id)
    moment = utcnow() - dt.timedelta(minutes=5)
    async with db.transaction() as session:
        voucher = await session.get(Voucher, world.voucher["id"])
        program = await session.get(VoucherProgram, program_id)
        assert voucher is not None and program is not None
        audit = await transition(
            session,
            official_of(world),
            Action.REVOKE,
            voucher,
            to=V.REVOKED,
            program=program,
            program_delta=-500_000,
            reason="the enterprise closed",
            state_reason="closed",
            now=moment,
        )
        assert voucher.updated_at == moment
    assert await row(db, world.voucher["id"]) == ("revoked", 500_000, "closed")
    assert await committed(db, program_id) == before - 500_000
    (_issued, stored) = await audits(db, world.voucher["id"])
    assert stored.id == audit.id
    got = {k: getattr(stored, k) for k in FIELDS}
    assert got == {
        "program_id": program_id,
        "voucher_id": world.voucher["id"],
        "redemption_id": None,
        "action": "revoke",
        "from_state": "issued",
        "to_state": "revoked",
        "redemption_from": None,
        "redemption_to": None,
        "amount_fen": 0,
        "balance_delta_fen": 0,
        "balance_after_fen": 500_000,
        "program_delta_fen": -500_000,
        "actor_user_id": world.official.user_id,
        "actor_role": "official",
        "reason": "the enterprise closed",
        "created_at": moment,
    }
    assert [(e.voucher_id, e.enterprise_id, e.old_state, e.new_state, e.balance_fen) for e in seen] == [
        (world.voucher["id"], world.enterprise_id, "issued", "revoked", 500_000)
    ]
    assert seen[0].expires_at == dt.datetime.fromisoformat(world.voucher["expires_at"])


FIELDS = (
    "program_id",
    "voucher_id",
    "redemption_id",
    "action",
    "from_state",
    "to_state",
    "redemption_from",
    "redemption_to",
    "amount_fen",
    "balance_delta_fen",
    "balance_after_fen",
    "program_delta_fen",
    "actor_user_id",
    "actor_role",
    "reason",
    "created_at",
)


async def test_a_move_of_a_redemption_records_both_machines_and_no_event_when_the_voucher_stays(
    client: Client, world: World, db: Database, event_bus: EventBus
) -> None:
    response = await client.post(
        f"/api/v1/vouchers/{world.voucher['id']}/redeem",
        json={"agency_id": world.agency_id, "service_code": "invention", "price_fen": 100_000},
        headers=world.enterprise.headers,
    )
    assert response.status == 201, await response.text()
    redemption_id = (await response.json())["id"]
    redeemed = await row(db, world.voucher["id"])
    assert redeemed[:2] == ("partially_redeemed", 440_000)
    seen = listen(event_bus)
    before = utcnow()
    async with db.transaction() as session:
        voucher = await session.get(Voucher, world.voucher["id"])
        redemption = await session.get(Redemption, redemption_id)
        assert voucher is not None and redemption is not None
        audit = await transition(
            session, agency_of(world), Action.CONFIRM, voucher, to=V.PARTIALLY_REDEEMED, redemption=redemption
        )
        assert redemption.state == "delivered"
    assert seen == []  # the voucher stayed partially redeemed
    stored = (await audits(db, world.voucher["id"]))[-1]
    assert stored.id == audit.id
    assert (stored.redemption_id, stored.redemption_from, stored.redemption_to) == (
        redemption_id,
        "pending",
        "delivered",
    )
    assert (stored.from_state, stored.to_state, stored.action) == (
        "partially_redeemed",
        "partially_redeemed",
        "confirm",
    )
    assert (stored.amount_fen, stored.balance_delta_fen, stored.program_delta_fen) == (0, 0, 0)
    assert (stored.balance_after_fen, stored.actor_role, stored.actor_user_id) == (
        440_000,
        "agency",
        world.agency.user_id,
    )
    assert stored.reason == ""
    assert before <= stored.created_at <= utcnow()  # no moment given: now
    assert await row(db, world.voucher["id"]) == redeemed

    async def again(session: AsyncSession, voucher: Voucher) -> Any:
        redemption = await session.get(Redemption, redemption_id)
        return await transition(
            session, agency_of(world), Action.CONFIRM, voucher, to=V.PARTIALLY_REDEEMED, redemption=redemption
        )

    error = await refused_in_transaction(db, again, world)
    assert isinstance(error, IllegalTransition)
    assert (error.status, error.code) == (409, "illegal_transition")
    assert error.message == "cannot confirm a redemption that is delivered"
    assert error.details == {"redemption_id": redemption_id, "state": RedemptionState.DELIVERED, "action": "confirm"}


async def test_a_move_without_an_actor_is_only_for_the_system_and_is_recorded_as_the_system(
    world: World, db: Database
) -> None:
    async def revoke_by_nobody(session: AsyncSession, voucher: Voucher) -> Any:
        return await transition(session, None, Action.REVOKE, voucher, to=V.REVOKED)

    error = await refused_in_transaction(db, revoke_by_nobody, world)
    assert isinstance(error, AssertionError)
    assert str(error) == "only expiry and an automatic approval's issue may happen without an actor"
    assert await row(db, world.voucher["id"]) == ISSUED
    async with db.transaction() as session:
        voucher = await session.get(Voucher, world.voucher["id"])
        assert voucher is not None
        await transition(session, None, Action.EXPIRE, voucher, to=V.EXPIRED, amount=500_000)
    stored = (await audits(db, world.voucher["id"]))[-1]
    assert (stored.actor_user_id, stored.actor_role, stored.amount_fen) == (None, "system", 500_000)


async def test_the_actors_role_is_checked_before_anything_moves(world: World, db: Database) -> None:
    async def revoke_as_agency(session: AsyncSession, voucher: Voucher) -> Any:
        return await transition(session, agency_of(world), Action.REVOKE, voucher, to=V.REVOKED)

    error = await refused_in_transaction(db, revoke_as_agency, world)
    assert isinstance(error, Forbidden)
    assert (error.status, error.code) == (403, "forbidden")
    assert await row(db, world.voucher["id"]) == ISSUED
    assert [a.action for a in await audits(db, world.voucher["id"])] == ["issue"]


@pytest.mark.parametrize(
    ("actor", "action", "to", "message", "state"),
    [
        (enterprise_of, Action.REDEEM, V.ISSUED, "cannot redeem a voucher that is issued", "issued"),
        (official_of, Action.SETTLE, V.SETTLED, "cannot settle a voucher that is issued", "issued"),
        (official_of, Action.ISSUE, V.REDEEMED, "cannot issue a voucher that is not issued", None),
    ],
)
async def test_a_move_the_table_does_not_allow_is_409_naming_the_state_and_nothing_changes(
    world: World,
    db: Database,
    actor: Callable[[World], Principal],
    action: Action,
    to: VoucherState,
    message: str,
    state: str | None,
) -> None:
    async def move(session: AsyncSession, voucher: Voucher) -> Any:
        return await transition(session, actor(world), action, voucher, to=to, balance_delta=-1)

    error = await refused_in_transaction(db, move, world)
    assert isinstance(error, IllegalTransition)
    assert (error.status, error.code, error.message) == (409, "illegal_transition", message)
    assert error.details == {"voucher_id": world.voucher["id"], "state": state, "action": action.value}
    assert await row(db, world.voucher["id"]) == ISSUED


@pytest.mark.parametrize(("delta", "after"), [(-500_000, 0), (-1, 499_999)])
async def test_the_balance_may_go_to_the_last_fen(world: World, db: Database, delta: int, after: int) -> None:
    async with db.transaction() as session:
        voucher = await session.get(Voucher, world.voucher["id"])
        assert voucher is not None
        await transition(session, official_of(world), Action.REVOKE, voucher, to=V.REVOKED, balance_delta=delta)
    assert (await row(db, world.voucher["id"]))[:2] == ("revoked", after)
    assert (await audits(db, world.voucher["id"]))[-1].balance_after_fen == after


@pytest.mark.parametrize("delta", [-500_001, 1])
async def test_a_balance_below_zero_or_above_the_face_value_is_409_and_nothing_changes(
    world: World, db: Database, delta: int
) -> None:
    async def move(session: AsyncSession, voucher: Voucher) -> Any:
        return await transition(session, official_of(world), Action.REVOKE, voucher, to=V.REVOKED, balance_delta=delta)

    error = await refused_in_transaction(db, move, world)
    assert isinstance(error, IllegalTransition)
    assert (error.status, error.code) == (409, "illegal_transition")
    assert error.message == "that would take the voucher's balance out of range"
    assert error.details == {"voucher_id": world.voucher["id"], "state": "issued", "balance_fen": 500_000}
    assert await row(db, world.voucher["id"]) == ISSUED


async def test_the_budget_may_be_committed_to_the_last_fen_and_not_one_more(world: World, db: Database) -> None:
    program_id = world.program["id"]
    used = await committed(db, program_id)
    budget = world.program["budget_fen"]

    async def commit(extra: int) -> None:
        async with db.transaction() as session:
            voucher = await session.get(Voucher, world.voucher["id"])
            program = await session.get(VoucherProgram, program_id)
            assert voucher is not None and program is not None
            await transition(
                session, official_of(world), Action.REVOKE, voucher, to=V.REVOKED, program=program, program_delta=extra
            )

    with pytest.raises(BudgetExceeded) as raised:
        await commit(budget - used + 1)
    assert (raised.value.status, raised.value.code) == (409, "budget_exceeded")
    assert raised.value.message == "that would exceed the programme's budget"
    assert raised.value.details == {"budget_fen": budget, "remaining_fen": budget - used}
    assert await committed(db, program_id) == used
    assert await row(db, world.voucher["id"]) == ISSUED
    await commit(budget - used)
    assert await committed(db, program_id) == budget
    assert (await audits(db, world.voucher["id"]))[-1].program_delta_fen == budget - used


async def test_money_moves_only_in_the_vouchers_own_programme(world: World, db: Database) -> None:
    async def move(session: AsyncSession, voucher: Voucher) -> Any:
        other = VoucherProgram(id=voucher.program_id + 1, budget_fen=10**9, committed_fen=10)  # money to give back
        return await transition(
            session, official_of(world), Action.REVOKE, voucher, to=V.REVOKED, program=other, program_delta=-1
        )

    assert isinstance(await refused_in_transaction(db, move, world), AssertionError)
    assert await row(db, world.voucher["id"]) == ISSUED


async def test_a_move_without_a_state_reason_keeps_the_one_the_voucher_has(world: World, db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(update(Voucher).where(Voucher.id == world.voucher["id"]).values(state_reason="earlier"))
    async with db.transaction() as session:
        voucher = await session.get(Voucher, world.voucher["id"])
        assert voucher is not None
        await transition(session, official_of(world), Action.REVOKE, voucher, to=V.REVOKED, reason="why")
    assert await row(db, world.voucher["id"]) == ("revoked", 500_000, "earlier")
    assert (await audits(db, world.voucher["id"]))[-1].reason == "why"


async def test_a_caller_that_writes_the_rows_itself_gets_the_audit_row_and_the_session_gets_none(
    world: World, db: Database, event_bus: EventBus
) -> None:
    written: list[VoucherAudit] = []
    seen = listen(event_bus)

    async def write(audit: VoucherAudit) -> None:
        assert seen == []  # written before the event is published
        written.append(audit)

    async with db.transaction() as session:
        voucher = await session.get(Voucher, world.voucher["id"])
        assert voucher is not None
        audit = await transition(session, official_of(world), Action.REVOKE, voucher, to=V.REVOKED, write=write)
        assert written == [audit]
        assert audit not in session.new
    assert [e.new_state for e in seen] == ["revoked"]
    assert [a.action for a in await audits(db, world.voucher["id"])] == ["issue"]  # nobody wrote it


async def test_a_new_voucher_gets_its_id_before_its_audit_row_and_its_event_says_it_was_nothing(
    world: World, db: Database, event_bus: EventBus
) -> None:
    seen = listen(event_bus)
    async with db.transaction() as session:
        voucher = Voucher(
            program_id=world.program["id"],
            enterprise_id=world.enterprise_id,
            face_value_fen=1,
            balance_fen=1,
            expires_at=EXPIRES,
        )
        session.add(voucher)
        audit = await transition(session, official_of(world), Action.ISSUE, voucher, to=V.ISSUED)
        assert voucher.id is not None and audit.voucher_id == voucher.id
        assert (audit.from_state, audit.to_state, audit.balance_after_fen) == (None, "issued", 1)

        async def write(_audit: VoucherAudit) -> None:
            raise AssertionError("not to be called")

        unsaved = Voucher(
            program_id=world.program["id"], enterprise_id=world.enterprise_id, face_value_fen=1, balance_fen=1
        )
        with pytest.raises(AssertionError) as raised:
            await transition(session, official_of(world), Action.ISSUE, unsaved, to=V.ISSUED, write=write)
        assert str(raised.value) == "a caller that writes the rows itself gives them their ids"
    assert [(e.voucher_id, e.old_state, e.new_state, e.balance_fen) for e in seen] == [(voucher.id, "", "issued", 1)]


# ------------------------------------------------------------------------------------------------ expiry


async def overdue(db: Database, voucher_id: int) -> dt.datetime:
    """Move the voucher's expiry an hour into the past; the moment it now expired at."""
    expired_at = utcnow().replace(microsecond=0) - dt.timedelta(hours=1)
    async with db.transaction() as session:
        await session.execute(update(Voucher).where(Voucher.id == voucher_id).values(expires_at=expired_at))
    return expired_at


async def test_an_overdue_voucher_expires_with_its_balance_lapsing_as_the_system(
    world: World, db: Database, event_bus: EventBus
) -> None:
    seen = listen(event_bus)
    expired_at = await overdue(db, world.voucher["id"])
    reason = f"expired at {expired_at.isoformat()}; the unspent 500000 fen lapsed"
    async with db.transaction() as session:
        voucher = await session.get(Voucher, world.voucher["id"])
        assert voucher is not None
        assert await expire_if_due(session, None, voucher, expired_at) is True  # due at the very moment
    assert await row(db, world.voucher["id"]) == ("expired", 500_000, reason)
    stored = (await audits(db, world.voucher["id"]))[-1]
    assert (stored.action, stored.from_state, stored.to_state, stored.amount_fen) == (
        "expire",
        "issued",
        "expired",
        500_000,
    )
    assert (stored.balance_delta_fen, stored.balance_after_fen, stored.program_delta_fen) == (0, 500_000, 0)
    assert (stored.actor_role, stored.actor_user_id, stored.reason, stored.created_at) == (
        "system",
        None,
        reason,
        expired_at,
    )
    assert [(e.old_state, e.new_state) for e in seen] == [("issued", "expired")]
    async with db.transaction() as session:  # expired already: says so, writes nothing
        voucher = await session.get(Voucher, world.voucher["id"])
        assert voucher is not None
        assert await expire_if_due(session, None, voucher, expired_at + dt.timedelta(days=1)) is True
    assert len(await audits(db, world.voucher["id"])) == 2


async def test_a_voucher_not_yet_due_does_not_expire(world: World, db: Database) -> None:
    async with db.transaction() as session:
        voucher = await session.get(Voucher, world.voucher["id"])
        assert voucher is not None
        assert await expire_if_due(session, None, voucher, voucher.expires_at - dt.timedelta(seconds=1)) is False
    assert await row(db, world.voucher["id"]) == ISSUED
    assert len(await audits(db, world.voucher["id"])) == 1


async def test_materialising_the_expiry_records_it_once_and_leaves_other_vouchers_alone(
    world: World, db: Database
) -> None:
    await materialise_expiry(db, world.voucher["id"])  # not due: nothing
    assert await row(db, world.voucher["id"]) == ISSUED
    expired_at = await overdue(db, world.voucher["id"])
    before = utcnow()
    await materialise_expiry(db, world.voucher["id"])
    await materialise_expiry(db, world.voucher["id"])
    await materialise_expiry(db, world.voucher["id"] + 1000)  # no such voucher: nothing
    state, balance, reason = await row(db, world.voucher["id"])
    assert (state, balance) == ("expired", 500_000)
    assert reason == f"expired at {expired_at.isoformat()}; the unspent 500000 fen lapsed"
    expiries = [a for a in await audits(db, world.voucher["id"]) if a.action == "expire"]
    assert len(expiries) == 1
    assert (expiries[0].actor_role, expiries[0].amount_fen) == ("system", 500_000)
    assert before <= expiries[0].created_at <= utcnow()
    async with db.transaction(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(VoucherAudit)) == 2


async def test_a_programme_never_gets_back_more_than_it_committed(world: World, db: Database) -> None:
    used = await committed(db, world.program["id"])

    async def give_back_too_much(session: AsyncSession, voucher: Voucher) -> Any:
        program = await session.get(VoucherProgram, voucher.program_id)
        return await transition(
            session, official_of(world), Action.REVOKE, voucher, to=V.REVOKED, program=program, program_delta=-used - 1
        )

    error = await refused_in_transaction(db, give_back_too_much, world)
    assert isinstance(error, AssertionError)
    assert str(error) == "a program cannot get back more than it committed"
    assert await committed(db, world.program["id"]) == used
    assert await row(db, world.voucher["id"]) == ISSUED


async def test_expiry_is_due_at_the_moment_given_not_by_the_clock(world: World, db: Database) -> None:
    async with db.transaction() as session:
        voucher = await session.get(Voucher, world.voucher["id"])
        assert voucher is not None
        expires_at = voucher.expires_at
        assert expires_at > utcnow()  # not due by the clock
        assert await expire_if_due(session, None, voucher, expires_at) is True
    assert (await row(db, world.voucher["id"]))[0] == "expired"
    assert (await audits(db, world.voucher["id"]))[-1].created_at == expires_at
