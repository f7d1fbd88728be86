"""The process's first-come decider: the requests waiting on a programme are decided together, each gets its own
decision once it is committed, and a failure reaches every waiting request without deciding anything."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import User
from accounts.service import principal_for
from core.auth import Role
from core.db import Database
from core.errors import ServiceUnavailable
from tests.conftest import AccountFactory
from tests.vouchers.builders import Client
from tests.vouchers.test_applications import ATTACHED, application_rows, committed, open_program, staff_of
from vouchers import applications, first_come
from vouchers.applications import Decision
from vouchers.first_come import FirstComeDecider
from vouchers.ledger import check_ledger
from vouchers.schemas import ApplicationIn

FACE = 500_000


async def submitted_applications(
    client: Client, db: Database, make_account: AccountFactory, count: int, fits: int
) -> tuple[int, list[applications.Submitted]]:
    """A first-come programme whose budget pays for `fits` vouchers, and `count` committed applications waiting."""
    official = await make_account(Role.OFFICIAL)
    program = await open_program(client, official, "fcfs", budget_fen=fits * FACE, face_value_fen=FACE)
    waiting = []
    for _ in range(count):
        who = await staff_of(make_account, db)
        async with db.transaction() as session:
            user = await session.get(User, who.user_id)
            assert user is not None
            waiting.append(
                await applications.submit(
                    session, principal_for(user), program["id"], ApplicationIn.model_validate({"documents": ATTACHED})
                )
            )
    return program["id"], waiting


class CountedBatches:
    """`decide_first_come` as the decider calls it, counting the batches (and failing the first `failures`)."""

    def __init__(self, failures: int = 0) -> None:
        self.calls = 0
        self.failures = failures

    async def __call__(
        self, session: AsyncSession, program_id: int, waiting: Collection[int]
    ) -> tuple[dict[int, Decision], int]:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("the database went away mid-batch")
        return await applications.decide_first_come(session, program_id, waiting)


async def test_requests_waiting_at_once_are_decided_in_one_batch_each_with_its_own_committed_decision(
    client: Client, db: Database, make_account: AccountFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    program_id, waiting = await submitted_applications(client, db, make_account, count=8, fits=5)
    batches = CountedBatches()
    monkeypatch.setattr(first_come, "decide_first_come", batches)
    decider = FirstComeDecider()

    answers = await asyncio.gather(*(decider.decision(db, s) for s in waiting))

    assert batches.calls == 1
    rows = {r.id: r for r in await application_rows(db)}
    assert [a.application.state for a in answers] == ["approved"] * 5 + ["waitlisted"] * 3
    for answer, submitted in zip(answers, waiting, strict=True):
        row = rows[submitted.application.id]
        assert answer.application.id == row.id and answer.application.state == row.state
        assert answer.application.voucher_id == row.voucher_id and answer.application.decided_at == row.decided_at
        assert answer.application.decision_reason == row.decision_reason
    assert len({a.application.voucher_id for a in answers[:5]}) == 5
    assert await committed(db, program_id) == (5 * FACE, 5 * FACE)
    async with db.transaction(write=False) as session:
        assert list(await check_ledger(session)) == []


async def test_the_same_application_waited_for_twice_gets_one_decision(
    client: Client, db: Database, make_account: AccountFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    program_id, (submitted,) = await submitted_applications(client, db, make_account, count=1, fits=1)
    batches = CountedBatches()
    monkeypatch.setattr(first_come, "decide_first_come", batches)
    decider = FirstComeDecider()

    first, again = await asyncio.gather(decider.decision(db, submitted), decider.decision(db, submitted))

    assert batches.calls == 1
    assert first.application.state == again.application.state == "approved"
    assert first.application.voucher_id == again.application.voucher_id is not None
    assert await committed(db, program_id) == (FACE, FACE)


async def test_a_failed_batch_reaches_every_waiting_request_decides_nothing_and_the_next_request_decides_them(
    client: Client, db: Database, make_account: AccountFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    program_id, waiting = await submitted_applications(client, db, make_account, count=3, fits=2)
    monkeypatch.setattr(first_come, "decide_first_come", CountedBatches(failures=1))
    decider = FirstComeDecider()

    failures = await asyncio.gather(*(decider.decision(db, s) for s in waiting), return_exceptions=True)

    assert all(isinstance(f, RuntimeError) for f in failures)
    assert [r.state for r in await application_rows(db)] == ["submitted"] * 3
    assert await committed(db, program_id) == (0, 2 * FACE)

    answers = await asyncio.gather(*(decider.decision(db, s) for s in waiting))  # sent again: decided now
    assert [a.application.state for a in answers] == ["approved", "approved", "waitlisted"]
    assert await committed(db, program_id) == (2 * FACE, 2 * FACE)


async def test_a_request_that_no_batch_can_decide_is_told_so_instead_of_waiting_forever(
    client: Client, db: Database, make_account: AccountFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, (submitted,) = await submitted_applications(client, db, make_account, count=1, fits=1)

    async def decides_nothing(
        session: AsyncSession, program_id: int, waiting: Collection[int]
    ) -> tuple[dict[int, Decision], int]:
        return {}, 0

    monkeypatch.setattr(first_come, "decide_first_come", decides_nothing)

    with pytest.raises(ServiceUnavailable) as refused:
        await asyncio.wait_for(FirstComeDecider().decision(db, submitted), timeout=30)
    assert refused.value.code == "decision_pending"


async def test_shutting_down_lets_a_running_batch_finish_and_stops_one_stuck_past_the_wait(
    client: Client, db: Database, make_account: AccountFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    program_id, (first,) = await submitted_applications(client, db, make_account, count=1, fits=1)
    stuck_program_id, (second,) = await submitted_applications(client, db, make_account, count=1, fits=1)
    release = asyncio.Event()

    async def waits_for_release(
        session: AsyncSession, program_id: int, waiting: Collection[int]
    ) -> tuple[dict[int, Decision], int]:
        await release.wait()
        return await applications.decide_first_come(session, program_id, waiting)

    monkeypatch.setattr(first_come, "decide_first_come", waits_for_release)
    monkeypatch.setattr(first_come, "CLOSE_WAIT_SECONDS", 0.2)
    decider = FirstComeDecider()

    request = asyncio.create_task(decider.decision(db, first))
    await asyncio.sleep(0)  # the request registers and starts the loop, which waits for the release
    closing = asyncio.create_task(decider.close())
    release.set()  # the batch finishes within the wait: the request gets its decision
    await closing
    assert (await request).application.state == "approved"

    release.clear()
    stuck = asyncio.create_task(decider.decision(db, second))
    await asyncio.sleep(0)
    await decider.close()  # the batch never finishes: stopped after the wait, the request with it
    # Stopped, not only told to stop: once `close` returns, the loop has ended and the request has its answer.
    assert stuck.done() and decider._loops == {}
    with pytest.raises(asyncio.CancelledError):
        await stuck
    assert [r.state for r in await application_rows(db)] == ["approved", "submitted"]
    assert await committed(db, program_id) == (FACE, FACE)
    assert await committed(db, stuck_program_id) == (0, FACE)


async def test_an_application_behind_more_than_a_batch_of_others_waits_for_the_following_batches(
    client: Client, db: Database, make_account: AccountFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches that decide only others' applications (submitted earlier, waited for by another process) are no
    reason to give up: the request waits until a batch reaches its application."""
    program_id, waiting = await submitted_applications(client, db, make_account, count=4, fits=2)
    batches = CountedBatches()
    monkeypatch.setattr(first_come, "decide_first_come", batches)
    monkeypatch.setattr(applications, "FIRST_COME_BATCH", 1)

    answer = await asyncio.wait_for(FirstComeDecider().decision(db, waiting[-1]), timeout=60)

    assert batches.calls == 4
    assert answer.application.state == "waitlisted"
    assert [r.state for r in await application_rows(db)] == ["approved", "approved", "waitlisted", "waitlisted"]
    assert await committed(db, program_id) == (2 * FACE, 2 * FACE)


