"""Login bursts: simultaneous real HTTP requests against the failed-login throttle, the hashing pool and the
database pool (issue 14, item 4).

Verifications are counted by instrumenting `accounts.service.verify_password`, which can also hold them open to
stand in for a slow hash: while held, the test looks at what the login keeps (database connections) and at what
other requests still get. The client address is set with `X-Forwarded-For` (the test client is a trusted proxy).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher
from sqlalchemy.pool import QueuePool

from accounts import passwords, service
from app.factory import create_app
from core.auth import Role
from core.cache import make_cache
from core.db import Database
from core.settings import Settings
from core.state import DATABASE
from tests.conftest import AccountFactory

Client = TestClient[Any, Any]
TunedClient = Callable[..., Awaitable[Client]]
ATTACKER = "203.0.113.66"
OFFICE = "198.51.100.10"
BURST = 40
CROWD = 60


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # No push worker polling the database in the background: these tests read the pool's checked-out count.
    return settings.model_copy(update={"wechat_push_worker": False})


def checked_out(database: Database) -> int:
    """Connections of the database's pool in use at this moment."""
    pool = database.engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


@dataclass
class Verifications:
    """What the instrumented `verify_password` saw: how many ran, and the connections checked out as each began."""

    app: web.Application
    calls: int = 0
    waiting: int = 0
    checked_out: list[int] = field(default_factory=list)
    hold: asyncio.Event | None = None  # when given, each verification waits for it before hashing

    def restart(self, *, hold: bool = False) -> None:
        self.calls, self.checked_out = 0, []
        self.hold = asyncio.Event() if hold else None

    def pool_checked_out(self) -> int:
        return checked_out(self.app[DATABASE])


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch, app: web.Application) -> Verifications:
    record = Verifications(app)
    real = passwords.verify_password

    async def instrumented(password_hash: str | None, password: str) -> bool:
        record.calls += 1
        record.checked_out.append(record.pool_checked_out())
        if record.hold is not None:
            record.waiting += 1
            try:
                await record.hold.wait()
            finally:
                record.waiting -= 1
        return await real(password_hash, password)

    monkeypatch.setattr(service, "verify_password", instrumented)
    return record


@pytest.fixture
def tuned_client(settings: Settings, client: Client, aiohttp_client: Callable[..., Awaitable[Client]]) -> TunedClient:
    """A second app on the same database with other login settings (`client` first: the tables are emptied once)."""

    async def build(**changes: Any) -> Client:
        return await aiohttp_client(create_app(settings.model_copy(update=changes)))

    return build


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after: str | None
    body: dict[str, Any]

    @property
    def code(self) -> str | None:
        error = self.body.get("error")
        return None if error is None else str(error["code"])


async def login(client: Client, username: str, password: str, address: str) -> Answer:
    response = await client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": address},
    )
    return Answer(response.status, response.headers.get("Retry-After"), await response.json())


