"""Two real Rasa instances sharing conversations through Redis, behind one gateway (issue 15).

Both are started exactly as `make run` starts several (`app.devrun.rasa_processes` with `RASA_URL=a,b` and
`REDIS_URL`: Redis tracker and lock stores, here under a key prefix of this test run's own). The gateway sends a
conversation to one instance only (rendezvous hashing on the sender id), so Rasa's lock store never sees one
conversation on two servers at once; when that instance dies, the other continues the same conversation from
Redis — a form half-filled, the language the user wrote in.

Needs a trained model, `.venv-rasa` and Redis (`REDIS_URL`): `make test` runs it in its PostgreSQL + Redis pass
(the embedded pass, without Redis, leaves it out like the other suites that start their own servers).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from app.devrun import rasa_processes
from app.factory import create_app
from bot.gateway import rendezvous_order
from core.auth import Role
from core.db import Database
from core.settings import Settings, load_settings
from tests.bot.test_rasa_live import MODEL, RASA_BIN, LiveRasa, free_port, joined, say, wait_for_rasa
from tests.conftest import AccountFactory
from tests.vouchers.builders import make_enterprise

Client = TestClient[Any, Any]
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not (MODEL.exists() and RASA_BIN.exists() and os.environ.get("REDIS_URL")),
    reason="needs a trained model, .venv-rasa and REDIS_URL (make test's PostgreSQL + Redis pass)",
)


class Fleet:
    def __init__(self, instances: list[LiveRasa], processes: list[subprocess.Popen[bytes]]) -> None:
        self.instances = instances
        self.processes = processes

    @property
    def urls(self) -> list[str]:
        return [rasa.url for rasa in self.instances]

    def stop(self, url: str) -> None:
        process = self.processes[self.urls.index(url)]
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    ports, actions_port = [free_port(), free_port()], free_port()
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    settings = load_settings(rasa_url=",".join(urls), port=actions_port, redis_url=os.environ["REDIS_URL"])
    prefix = f"ipatest{secrets.token_hex(4)}"  # this run's own conversations and locks in Redis
    logs = tmp_path_factory.mktemp("rasa-fleet")
    instances, processes = [], []
    try:
        for spec, port in zip(rasa_processes(settings), ports, strict=True):
            log = logs / f"{spec.name}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(  # noqa: S603 - the argv make run uses
                    spec.argv,
                    cwd=ROOT,
                    env={**os.environ, **spec.env, "RASA_REDIS_KEY_PREFIX": prefix},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            processes.append(process)
            instances.append(LiveRasa(f"http://127.0.0.1:{port}", port, settings.rasa_auth_token, actions_port))
        for rasa, process, spec in zip(instances, processes, rasa_processes(settings), strict=True):
            log = logs / f"{spec.name}.log"
            wait_for_rasa(rasa, process, log)
            assert "Falling back to use the InMemoryTrackerStore" not in log.read_text(errors="replace")
        yield Fleet(instances, processes)
    finally:
        _forget(prefix)
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def _forget(prefix: str) -> None:
    """This run's trackers and locks out of Redis (tracker db and lock db, as rasa_processes derived them)."""
    import redis

    base = os.environ["REDIS_URL"].rstrip("/")
    db = int(base.rsplit("/", 1)[1]) if base.rsplit("/", 1)[1].isdigit() else 0
    root = base.rsplit("/", 1)[0] if base.rsplit("/", 1)[1].isdigit() else base
    for number in (db, db + 1):
        client = redis.Redis.from_url(f"{root}/{number}")
        try:
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


async def test_a_conversation_stays_on_its_instance_and_the_other_takes_it_over_mid_form(
    fleet: Fleet,
    settings: Settings,
    clean: None,
    db: Database,
    make_account: AccountFactory,
    aiohttp_client: Callable[..., Awaitable[Client]],
) -> None:
    both = ",".join(fleet.urls)
    app = create_app(settings.model_copy(update={"rasa_url": both, "chat_deadline_seconds": 30.0}))
    client = await aiohttp_client(app, server_kwargs={"port": fleet.instances[0].actions_port})
    staff = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))
    sender = f"u:{staff.user_id}"
    home, other = rendezvous_order(fleet.urls, sender)

    # English first: the language travels with the message and the slot lands in the shared tracker.
    pph = joined(await say(client, staff, "can I use PPH, we got a US patent"))
    assert "PPH" in pph and "Source:" in pph, pph
    # Then the eligibility form, in Chinese: it asks its first questions.
    assert "哪一类" in joined(await say(client, staff, "我们的发明专利能走优先审查吗"))
    assert "技术领域" in joined(await say(client, staff, "发明"))

    # Its instance dies mid-form. The other one sees the conversation as its instance left it (read from Redis)...
    fleet.stop(home)
    survivor = fleet.instances[fleet.urls.index(other)]
    tracker = await tracker_of(survivor, sender)
    assert tracker["active_loop"].get("name") == "priority_eligibility_form", tracker["active_loop"]
    assert tracker["slots"]["requested_slot"] == "technical_field"
    # ... and continues the same form: the gateway moves the conversation there (refused connection → next).
    answer = joined(await say(client, staff, "做锂电池的"))
    assert "国外" in answer, answer
    answer = joined(await say(client, staff, "不是"))
    assert "实施" in answer, answer
    # The language still travels with each message there (our Rasa patches are loaded on every instance): an
    # English message mid-form is answered in English.
    english = joined(await say(client, staff, "show me my vouchers"))
    first_line = english.split("\n")[0]
    assert first_line.isascii() and any(c.isalpha() for c in first_line), english


async def tracker_of(rasa: LiveRasa, sender: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{rasa.url}/conversations/{sender}/tracker", params={"token": rasa.token}) as response,
    ):
        assert response.status == 200
        tracker: dict[str, Any] = await response.json()
    return tracker