async def test_a_failed_batch_is_logged_with_its_programme_and_an_undecidable_request_is_not(
    client: Client,
    db: Database,
    make_account: AccountFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    program_id, (submitted,) = await submitted_applications(client, db, make_account, count=1, fits=1)
    monkeypatch.setattr(first_come, "decide_first_come", CountedBatches(failures=1))
    with caplog.at_level(logging.ERROR, logger=first_come.__name__), pytest.raises(RuntimeError):
        await asyncio.wait_for(FirstComeDecider().decision(db, submitted), timeout=30)
    [failed] = [r for r in caplog.records if r.name == first_come.__name__]
    assert failed.getMessage() == f"first-come decisions of programme {program_id} failed"
    assert failed.exc_info is not None and failed.exc_info[0] is RuntimeError

    async def decides_nothing(
        session: AsyncSession, program_id: int, waiting: Collection[int]
    ) -> tuple[dict[int, Decision], int]:
        return {}, 0

    caplog.clear()
    monkeypatch.setattr(first_come, "decide_first_come", decides_nothing)
    with caplog.at_level(logging.ERROR, logger=first_come.__name__), pytest.raises(ServiceUnavailable) as refused:
        await asyncio.wait_for(FirstComeDecider().decision(db, submitted), timeout=30)
    assert refused.value.code == "decision_pending"
    assert refused.value.message == "the application could not be decided; send it again to read its state"
    assert [r for r in caplog.records if r.name == first_come.__name__] == []


async def test_the_decider_keeps_nothing_for_a_programme_once_its_requests_are_answered(
    client: Client, db: Database, make_account: AccountFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long-running process sees many programmes: once a programme's requests are answered (decided or failed),
    neither its waiting requests nor its loop are kept."""
    _, decided = await submitted_applications(client, db, make_account, count=2, fits=1)
    _, failing = await submitted_applications(client, db, make_account, count=1, fits=1)
    decider = FirstComeDecider()
    await asyncio.wait_for(asyncio.gather(*(decider.decision(db, s) for s in decided)), timeout=60)
    await asyncio.sleep(0)  # the loop's own ending, after it handed out the decisions
    assert (decider._waiting, decider._loops) == ({}, {})

    monkeypatch.setattr(first_come, "decide_first_come", CountedBatches(failures=1))
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(decider.decision(db, failing[0]), timeout=30)
    await asyncio.sleep(0)
    assert (decider._waiting, decider._loops) == ({}, {})