async def until(condition: Callable[[], bool], seconds: float) -> None:
    """Return once `condition` holds, or after `seconds` (the assertions that follow say what was expected)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.01)


async def release_when_settled(record: Verifications, answers: list[Answer], total: int) -> None:
    """Let the held verifications go once every attempt is either answered or verifying (or after 5 s)."""
    assert record.hold is not None
    await until(lambda: len(answers) + record.waiting >= total, 5.0)
    record.hold.set()


def assert_throttled(answer: Answer, scope: str | None = None) -> int:
    assert answer.status == 429, answer
    assert answer.code == "login_throttled"
    assert answer.retry_after is not None
    retry_after = int(answer.retry_after)
    assert retry_after >= 1
    assert answer.body["error"]["details"]["retry_after"] == retry_after
    if scope is not None:
        assert answer.body["error"]["details"]["scope"] == scope
    return retry_after


async def test_forty_simultaneous_wrong_passwords_from_one_address_verify_no_more_than_the_limit(
    client: Client, settings: Settings, make_account: AccountFactory, verifications: Verifications
) -> None:
    official = await make_account(Role.OFFICIAL)
    verifications.restart(hold=True)
    answers: list[Answer] = []

    async def guess(n: int) -> None:
        answers.append(await login(client, official.username, f"guess-{n}", ATTACKER))

    await asyncio.gather(release_when_settled(verifications, answers, BURST), *(guess(n) for n in range(BURST)))

    verified = verifications.calls
    assert 1 <= verified <= settings.login_max_failures
    assert sorted(answer.status for answer in answers) == [401] * verified + [429] * (BURST - verified)
    for answer in answers:
        if answer.status == 429:
            assert_throttled(answer)
    # The attacker's next try, even with the right password, is refused before anything is verified.
    assert_throttled(await login(client, official.username, official.password, ATTACKER), "user_address")
    assert verifications.calls == verified


async def test_a_right_password_from_another_address_works_while_one_address_hammers(
    client: Client, settings: Settings, make_account: AccountFactory, verifications: Verifications
) -> None:
    official = await make_account(Role.OFFICIAL)
    verifications.restart()
    first = await asyncio.gather(*(login(client, official.username, f"a{n}", ATTACKER) for n in range(BURST)))
    second, own = await asyncio.gather(
        asyncio.gather(*(login(client, official.username, f"b{n}", ATTACKER) for n in range(20))),
        login(client, official.username, official.password, OFFICE),
    )
    assert own.status == 200, own
    assert own.body["user"]["username"] == official.username
    hammering = [*first, *second]
    assert {answer.status for answer in hammering} == {401, 429}
    assert sum(answer.status == 401 for answer in hammering) <= settings.login_max_failures
    assert verifications.calls <= settings.login_max_failures + 1  # the official's own included


async def test_sixty_simultaneous_logins_hold_no_connection_and_starve_no_other_request(
    client: Client, make_account: AccountFactory, verifications: Verifications
) -> None:
    official = await make_account(Role.OFFICIAL)
    verifications.restart(hold=True)
    crowd = [asyncio.ensure_future(login(client, f"visitor{n}", "not-it", f"192.0.2.{n + 1}")) for n in range(CROWD)]
    try:
        await until(lambda: verifications.waiting == CROWD, 3.0)
        held_while_verifying = verifications.pool_checked_out()
        # An ordinary signed-in request during the burst: the test's own generous timeout, no speed asserted.
        me = await asyncio.wait_for(client.get("/api/v1/me", headers=official.headers), timeout=30)
        me_status, me_body = me.status, await me.json()
    finally:
        assert verifications.hold is not None
        verifications.hold.set()
        answers = await asyncio.gather(*crowd)
    assert me_status != 503, me_body
    assert me_status == 200, me_body
    assert me_body["username"] == official.username
    assert verifications.waiting == 0 and verifications.calls == CROWD
    assert held_while_verifying == 0, "no database connection is held while passwords are verified"
    assert [answer.status for answer in answers] == [401] * CROWD


async def test_no_database_connection_is_held_while_a_password_is_verified(
    client: Client, make_account: AccountFactory, verifications: Verifications
) -> None:
    official = await make_account(Role.OFFICIAL)
    verifications.restart()
    assert (await login(client, official.username, official.password, OFFICE)).status == 200
    assert (await login(client, official.username, "wrong", OFFICE)).status == 401
    assert (await login(client, "nobody-by-this-name", "wrong", OFFICE)).status == 401
    assert verifications.checked_out == [0, 0, 0]


@pytest.fixture
def slow_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """argon2 verifications made to take 0.2 s each, with the most that ever ran at once."""
    seen = {"running": 0, "most": 0}
    lock = threading.Lock()
    real = PasswordHasher.verify

    def slow(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        with lock:
            seen["running"] += 1
            seen["most"] = max(seen["most"], seen["running"])
        try:
            time.sleep(0.2)
            return real(self, hash, password)
        finally:
            with lock:
                seen["running"] -= 1

    monkeypatch.setattr(PasswordHasher, "verify", slow)
    yield seen


async def test_a_burst_queues_for_hashing_and_past_the_queue_bound_is_refused_at_once(
    tuned_client: TunedClient, slow_hashes: dict[str, int]
) -> None:
    client = await tuned_client(password_hash_concurrency=1, password_hash_queue_limit=2)
    answers = await asyncio.gather(*(login(client, f"visitor{n}", "not-it", f"192.0.2.{n + 1}") for n in range(12)))

    assert slow_hashes["most"] == 1, "no more hashes at once than PASSWORD_HASH_CONCURRENCY"
    statuses = [answer.status for answer in answers]
    assert set(statuses) == {401, 503}
    assert statuses.count(401) >= 3  # the one hashing and the two allowed to wait
    busy = [n for n, answer in enumerate(answers) if answer.status == 503]
    assert all(answers[n].code == "login_busy" for n in busy)
    # A login refused as busy was never judged: it did not count against its address (5 failures allowed).
    address = f"192.0.2.{busy[0] + 1}"
    later = [await login(client, f"visitor{busy[0]}", "not-it", address) for _ in range(5)]
    assert [answer.status for answer in later] == [401] * 5


async def test_wrong_passwords_from_five_addresses_do_not_lock_the_user_out(
    client: Client, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    for n in range(5):
        assert (await login(client, official.username, "guess", f"203.0.113.{n + 1}")).status == 401
    own = await login(client, official.username, official.password, OFFICE)
    assert own.status == 200, own


async def test_many_failures_for_a_name_slow_it_down_instead_of_locking_it(
    tuned_client: TunedClient, make_account: AccountFactory
) -> None:
    client = await tuned_client(login_slowdown_after=3)
    official = await make_account(Role.OFFICIAL)
    home = "198.51.100.20"
    assert (await login(client, official.username, official.password, home)).status == 200
    for n in range(4):  # three failures, then a fourth that takes the user name's first 1-s turn
        assert (await login(client, official.username, "guess", f"203.0.113.{n + 1}")).status == 401

    early = await login(client, official.username, official.password, OFFICE)
    retry_after = assert_throttled(early, "username")
    assert retry_after <= 60
    at_home = await login(client, official.username, official.password, home)
    assert at_home.status == 200, "an address the user signed in from is not slowed down"
    await asyncio.sleep(retry_after + 0.1)
    assert (await login(client, official.username, official.password, OFFICE)).status == 200, "slowed, not locked"


async def test_the_throttles_reservations_never_pass_their_limit_however_many_race(
    settings: Settings, clean: None
) -> None:
    cache = make_cache(str(settings.redis_url) if settings.redis_url else None, f"{settings.cache_prefix}:reserve")
    try:
        reservations = await asyncio.gather(*(cache.reserve([("a", 5), ("b", 0)]) for _ in range(50)))
        granted = [r for r in reservations if r.granted]
        assert sorted(r.counts for r in granted) == [(n, n) for n in range(1, 6)]
        # Full of holds only: room again as soon as one is given back.
        assert {(r.refused_by, r.seconds_left) for r in reservations if not r.granted} == {(0, 1)}
        await cache.release("a", "b")
        assert (await cache.reserve([("a", 5)])).counts == (5,)
        await cache.confirm(["a"] * 5, 60)  # five failures: full until the window ends
        full = await cache.reserve([("a", 5)])
        assert full.refused_by == 0 and 1 <= full.seconds_left <= 60
        await cache.release("never-held", "a")  # nothing held is left to give back: no counter goes below zero
        assert (await cache.reserve([("never-held", 1)])).counts == (1,)
        assert not (await cache.reserve([("b", 0), ("a", 5)])).granted
    finally:
        await cache.close()
