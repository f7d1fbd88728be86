"""Our Rasa speed-ups (`bot/rasa_patches.py`) where they touch what Rasa stores: the Redis tracker store keeps the
current session and writes without reading first, and Rasa sees the same tracker as with its own store.

The store is checked in Rasa's own Python (`.venv-rasa`, as `rasa run` loads the patches) against a private Redis:
a conversation of two sessions saved by Rasa's own store, then retrieved by Rasa's and by ours. A missing
`.venv-rasa` fails the test: that is a broken setup (`make -f mk/rasa.mk rasa-venv`), not a reason to skip.
"""

from __future__ import annotations

from typing import Any

from bot.rasa_patches import current_session_dicts, session_start
from tests.support.rasa_venv import run_in_rasa_venv
from tests.support.services import private_redis


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name, "timestamp": 1.0}


def test_the_current_session_begins_at_the_last_session_start() -> None:
    first = [action("action_session_start"), {"event": "session_started"}, action("action_listen")]
    second = [action("action_session_start"), {"event": "session_started"}, {"event": "slot", "name": "lang"}]
    said = [{"event": "user", "text": "你好"}, action("utter_greet"), action("action_listen")]
    assert current_session_dicts(first + said + second + said) == second + said
    assert current_session_dicts(first + said) == first + said
    # A tracker that never started a session (events posted through the HTTP API) is kept whole.
    assert current_session_dicts(said) == said
    assert current_session_dicts([]) == []
    assert session_start([3, 1, 4, 1, 5], lambda n: n == 1) == 3


RASA_SIDE = """
import asyncio, json, sys
from bot import rasa_patches
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

DOMAIN = Domain.from_dict({
    "slots": {"lang": {"type": "text", "mappings": [{"type": "custom"}]}},
    "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
})


class Counting:
    def __init__(self, red):
        self.red, self.calls = red, []

    def __getattr__(self, name):
        self.calls.append(name)
        return getattr(self.red, name)


def session(texts, lang=None):
    events = [ActionExecuted("action_session_start"), SessionStarted()]
    events += [SlotSet("lang", lang)] if lang else []
    events.append(ActionExecuted("action_listen"))
    for text in texts:
        events += [UserUttered(text, {"name": "greet", "confidence": 1.0}), ActionExecuted("utter_greet")]
        events.append(ActionExecuted("action_listen"))
    return events


def seen(tracker):
    return {"events": [e.as_dict() for e in tracker.events], "lang": tracker.get_slot("lang")}


async def main():
    store = RedisTrackerStore(DOMAIN, port=int(sys.argv[1]), key_prefix="patchtest", record_exp=60)
    old = session(["你好", "hello"]) + [SlotSet("lang", "en")]
    tracker = DialogueStateTracker.from_events("u:1", old + session(["thanks"], lang="en"), DOMAIN.slots)
    await store.save(tracker)  # Rasa's own store: every session
    stock = seen(await store.retrieve("u:1"))
    stored_before = json.loads(store.red.get("patchtest:tracker:u:1"))["events"]

    rasa_patches.patch_redis_tracker_store(RedisTrackerStore, Dialogue, ActionExecuted)
    current = await store.retrieve("u:1")
    ours = seen(current)
    current.update(UserUttered("more", {"name": "greet", "confidence": 1.0}))
    store.red = Counting(store.red)
    await store.save(current)
    calls = list(store.red.calls)
    stored_after = json.loads(store.red.red.get("patchtest:tracker:u:1"))["events"]
    ttl = store.red.red.ttl("patchtest:tracker:u:1")
    again = seen(await store.retrieve("u:1"))
    full = seen(await store.retrieve_full_tracker("u:1"))
    print(json.dumps({"stock": stock, "ours": ours, "stored_before": stored_before, "calls": calls,
                      "stored_after": stored_after, "ttl": ttl, "again": again, "full": full}))


asyncio.run(main())
"""


def texts(events: list[dict[str, Any]]) -> list[str]:
    return [e["text"] for e in events if e["event"] == "user"]


def test_the_redis_tracker_store_keeps_the_current_session_and_rasa_sees_what_it_saw_before() -> None:
    with private_redis() as redis:
        seen = run_in_rasa_venv(RASA_SIDE, str(redis.port))
    # Rasa's own store keeps both sessions and hands out the last; ours, reading that same record, the same.
    assert texts(seen["stored_before"]) == ["你好", "hello", "thanks"]
    assert seen["ours"] == seen["stock"]
    assert texts(seen["ours"]["events"]) == ["thanks"] and seen["ours"]["lang"] == "en"
    # A save is one write (no read of the stored tracker first), of the current session only, with its expiry.
    assert seen["calls"] == ["set"]
    assert seen["stored_after"] == [*seen["stock"]["events"], seen["stored_after"][-1]]
    assert texts(seen["stored_after"]) == ["thanks", "more"]
    assert 0 < seen["ttl"] <= 60
    # Read back, the conversation goes on where it was, the language carried into the session.
    assert texts(seen["again"]["events"]) == ["thanks", "more"] and seen["again"]["lang"] == "en"
    assert seen["full"] == seen["again"]
