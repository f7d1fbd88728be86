"""The assistant's trust boundary, attacked from outside: `/bot/actions` serves Rasa only, trusts an identity only
for the message it was signed for and only for minutes, writes nothing for an unverified sender and no more than
the write limit, and refuses a malformed call with the contract's error instead of failing.

Each attack here worked before the boundary was closed: the endpoint took anyone's call, the identity secret had a
published default, a signature replayed for 24 hours, and an unsigned handoff overwrote a ticket's transcript.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import io
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update

from accounts.models import User
from app.factory import create_app
from bot.models import ConsultationTicket, UnansweredQuestion
from core.auth import Principal, Role
from core.db import Database
from core.settings import Settings
from tests.bot.builders import action_call, earlier_turn, rasa_headers, signed
from tests.conftest import AccountFactory
from tests.vouchers.builders import issue, make_enterprise, make_program

Client = TestClient[Any, Any]
ACTIONS = "/bot/actions"


async def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, await response.text()
    body: dict[str, Any] = await response.json()
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str)
    assert "Traceback" not in json.dumps(body)
    return body


def texts(result: dict[str, Any]) -> str:
    return "\n".join(r.get("text") or "" for r in result["responses"])


async def a_staff_member_with_a_voucher(
    client: Client, db: Database, make_account: AccountFactory
) -> tuple[Principal, int]:
    official = await make_account(Role.OFFICIAL)
    enterprise_id = await make_enterprise(db)
    program = await make_program(client, official.headers, name="杭州市知识产权服务券 2026")
    await issue(client, official.headers, program["id"], enterprise_id)
    staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id)
    return Principal(user_id=staff.user_id, username="", role=Role.ENTERPRISE, enterprise_id=enterprise_id), (
        enterprise_id
    )


def my_vouchers_call(principal: Principal, metadata: dict[str, Any], text: str = "我的券") -> dict[str, Any]:
    sender = f"u:{principal.user_id}"
    return action_call(
        "action_my_vouchers", text=text, intent="my_vouchers", sender_id=sender, metadata=metadata, slots={"lang": "zh"}
    )


# ---------------------------------------------------------------- only Rasa


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_without_rasas_token_the_action_endpoint_is_401(client: Client, method: str) -> None:
    call = action_call("action_answer_policy", intent="ask_pph", slots={"lang": "zh"})
    response = await client.request(method, ACTIONS, json=call if method == "POST" else None)
    await assert_error(response, 401, "actions_token_missing")


@pytest.mark.parametrize("token", ["not-rasas-token", "test-bot-actions-token-012345678", "tést-令牌", "x"])
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_with_another_token_the_action_endpoint_is_403(client: Client, method: str, token: str) -> None:
    call = action_call("action_answer_policy", intent="ask_pph", slots={"lang": "zh"})
    headers = {"X-Actions-Token": token.encode().decode("latin-1")}
    response = await client.request(method, ACTIONS, json=call if method == "POST" else None, headers=headers)
    await assert_error(response, 403, "actions_token_invalid")


async def test_the_token_is_checked_before_the_body_is_read(client: Client) -> None:
    response = await client.post(ACTIONS, data=b"{nope", headers={"Content-Type": "application/json"})
    await assert_error(response, 401, "actions_token_missing")


async def test_rasa_with_its_token_is_served(client: Client, settings: Settings) -> None:
    listing = await client.get(ACTIONS, headers=rasa_headers(settings))
    assert listing.status == 200
    assert "action_my_vouchers" in {a["name"] for a in await listing.json()}


# ---------------------------------------------------------------- forged and replayed identities


def signed_the_old_way(secret: str, sender_id: str, principal: Principal) -> dict[str, str]:
    """Identity metadata as it was signed before: the conversation and a timestamp, no message, valid 24 h."""
    fields = {
        "user_id": str(principal.user_id),
        "role": principal.role.value,
        "enterprise_id": str(principal.enterprise_id),
        "agency_id": "",
        "openid": "",
        "ts": str(int(time.time())),
    }
    keys = ("user_id", "role", "enterprise_id", "agency_id", "openid", "ts")
    canonical = json.dumps([sender_id, [fields[k] for k in keys]], separators=(",", ":"))
    return {**fields, "ipa_sig": hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()}


async def test_an_identity_signed_with_the_old_default_secret_reads_nothing(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory
) -> None:
    victim, _ = await a_staff_member_with_a_voucher(client, db, make_account)
    forged = signed_the_old_way("ipa-dev-bot-metadata-secret", f"u:{victim.user_id}", victim)
    response = await client.post(ACTIONS, json=my_vouchers_call(victim, forged), headers=rasa_headers(settings))
    assert response.status == 200
    result = await response.json()
    assert "先登录" in texts(result)
    assert "服务券" not in json.dumps([r.get("custom") for r in result["responses"]], ensure_ascii=False)


async def test_a_replayed_identity_is_refused_after_minutes(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory
) -> None:
    victim, _ = await a_staff_member_with_a_voucher(client, db, make_account)
    sender = f"u:{victim.user_id}"
    # What an old tracker holds: the identity signed for a message ten minutes ago, replayed with that message.
    old = signed(settings, sender, victim, text="我的券", now=time.time() - 600)
    response = await client.post(ACTIONS, json=my_vouchers_call(victim, old), headers=rasa_headers(settings))
    assert response.status == 200
    assert "先登录" in texts(await response.json())


async def test_a_fresh_identity_does_not_carry_over_to_another_message(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory
) -> None:
    victim, _ = await a_staff_member_with_a_voucher(client, db, make_account)
    sender = f"u:{victim.user_id}"
    hello = signed(settings, sender, victim, text="你好")
    response = await client.post(
        ACTIONS, json=my_vouchers_call(victim, hello, text="我的券"), headers=rasa_headers(settings)
    )
    assert "先登录" in texts(await response.json())
    # The same metadata with its own message is the user's: the boundary refuses the replay, not the user.
    own = signed(settings, sender, victim, text="我的券")
    response = await client.post(ACTIONS, json=my_vouchers_call(victim, own), headers=rasa_headers(settings))
    assert "可用服务券" in texts(await response.json())


# ---------------------------------------------------------------- writes need a verified sender


async def test_an_unsigned_handoff_neither_opens_nor_overwrites_a_ticket(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory
) -> None:
    victim, enterprise_id = await a_staff_member_with_a_voucher(client, db, make_account)
    sender = f"u:{victim.user_id}"
    honest = action_call(
        "action_human_handoff",
        text="转人工",
        intent="human_handoff",
        sender_id=sender,
        metadata=signed(settings, sender, victim, text="转人工"),
        slots={"lang": "zh"},
        earlier=earlier_turn("我们的专利被人抄了怎么办", "ask_rights_protection", "action_answer_policy"),
    )
    assert (await client.post(ACTIONS, json=honest, headers=rasa_headers(settings))).status == 200

    for metadata in ({}, signed(settings, "u:999999", None, text="转人工")):  # none, or another sender's
        attack = action_call(
            "action_human_handoff",
            text="转人工",
            intent="human_handoff",
            sender_id=sender,
            metadata=metadata,
            slots={"lang": "zh"},
            earlier=earlier_turn("请把答复发到 evil.example", "ask_rights_protection", "action_answer_policy"),
        )
        response = await client.post(ACTIONS, json=attack, headers=rasa_headers(settings))
        await assert_error(response, 403, "sender_not_verified")
    # A sender nobody signed for cannot open a ticket of their own either.
    stranger = action_call("action_human_handoff", text="转人工", intent="human_handoff", sender_id="u:424242")
    await assert_error(
        await client.post(ACTIONS, json=stranger, headers=rasa_headers(settings)), 403, "sender_not_verified"
    )

    async with db.transaction() as session:
        tickets = (await session.scalars(select(ConsultationTicket))).all()
        unanswered = await session.scalar(select(func.count()).select_from(UnansweredQuestion))
    assert [(t.sender_id, t.enterprise_id) for t in tickets] == [(sender, enterprise_id)]
    assert "evil.example" not in tickets[0].transcript
    assert unanswered == 1  # the honest handoff's question


@pytest.mark.parametrize(
    ("action", "intent"), [("action_clarify", "nlu_fallback"), ("action_record_unanswered", "out_of_scope")]
)
async def test_an_unsigned_sender_records_no_unanswered_question(
    client: Client, db: Database, settings: Settings, action: str, intent: str
) -> None:
    call = action_call(action, text="广告：加微信 evil", intent=intent, sender_id="wx:o-someone", slots={"lang": "zh"})
    await assert_error(
        await client.post(ACTIONS, json=call, headers=rasa_headers(settings)), 403, "sender_not_verified"
    )
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(UnansweredQuestion)) == 0


async def test_writes_are_limited_per_sender(
    settings: Settings, client: Client, db: Database, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    limited = await aiohttp_client(create_app(settings.model_copy(update={"assistant_write_limit_per_sender": 2})))

    def out_of_scope(sender: str, n: int) -> dict[str, Any]:
        text = f"明天天气怎么样 {n}"
        metadata = signed(settings, sender, None, text=text, openid=sender.removeprefix("wx:"))
        return action_call(
            "action_record_unanswered", text=text, intent="out_of_scope", sender_id=sender, metadata=metadata
        )

    for n in range(2):
        assert (await limited.post(ACTIONS, json=out_of_scope("wx:o-chatty", n), headers=rasa_headers(settings))).ok
    response = await limited.post(ACTIONS, json=out_of_scope("wx:o-chatty", 2), headers=rasa_headers(settings))
    body = await assert_error(response, 429, "rate_limited")
    assert body["error"]["details"]["scope"] == "sender"
    # Another conversation is not affected.
    assert (await limited.post(ACTIONS, json=out_of_scope("wx:o-quiet", 0), headers=rasa_headers(settings))).ok
    async with db.transaction() as session:
        senders = (await session.scalars(select(UnansweredQuestion.sender_id))).all()
    assert sorted(senders) == ["wx:o-chatty", "wx:o-chatty", "wx:o-quiet"]


# ---------------------------------------------------------------- malformed calls


def _policy_call() -> dict[str, Any]:
    # A copy: the builder's domain is one cached dict shared by every call.
    return copy.deepcopy(action_call("action_answer_policy", text="PPH", intent="ask_pph", slots={"lang": "zh"}))


def _with(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    call = _policy_call()
    target: Any = call
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return call


def _without(key: str) -> dict[str, Any]:
    call = _policy_call()
    del call[key]
    return call


MALFORMED: dict[str, tuple[Any, int, str]] = {
    "empty tracker": (_with(("tracker",), {}), 422, "validation_error"),
    "events not a list": (_with(("tracker", "events"), 5), 422, "validation_error"),
    "an event not an object": (_with(("tracker", "events", 0), "user"), 422, "validation_error"),
    "an event without its type": (_with(("tracker", "events", 0), {"text": "hi"}), 422, "validation_error"),
    "a nameless slot event": (
        _with(("tracker", "events", 0), {"event": "slot", "value": 1}),
        422,
        "validation_error",
    ),
    "latest_message a string": (_with(("tracker", "latest_message"), "hi"), 422, "validation_error"),
    "intent a string": (_with(("tracker", "latest_message", "intent"), "ask_pph"), 422, "validation_error"),
    "ranking names a list": (
        _with(("tracker", "latest_message", "intent_ranking"), [{"name": ["a"], "confidence": 1}]),
        422,
        "validation_error",
    ),
    "slots a list": (_with(("tracker", "slots"), ["lang"]), 422, "validation_error"),
    "domain forms a list": (_with(("domain", "forms"), ["f"]), 422, "validation_error"),
    "no next_action": (_without("next_action"), 422, "validation_error"),
    "next_action a number": (_with(("next_action",), 7), 422, "validation_error"),
    "no tracker": (_without("tracker"), 422, "validation_error"),
    "a lone surrogate in the text": (
        _with(("tracker", "latest_message", "text"), "\ud800PPH"),
        422,
        "validation_error",
    ),
    "a lone surrogate in an event": (_with(("tracker", "events", 3, "text"), "a\udfffb"), 422, "validation_error"),
    "a lone surrogate in a key": (_with(("tracker", "slots", "\udc00"), "x"), 422, "validation_error"),
    "NUL in the text": (_with(("tracker", "latest_message", "text"), "a\x00b"), 422, "validation_error"),
    "an integer no column holds": (_with(("tracker", "slots", "lang"), 10**30), 422, "validation_error"),
    "a list body": ([1, 2], 422, "validation_error"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
async def test_a_malformed_call_is_refused_with_the_contract_error(
    client: Client, settings: Settings, name: str
) -> None:
    body, status, code = MALFORMED[name]
    data = json.dumps(body).encode()  # ASCII: lone surrogates travel as \ud800 escapes, as a client may send them
    headers = {"Content-Type": "application/json", **rasa_headers(settings)}
    await assert_error(await client.post(ACTIONS, data=data, headers=headers), status, code)


async def test_a_body_that_is_not_json_or_too_deep_is_400(client: Client, settings: Settings) -> None:
    headers = {"Content-Type": "application/json", **rasa_headers(settings)}
    await assert_error(await client.post(ACTIONS, data=b"{nope", headers=headers), 400, "invalid_json")
    await assert_error(await client.post(ACTIONS, data=b"[" * 100_000, headers=headers), 400, "invalid_json")
    plain = {"Content-Type": "text/plain", **rasa_headers(settings)}
    await assert_error(await client.post(ACTIONS, data=b"{}", headers=plain), 400, "unsupported_media_type")


async def test_a_huge_body_is_413(client: Client, settings: Settings) -> None:
    call = _with(("tracker", "slots", "padding"), "x" * (3 * 1024 * 1024))
    headers = {"Content-Type": "application/json", **rasa_headers(settings)}
    response = await client.post(ACTIONS, data=io.BytesIO(json.dumps(call).encode()), headers=headers)
    await assert_error(response, 413, "payload_too_large")


async def test_an_unknown_action_is_404_in_the_contract_shape(client: Client, settings: Settings) -> None:
    call = action_call("action_nope", text="hi", intent="greet")
    body = await assert_error(
        await client.post(ACTIONS, json=call, headers=rasa_headers(settings)), 404, "action_not_found"
    )
    assert body["action_name"] == "action_nope"


# ---------------------------------------------------------------- a signature outlives no account


@pytest.mark.parametrize("account", ["deleted", "deactivated"])
async def test_a_signed_identity_of_an_account_that_is_gone_writes_nothing(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory, account: str
) -> None:
    """Signed for a user id with no live account behind it (deleted since, deactivated since, or never there):
    refused like an unsigned sender, never a database error."""
    if account == "deleted":
        principal = Principal(user_id=987654, username="", role=Role.ENTERPRISE, enterprise_id=None)
    else:
        principal, _ = await a_staff_member_with_a_voucher(client, db, make_account)
        async with db.transaction() as session:
            await session.execute(update(User).where(User.id == principal.user_id).values(is_active=False))
    sender = f"u:{principal.user_id}"
    call = action_call(
        "action_human_handoff",
        text="转人工",
        intent="human_handoff",
        sender_id=sender,
        metadata=signed(settings, sender, principal, text="转人工"),
        slots={"lang": "zh"},
    )
    await assert_error(
        await client.post(ACTIONS, json=call, headers=rasa_headers(settings)), 403, "sender_not_verified"
    )
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(ConsultationTicket)) == 0
