"""Two backend workers (`server.py run --reuse-port`, one port) on a private PostgreSQL and Redis: nothing that
matters lives in one process.

To send a request to "the other worker" deterministically, the test runs phases: worker 1 alone, then worker 2
alone (started before worker 1 stops, so the port never closes), then both together for concurrent bursts spread
by the kernel over both processes.

- a login made on worker 1 is honoured by worker 2; failed logins counted on both add up;
- a redemption replayed with its Idempotency-Key on worker 2 answers the first result and spends once;
  a burst of the same new key over both workers spends once;
- a WeChat message answered by worker 1 and retried at worker 2 is answered from the stored reply without asking
  the assistant again; a burst of deliveries of one message over both asks once;
- afterwards `server.py vouchers check` finds the ledger balanced;
- a search both workers answer from memory is fresh on both as soon as a write to an agency has answered.
"""

from __future__ import annotations

import asyncio
import re

import aiohttp

from bench.harness import free_port
from core.auth import Role
from tests.support.instruments import counting_rasa, wechat_query, wechat_text_xml
from tests.support.services import PrivatePostgres, PrivateRedis, Worker, prepared_database, server_command
from tests.support.world import World, build_world, create_agency, expect, real_server_accounts, redeem

KEY1 = {"Idempotency-Key": "system-key-1"}
KEY2 = {"Idempotency-Key": "system-key-2"}


def env_for(database_url: str, redis_url: str, rasa_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "RASA_URL": rasa_url,
        "CACHE_PREFIX": "system",
        "WECHAT_PUSH_WORKER": "false",
        "WECHAT_API_BASE": "http://127.0.0.1:9",
        "WECHAT_AES_KEY": "",
    }


async def balance(http: aiohttp.ClientSession, world: World, voucher_id: int) -> tuple[int, int]:
    detail = await expect(await http.get(f"/api/v1/vouchers/{voucher_id}", headers=world.official.headers), 200)
    return int(detail["balance_fen"]), len(detail["redemptions"])


def content(reply_xml: str) -> str:
    found = re.search(r"<Content><!\[CDATA\[(.*?)\]\]></Content>", reply_xml, re.S)
    assert found is not None, reply_xml
    return found.group(1)


async def fresh_connections(url: str) -> aiohttp.ClientSession:
    """Every request on a new connection, so SO_REUSEPORT spreads them over the workers."""
    return aiohttp.ClientSession(base_url=url, connector=aiohttp.TCPConnector(force_close=True))


async def post_wechat(http: aiohttp.ClientSession, xml: str, query: dict[str, str]) -> tuple[int, str]:
    async with http.post("/wechat", params=query, data=xml.encode(), headers={"Content-Type": "text/xml"}) as r:
        return r.status, await r.text()


