"""Fuzzing `/bot/actions` (hypothesis): calls shaped like Rasa's for every registered action, each mutated at a few
random places — a value replaced by any JSON (nested, huge integers, NaN, lone surrogates, NUL), a key dropped or
added — and sent with Rasa's token to the real app on this run's database. Whatever arrives, the answer is below
500: rasa_sdk's `{"events", "responses"}`, a form slot's rejection in rasa_sdk's shape, or the contract's error.

Bounded and derandomized (`FUZZ_ACTION_EXAMPLES`, default 150), so a run takes seconds and is repeatable.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.factory import create_app
from core.auth import Principal, Role
from core.settings import load_settings
from tests.bot.builders import action_call, earlier_turn, entity, rasa_headers, signed
from tests.conftest import RUN_ID

EXAMPLES = int(os.environ.get("FUZZ_ACTION_EXAMPLES", "150"))
ENTERPRISE = Principal(user_id=1, username="", role=Role.ENTERPRISE, enterprise_id=1)
# What a text field may hold that a column, an encoder or a parser may not like.
AWKWARD_TEXT = ["\ud800", "a\udfffb", "\x00", "", " ", "/", "/human_handoff", "é" * 300, "🙂", "0" * 5000, "²"]


def _base_calls() -> list[dict[str, Any]]:
    """One realistic call per action (signed where the action reads or writes the sender; the writers are an
    anonymous follower, as no account exists here)."""
    settings_ = load_settings()

    def signed_call(action: str, text: str, intent: str, sender: str = "u:1", **more: Any) -> dict[str, Any]:
        principal = ENTERPRISE if sender == "u:1" else None
        metadata = signed(settings_, sender, principal, text=text, openid=sender.removeprefix("wx:") or None)
        return action_call(action, text=text, intent=intent, sender_id=sender, metadata=metadata, **more)

    calls = [
        action_call("action_answer_policy", text="PPH是什么", intent="ask_pph", slots={"lang": "zh"}),
        action_call(
            "action_find_agency",
            text="杭州做发明的代理所",
            intent="find_agency",
            entities=[entity("region", "330100"), entity("service_type", "invention"), entity("rating_level", "A")],
            slots={"lang": "zh"},
        ),
        action_call(
            "action_check_agency_rating",
            text="天衡信用怎么样",
            intent="check_agency_rating",
            entities=[entity("agency_name", "天衡")],
        ),
        action_call(
            "action_compare_agencies",
            text="比较天衡和西湖",
            intent="compare_agencies",
            entities=[entity("agency_name", ["天衡", "西湖"])],
        ),
        signed_call("action_my_vouchers", "我的券", "my_vouchers", slots={"lang": "zh"}),
        action_call(
            "validate_fast_track_form",
            text="发明",
            intent="inform",
            slots={"lang": "zh", "requested_slot": "application_type"},
            candidates={"application_type": "发明专利"},
            active_loop="fast_track_form",
        ),
        action_call(
            "action_fast_track_plan",
            text="没有",
            intent="deny",
            slots={"application_type": "invention", "technical_field": "new_energy", "lang": "en"},
        ),
        signed_call(
            "action_clarify",
            "加快那个",
            "nlu_fallback",
            sender="wx:o-fuzz",
            ranking=[("nlu_fallback", 0.6), ("ask_pph", 0.4)],
            earlier=earlier_turn("快的那个", "nlu_fallback", "action_clarify"),
        ),
        signed_call(
            "action_human_handoff",
            "转人工",
            "human_handoff",
            sender="wx:o-fuzz",
            earlier=earlier_turn("专利被抄了怎么办", "ask_rights_protection", "action_answer_policy"),
        ),
        signed_call("action_record_unanswered", "明天天气", "out_of_scope", sender="wx:o-fuzz"),
    ]
    for call in calls:  # the domain is one cached dict: each call gets its own, trimmed to what the actions read
        call["domain"] = {key: copy.deepcopy(call["domain"][key]) for key in ("slots", "forms", "actions")}
    return calls


BASES = _base_calls()


def _signed_now(base: dict[str, Any]) -> dict[str, Any]:
    """`base` signed now, as the gateway would send it: BASES were signed when the suite was collected, which a
    long run leaves older than the signatures' 5 minutes (`bot.identity.MAX_AGE_SECONDS`) by the time it gets here."""
    return _base_calls()[BASES.index(base)]


leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(AWKWARD_TEXT),
)
json_values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def _paths(value: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield here
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*here, index))


def _mutate(call: Any, data: st.DataObject) -> Any:
    paths = [p for p in _paths(call) if p]
    path = data.draw(st.sampled_from(paths), label="where")
    parent = call
    for key in path[:-1]:
        parent = parent[key]
    how = data.draw(st.sampled_from(["replace", "drop", "add"]), label="how")
    if how == "drop" and isinstance(parent, dict):
        del parent[path[-1]]
    elif how == "add" and isinstance(parent, dict):
        parent[data.draw(st.sampled_from([*AWKWARD_TEXT, "event", "name", "value", "metadata"]))] = data.draw(
            json_values
        )
    else:
        parent[path[-1]] = data.draw(json_values, label="value")
    return call


@dataclass
class Target:
    loop: asyncio.AbstractEventLoop
    client: TestClient[Any, Any]
    headers: dict[str, str]

    def post(self, body: bytes) -> tuple[int, Any]:
        async def send() -> tuple[int, Any]:
            response = await self.client.post("/bot/actions", data=body, headers=self.headers)
            text = await response.text()
            return response.status, json.loads(text) if text else None

        return self.loop.run_until_complete(send())


@pytest.fixture(scope="module")
def target(database_url: str) -> Iterator[Target]:
    """The app in this process, on its own event loop (hypothesis drives a synchronous test)."""
    settings_ = load_settings(
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL") or None,
        cache_prefix=f"ipa{RUN_ID}fuzz",
        rasa_url="http://127.0.0.1:9",
        wechat_api_base="http://127.0.0.1:9",
        wechat_push_worker=False,
        rate_limits=False,  # every write is exercised, not refused after the first few
    )
    loop = asyncio.new_event_loop()
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(settings_)), loop=loop)
    loop.run_until_complete(client.start_server())
    headers = {"Content-Type": "application/json", **rasa_headers(settings_)}
    try:
        yield Target(loop, client, headers)
    finally:
        loop.run_until_complete(client.close())
        loop.close()


def _answers_within_the_protocol(status: int, body: Any) -> None:
    assert status < 500, body
    if status == 200:
        assert isinstance(body, dict) and isinstance(body["events"], list) and isinstance(body["responses"], list)
        return
    assert isinstance(body, dict), body
    error = body["error"]
    if status == 400 and isinstance(error, str):  # a form slot's rejection, in rasa_sdk's shape (Rasa reads it)
        assert "action_name" in body
        return
    assert isinstance(error["code"], str) and isinstance(error["message"], str), body
    assert "Traceback" not in json.dumps(body)


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(base=st.sampled_from(BASES), mutations=st.integers(1, 3), data=st.data())
def test_every_mutated_call_is_answered_within_the_protocol(
    target: Target, caplog: pytest.LogCaptureFixture, base: dict[str, Any], mutations: int, data: st.DataObject
) -> None:
    call = _signed_now(base)
    for _ in range(mutations):
        if not isinstance(call, dict | list) or not any(True for p in _paths(call) if p):
            break
        call = _mutate(call, data)
    _stamp_fresh(call)
    with caplog.at_level(logging.ERROR):
        status, body = target.post(json.dumps(call).encode())
    _answers_within_the_protocol(status, body)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


def _stamp_fresh(call: Any) -> None:
    """Keep the base's signature's age as it was (the examples run over seconds, the window is minutes)."""
    events = call.get("tracker", {}).get("events") if isinstance(call, dict) else None
    if isinstance(events, list) and events and isinstance(events[-1], dict) and "timestamp" in events[-1]:
        events[-1]["timestamp"] = time.time()


@pytest.mark.parametrize("base", BASES, ids=lambda call: str(call["next_action"]))
def test_every_base_call_is_served(target: Target, base: dict[str, Any]) -> None:
    """The unmutated calls succeed, so the mutations start from calls that reach the actions' code."""
    status, body = target.post(json.dumps(_signed_now(base)).encode())
    assert status == 200, body
