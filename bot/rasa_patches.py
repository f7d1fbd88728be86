"""Speed-ups for Rasa 3.6, installed by our REST channel module (`bot/rasa_channel.py`) when Rasa loads it.

Runs inside Rasa's own Python (3.10, `.venv-rasa`): it imports nothing of the backend. Each patch was chosen by
profiling `rasa run` under the chat benchmark (py-spy; docs/assistant-model.md, *Speed*):

1. **jsonschema's meta-check, once per schema.** `jsonschema.validate(instance, schema)` first validates the
   *schema itself* against its meta-schema, on every call. Rasa calls it for every custom action's answer (the
   events schema, a few hundred lines) and for every event posted to the HTTP API; the meta-check was more than
   half of Rasa's CPU. Here the check runs once per distinct schema and its validator is kept; the instance is
   still validated every time, with the same errors raised (`best_match`, as jsonschema does).
2. **The language with the message.** The gateway sends the user's language in the message's metadata
   (`set_lang`); before the user's message is logged, a `lang` slot event is added when the tracker's value
   differs — in the same lock, tracker load and save as the message, instead of a second HTTP call with its own.
   The events a tracker records are the same as before (the slot event, then the user's message).
3. **A parse cache for identical texts.** The NLU pipeline's answer depends only on the text and the loaded
   model: parses are kept per (model, text) in a bounded LRU (`RASA_PARSE_CACHE_SIZE`, default 2048 entries;
   0 turns it off); each hit returns a deep copy, so nothing downstream can alter the cached parse.
4. **The Redis tracker store keeps the current session only, and writes without reading.** Rasa 3.6's
   `RedisTrackerStore` stores every session of a conversation; each `retrieve` parses and replays all of them and
   then replays them again to split off the last session (the only one Rasa uses); each `save` reads the stored
   tracker back, parses and replays it, replays the new one up to its last stored event, compares the two, and
   only then writes. Here a save writes the current session's events (from the last `action_session_start`),
   with no read before it, and a retrieve replays only that session: one Redis round trip and three replays of
   the whole conversation less per message. What Rasa works with is unchanged (`retrieve` gave the last session
   before too; slots reach a new session as its own `SlotSet` events, `carry_over_slots_to_new_session`); what
   is gone is the history of sessions that ended, which nothing of ours reads (tickets keep their own transcript).
"""

from __future__ import annotations

import copy
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

log = logging.getLogger(__name__)

LANG_METADATA_KEY = "set_lang"
LANGUAGES = ("zh", "en")
DEFAULT_PARSE_CACHE_SIZE = 2048
SCHEMA_CACHE_LIMIT = 64

SESSION_START_ACTION = "action_session_start"

_installed = False
_E = TypeVar("_E")


# ---------------------------------------------------------------- 1. jsonschema


