"""Faults survived, each on real servers with one part broken: Redis stopped mid-traffic, Rasa stopped or hung,
PostgreSQL restarted, a worker killed in the middle of a redemption burst.

Everything runs on private Redis and PostgreSQL instances (tests/support/services.py): the machine's shared
servers are never touched.
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import aiohttp

from tests.support.instruments import counting_rasa, wechat_query, wechat_text_xml
from tests.support.services import PrivatePostgres, PrivateRedis, server_command
from tests.support.stack import Stack, Traffic, running_stack
from tests.support.world import REDEEM_BODY_PRICE, expect, issue

FALLBACK_ZH = "智能助手暂时繁忙"


def reads(stack: Stack) -> list[Any]:
    world = stack.world
    enterprise = world.enterprise_own.headers
    return [
        lambda: ("GET", "/api/v1/agencies?region=330106", {}),
        lambda: ("GET", f"/api/v1/agencies/{world.agency_a}", {}),
        lambda: ("GET", "/api/v1/me", enterprise),
        lambda: ("GET", "/api/v1/me/vouchers", enterprise),
        lambda: ("GET", "/api/v1/voucher-programs", {}),
    ]


async def readiness(http: aiohttp.ClientSession) -> tuple[int, dict[str, Any]]:
    async with http.get("/readyz") as response:
        return response.status, await response.json()


async def wait_until(probe: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await probe():
            return True
        await asyncio.sleep(0.2)
    return False


async def test_redis_stopped_mid_traffic_the_api_serves_from_the_database_and_recovers(
    postgres_cluster: PrivatePostgres, redis_server: PrivateRedis, database_name: str
) -> None:
    async with running_stack(postgres_cluster, database_name, redis_url=redis_server.url) as stack:
        world, http = stack.world, stack.http
        traffic = Traffic(http, reads(stack))
        traffic.start()
        await asyncio.sleep(1.0)

        redis_server.stop()
        await asyncio.sleep(1.0)
        status, ready = await readiness(http)
        assert status == 200 and ready["checks"]["cache"]["status"] == "down", ready
        login = {"username": world.official.username, "password": world.official.password}
        for attempt in (login, {**login, "password": "wrong"}):
            refused = await http.post("/api/v1/auth/login", json=attempt)
            assert refused.status == 503, "logins are refused clearly while failed attempts cannot be counted"
            assert (await refused.json())["error"]["code"] == "login_unavailable"
        search = await http.get("/api/v1/agencies", params={"q": "安全测试"})
        assert search.status == 200 and (await search.json())["total"] >= 2
        redeemed = await http.post(
            f"/api/v1/vouchers/{world.voucher_own}/redeem",
            json={"agency_id": world.agency_a, "service_code": "invention", "price_fen": REDEEM_BODY_PRICE // 4},
            headers={**world.enterprise_own.headers, "Idempotency-Key": "during-redis-outage"},
        )
        assert redeemed.status == 201, await redeemed.text()
        chat = await http.post("/api/v1/chat", json={"text": "你好"}, headers=world.enterprise_own.headers)
        assert chat.status == 200, "chat keeps answering (rate limits skip while the cache cannot count)"
        status, text = await _wechat(http, "o-outage", 8_000_000_001)
        assert status == 200 and "<xml>" in text
        await asyncio.sleep(1.0)

        redis_server.start()

        async def cache_back() -> bool:
            code, body = await readiness(http)
            return code == 200 and body["checks"]["cache"]["status"] == "up"

        assert await wait_until(cache_back, 15), "the workers reconnect to Redis by themselves"

        async def login_back() -> bool:
            return (await http.post("/api/v1/auth/login", json=login)).status == 200

        assert await wait_until(login_back, 10)
        await asyncio.sleep(0.5)
        counts = await traffic.stop()
        assert all(key.endswith(" 200") for key in counts), counts
        assert sum(counts.values()) > 50
        assert all(worker.process and worker.process.returncode is None for worker in stack.workers)
        assert "unhandled error" not in stack.logs()


async def _wechat(http: aiohttp.ClientSession, openid: str, msg_id: int) -> tuple[int, str]:
    xml = wechat_text_xml(openid, "你好", msg_id)
    async with http.post("/wechat", params=wechat_query(), data=xml.encode()) as response:
        return response.status, await response.text()


async def test_rasa_stopped_or_hung_chat_falls_back_within_the_deadline_and_recovers(
    postgres_cluster: PrivatePostgres, redis_server: PrivateRedis, database_name: str
) -> None:
    deadline = 2.0
    async with (
        counting_rasa() as rasa,
        running_stack(
            postgres_cluster,
            database_name,
            redis_url=redis_server.url,
            rasa_url=rasa.url,
            CHAT_DEADLINE_SECONDS=str(deadline),
        ) as stack,
    ):
        headers = stack.world.enterprise_own.headers

        async def chat(text: str) -> tuple[float, str]:
            started = time.monotonic()
            response = await stack.http.post("/api/v1/chat", json={"text": text}, headers=headers)
            assert response.status == 200, await response.text()
            replies = (await response.json())["replies"]
            return time.monotonic() - started, replies[0]["text"]

        _, answered = await chat("优先审查要多久")
        assert answered.startswith("answer 1")

        await rasa.stop()  # the port closes: connection refused
        took, text = await chat("优先审查要多久")
        assert FALLBACK_ZH in text and took < 1.0, (took, text)
        status, ready = await readiness(stack.http)
        assert status == 200 and ready["checks"]["rasa"]["status"] == "down"

        await rasa.start()
        rasa.mode = "silent"  # accepts the connection, never answers
        await asyncio.sleep(5.5)  # past the gateway's cool-down after the failure
        took, text = await chat("PPH 怎么申请")
        assert FALLBACK_ZH in text and deadline - 0.2 <= took < deadline + 1.0, (took, text)

        rasa.mode = "answer"
        await asyncio.sleep(5.5)

        async def answered_again() -> bool:
            return (await chat("商标能加快吗"))[1].startswith("answer")

        assert await wait_until(answered_again, 10), "chat is answered by Rasa again once it is back"
        assert "unhandled error" not in stack.logs()


async def test_postgresql_restarted_requests_fail_fast_with_503_and_the_pool_recovers(
    postgres_cluster: PrivatePostgres, redis_server: PrivateRedis, database_name: str
) -> None:
    async with running_stack(postgres_cluster, database_name, redis_url=redis_server.url) as stack:
        world, http = stack.world, stack.http
        pid = stack.workers[0].pid
        assert (await http.get("/api/v1/me/vouchers", headers=world.enterprise_own.headers)).status == 200

        postgres_cluster.stop()
        try:
            for _ in range(5):
                started = time.monotonic()
                response = await http.get("/api/v1/me/vouchers", headers=world.enterprise_own.headers)
                took = time.monotonic() - started
                assert response.status == 503, await response.text()
                assert (await response.json())["error"]["code"] == "database_unavailable"
                assert took < 2.0, f"a request with the database down took {took:.1f} s"
            redeem = await http.post(
                f"/api/v1/vouchers/{world.voucher_own}/redeem",
                json={"agency_id": world.agency_a, "service_code": "invention", "price_fen": 100_000},
                headers={**world.enterprise_own.headers, "Idempotency-Key": "while-pg-down"},
            )
            assert redeem.status == 503
            status, ready = await readiness(http)
            assert status == 503 and ready["checks"]["database"]["status"] == "down"
        finally:
            postgres_cluster.start()

        async def back() -> bool:
            response = await http.get("/api/v1/me/vouchers", headers=world.enterprise_own.headers)
            return response.status == 200

        assert await wait_until(back, 10), "the pool reconnects without a restart"
        assert stack.workers[0].pid == pid and stack.workers[0].process is not None
        assert stack.workers[0].process.returncode is None
        retried = await http.post(
            f"/api/v1/vouchers/{world.voucher_own}/redeem",
            json={"agency_id": world.agency_a, "service_code": "invention", "price_fen": 100_000},
            headers={**world.enterprise_own.headers, "Idempotency-Key": "while-pg-down"},
        )
        assert retried.status == 201, "the refused request left nothing behind: its retry redeems"
        # Every pooled connection was replaced: a burst larger than one connection works too.
        answers = await asyncio.gather(
            *(http.get("/api/v1/me/vouchers", headers=world.enterprise_own.headers) for _ in range(30))
        )
        assert {a.status for a in answers} == {200}
    check = server_command("vouchers", "check", env={"DATABASE_URL": stack.database_url})
    assert check.returncode == 0, check.stdout + check.stderr


async def test_a_worker_killed_mid_redemption_burst_leaves_no_half_written_money(
    postgres_cluster: PrivatePostgres, redis_server: PrivateRedis, database_name: str
) -> None:
    async with running_stack(postgres_cluster, database_name, redis_url=redis_server.url, workers=2) as stack:
        world, http = stack.world, stack.http
        vouchers = await issue(http, world.official, world.program_id, *([world.enterprise_1] * 6))
        outcomes: list[str] = []
        keys = [f"burst-{n}" for n in range(160)]

        async def one(n: int, key: str) -> None:
            voucher = vouchers[n % len(vouchers)]
            try:
                async with http.post(
                    f"/api/v1/vouchers/{voucher}/redeem",
                    json={"agency_id": world.agency_a, "service_code": "invention", "price_fen": 50_000},
                    headers={**world.enterprise_own.headers, "Idempotency-Key": key},
                ) as response:
                    await response.read()
                    outcomes.append(str(response.status))
            except (aiohttp.ClientError, TimeoutError) as exc:
                outcomes.append(type(exc).__name__)

        semaphore = asyncio.Semaphore(16)

        async def limited(n: int, key: str) -> None:
            async with semaphore:
                await one(n, key)

        burst = asyncio.gather(*(limited(n, key) for n, key in enumerate(keys)))
        await asyncio.sleep(0.4)
        assert await stack.workers[0].stop(signal.SIGKILL) == -signal.SIGKILL
        await burst
        assert len(outcomes) == len(keys)
        assert set(outcomes) <= {"201", "409", "503", "ServerDisconnectedError", "ClientOSError"}, outcomes

        # Every request again with its key, now on the surviving worker: each one was applied once or not at all.
        await asyncio.gather(*(limited(n, key) for n, key in enumerate(keys)))
        assert set(outcomes[len(keys) :]) <= {"201", "409"}, outcomes[len(keys) :]
        for voucher in vouchers:
            detail = await expect(await http.get(f"/api/v1/vouchers/{voucher}", headers=world.official.headers), 200)
            spent = sum(r["amount_fen"] for r in detail["redemptions"] if r["state"] != "rejected")
            assert detail["balance_fen"] == detail["face_value_fen"] - spent, detail
    check = server_command("vouchers", "check", env={"DATABASE_URL": stack.database_url})
    assert check.returncode == 0, check.stdout + check.stderr