async def test_two_workers_share_logins_idempotency_and_wechat_dedup(
    postgres_cluster: PrivatePostgres, redis_server: PrivateRedis, database_name: str
) -> None:
    database_url = prepared_database(postgres_cluster, database_name)
    async with counting_rasa() as rasa:
        env = env_for(database_url, redis_server.url, rasa.url)
        port = free_port()
        worker1 = Worker(port=port, env=env, name="worker1")
        worker2 = Worker(port=port, env=env, name="worker2")
        try:
            await worker1.start()
            async with aiohttp.ClientSession(base_url=worker1.url) as http:
                # ---------------------------------------------------------------- phase 1: worker 1 alone
                world = await build_world(http, real_server_accounts(database_url, http))
                before, _ = await balance(http, world, world.voucher_own)
                first = await redeem(http, world.enterprise_own, world.voucher_own, world.agency_a, **KEY1)
                first_body = await expect(first, 201)
                after_first, count_first = await balance(http, world, world.voucher_own)
                assert after_first < before
                for n in range(3):
                    bad = await http.post(
                        "/api/v1/auth/login", json={"username": world.official.username, "password": f"x{n}"}
                    )
                    assert bad.status == 401
                query = wechat_query()
                xml = wechat_text_xml("o-system-user", "优先审查要多久", 7_000_000_001)
                status, reply1 = await post_wechat(http, xml, query)
                assert status == 200 and "answer 1" in reply1, reply1
                assert rasa.total == 1

                # ---------------------------------------------------------------- phase 2: worker 2 alone
                await worker2.start()
                assert await worker1.stop() == 0  # a clean SIGTERM shutdown
                me = await http.get("/api/v1/me", headers=world.enterprise_own.headers)
                assert me.status == 200, "a token issued by worker 1 is honoured by worker 2"
                replay = await redeem(http, world.enterprise_own, world.voucher_own, world.agency_a, **KEY1)
                assert replay.status == 201
                assert replay.headers.get("Idempotent-Replayed") == "true"
                assert await replay.json() == first_body
                assert await balance(http, world, world.voucher_own) == (after_first, count_first)
                status, retry = await post_wechat(http, xml, query)
                assert status == 200 and content(retry) == content(reply1), (
                    "WeChat's retry at the other worker gets the same reply"
                )
                assert rasa.total == 1, "and the assistant was not asked again"
                for n in range(2):
                    bad = await http.post(
                        "/api/v1/auth/login", json={"username": world.official.username, "password": f"y{n}"}
                    )
                    assert bad.status == 401
                login = {"username": world.official.username, "password": world.official.password}
                blocked = await http.post("/api/v1/auth/login", json=login)
                assert blocked.status == 429, "failures counted on both workers add up"

            # -------------------------------------------------------------------- phase 3: both together
            await worker1.start()
            async with await fresh_connections(worker1.url) as spread:
                responses = await asyncio.gather(
                    *(
                        redeem(spread, world.enterprise_own, world.voucher_own, world.agency_a, **KEY2)
                        for _ in range(24)
                    )
                )
                statuses = sorted({r.status for r in responses})
                bodies = [await r.json() for r in responses if r.status == 201]
                assert set(statuses) <= {201, 409}, statuses
                assert bodies and all(b == bodies[0] for b in bodies)
                after_burst, count_burst = await balance(spread, world, world.voucher_own)
                assert count_burst == count_first + 1, "one key, one redemption, whichever worker answered"
                assert after_first - after_burst == bodies[0]["amount_fen"]

                burst_query = wechat_query(nonce="burst")
                burst_xml = wechat_text_xml("o-system-user", "PPH 怎么申请", 7_000_000_002)
                asked_before = rasa.total
                answers = await asyncio.gather(*(post_wechat(spread, burst_xml, burst_query) for _ in range(12)))
                assert all(status == 200 for status, _ in answers)
                assert rasa.total == asked_before + 1, "twelve deliveries of one message over two workers: asked once"
        finally:
            await worker1.stop()
            await worker2.stop()
        for worker in (worker1, worker2):
            assert "Traceback" not in worker.log_text(), worker.log_path
    check = server_command("vouchers", "check", env={"DATABASE_URL": database_url})
    assert check.returncode == 0, check.stdout + check.stderr


async def test_a_search_both_workers_keep_in_memory_is_fresh_on_both_once_a_write_answered(
    postgres_cluster: PrivatePostgres, redis_server: PrivateRedis, database_name: str
) -> None:
    database_url = prepared_database(postgres_cluster, database_name)
    env = env_for(database_url, redis_server.url, "http://127.0.0.1:9")
    port = free_port()
    workers = [Worker(port=port, env=env, name=f"search{n}") for n in (1, 2)]
    try:
        for worker in workers:
            await worker.start()
        async with await fresh_connections(workers[0].url) as spread:
            official = await real_server_accounts(database_url, spread)(Role.OFFICIAL, None, None)
            agency_id = await create_agency(spread, official)
            renamed = {"q": "近端缓存新名", "sort": "rating"}
            for round_ in range(3):
                # Spread over both workers: each computes the answer once, then serves it from its memory.
                before = await asyncio.gather(*(spread.get("/api/v1/agencies", params=renamed) for _ in range(30)))
                assert [(await expect(r, 200))["total"] for r in before] == [0] * 30
                await expect(
                    await spread.patch(
                        f"/api/v1/agencies/{agency_id}",
                        json={"name_zh": f"近端缓存新名{round_}号"},
                        headers=official.headers,
                    ),
                    200,
                )
                after = await asyncio.gather(*(spread.get("/api/v1/agencies", params=renamed) for _ in range(30)))
                assert [(await expect(r, 200))["total"] for r in after] == [1] * 30, "no worker answered stale"
                await expect(
                    await spread.patch(
                        f"/api/v1/agencies/{agency_id}",
                        json={"name_zh": "杭州另名专利代理事务所"},
                        headers=official.headers,
                    ),
                    200,
                )
    finally:
        for worker in workers:
            await worker.stop()
    for worker in workers:
        log = worker.log_text()
        assert "Traceback" not in log, worker.log_path
        assert "not confirmed by every process" not in log, "every bump was confirmed by both workers"