def schema_cached_validate(original: Any) -> Any:
    """`jsonschema.validate` with its meta-check done once per distinct schema (keyed by its JSON text)."""
    from jsonschema import exceptions, validators  # type: ignore[import-untyped]  # Rasa's venv

    checked: OrderedDict[str, Any] = OrderedDict()

    def validate(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
        if cls is not None or args or kwargs:
            return original(instance, schema, cls, *args, **kwargs)  # type: ignore[no-any-return]
        try:
            key = json.dumps(schema, sort_keys=True)
        except (TypeError, ValueError):  # not plain JSON: leave it to jsonschema as it is
            return original(instance, schema)  # type: ignore[no-any-return]
        validator = checked.get(key)
        if validator is None:
            validator_class = validators.validator_for(schema)
            validator_class.check_schema(schema)  # raises SchemaError as before; nothing is cached then
            validator = validator_class(schema)
            checked[key] = validator
            if len(checked) > SCHEMA_CACHE_LIMIT:
                checked.popitem(last=False)
        error = exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error
        return None

    validate.__wrapped__ = original  # type: ignore[attr-defined]
    return validate


# ---------------------------------------------------------------- 2 and 3. the message processor


def parse_cache_size() -> int:
    raw = os.environ.get("RASA_PARSE_CACHE_SIZE", "").strip()
    if not raw:
        return DEFAULT_PARSE_CACHE_SIZE
    if not raw.isdigit():
        raise ValueError(f"RASA_PARSE_CACHE_SIZE must be a whole number of entries (0 = off), not {raw!r}")
    return int(raw)


class ParseCache:
    """Bounded LRU of parse results; values are stored and handed out as deep copies."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, str]) -> dict[str, Any] | None:
        found = self._items.get(key)
        if found is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return copy.deepcopy(found)

    def put(self, key: tuple[str, str], parse_data: dict[str, Any]) -> None:
        if self.size <= 0:
            return
        self._items[key] = copy.deepcopy(parse_data)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


def patch_processor(processor_class: Any, slot_set: Any, cache: ParseCache) -> None:
    original_parse = processor_class.parse_message
    original_handle = processor_class._handle_message_with_tracker

    async def parse_message(
        self: Any, message: Any, tracker: Any = None, only_output_properties: bool = True
    ) -> dict[str, Any]:
        # Only the local NLU graph's output is cached (an HTTP interpreter is someone else's to cache), and only
        # the output-properties form every channel uses.
        cacheable = cache.size > 0 and not self.http_interpreter and only_output_properties
        if not cacheable or not isinstance(message.text, str):
            return await original_parse(self, message, tracker, only_output_properties)  # type: ignore[no-any-return]
        key = (str(getattr(self, "model_filename", "") or ""), message.text)
        found = cache.get(key)
        if found is not None:
            return found
        parse_data: dict[str, Any] = await original_parse(self, message, tracker, only_output_properties)
        cache.put(key, parse_data)
        return parse_data

    async def handle_message_with_tracker(self: Any, message: Any, tracker: Any) -> None:
        metadata = message.metadata if isinstance(message.metadata, dict) else {}
        lang = metadata.get(LANG_METADATA_KEY)
        if lang in LANGUAGES and any(s.name == "lang" for s in self.domain.slots) and tracker.get_slot("lang") != lang:
            tracker.update(slot_set("lang", lang), self.domain)
        await original_handle(self, message, tracker)

    processor_class.parse_message = parse_message
    processor_class._handle_message_with_tracker = handle_message_with_tracker


# ---------------------------------------------------------------- 4. the Redis tracker store


def session_start(events: Sequence[_E], starts: Callable[[_E], bool]) -> int:
    """Where the current session begins: the index of the last event that starts one (0 when none does) — where
    Rasa's `get_trackers_for_conversation_sessions` begins its last tracker."""
    for index in range(len(events) - 1, -1, -1):
        if starts(events[index]):
            return index
    return 0


def starts_session_dict(event: dict[str, Any]) -> bool:
    """A stored event (Rasa's `as_dict`) that opens a session: `action_session_start` executed."""
    return event.get("event") == "action" and event.get("name") == SESSION_START_ACTION


def current_session_dicts(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return events[session_start(events, starts_session_dict) :]


def patch_redis_tracker_store(store_class: Any, dialogue_class: Any, action_executed: Any) -> None:
    def starts_session(event: Any) -> bool:
        return isinstance(event, action_executed) and event.action_name == SESSION_START_ACTION

    async def save(self: Any, tracker: Any, timeout: float | None = None) -> None:  # noqa: ASYNC109  # Rasa's signature
        await self.stream_events(tracker)  # the event broker's diff, as before (none is configured)
        if not timeout and self.record_exp:
            timeout = self.record_exp
        events = list(tracker.events)
        current = dialogue_class(tracker.sender_id, events[session_start(events, starts_session) :])
        self.red.set(self.key_prefix + tracker.sender_id, json.dumps(current.as_dict()), ex=timeout)

    async def retrieve_stored(self: Any, sender_id: str, fetch_all_sessions: bool) -> Any:
        stored = self.red.get(self.key_prefix + sender_id)
        if stored is None:
            return None
        data = json.loads(stored)
        if not fetch_all_sessions and isinstance(data.get("events"), list):
            data["events"] = current_session_dicts(data["events"])  # stored before this patch: all sessions
        tracker = self.init_tracker(sender_id)
        tracker.recreate_from_dialogue(dialogue_class.from_parameters(data))
        return tracker

    store_class.save = save
    store_class._retrieve = retrieve_stored


def install() -> None:
    """Apply every patch once (Rasa may load the channel module more than once)."""
    global _installed
    if _installed:
        return
    import jsonschema
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import RedisTrackerStore
    from rasa.shared.core.conversation import Dialogue
    from rasa.shared.core.events import ActionExecuted, SlotSet

    jsonschema.validate = schema_cached_validate(jsonschema.validate)
    size = parse_cache_size()
    patch_processor(MessageProcessor, SlotSet, ParseCache(size))
    patch_redis_tracker_store(RedisTrackerStore, Dialogue, ActionExecuted)
    _installed = True
    log.info(
        "ip-assistant Rasa patches installed (schema check once, lang with the message, parse cache %d, "
        "Redis tracker store: current session, no read before a write)",
        size,
    )
