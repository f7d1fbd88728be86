"""Action calls shaped like the ones Rasa 3.6 sends to the action server, with the real domain files."""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.identity import identity_metadata
from core.auth import Principal
from core.settings import Settings

DOMAIN_DIR = Path("bot/domain")


@lru_cache(maxsize=1)
def domain() -> dict[str, Any]:
    """bot/domain/*.yml merged the way Rasa merges them (lists concatenated, mappings united)."""
    merged: dict[str, Any] = {"intents": [], "entities": [], "slots": {}, "forms": {}, "responses": {}, "actions": []}
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        part = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in part.items():
            if isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            elif isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            else:
                merged[key] = value
    return merged


def entity(name: str, value: Any) -> dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": 1, "extractor": "DIETClassifier"}


def action_call(
    action: str,
    *,
    text: str = "",
    intent: str = "",
    confidence: float = 0.95,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    sender_id: str = "u:1",
    metadata: dict[str, Any] | None = None,
    ranking: list[tuple[str, float]] | None = None,
    earlier: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    candidates: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON Rasa posts to the action endpoint for `action` right after the user said `text`."""
    now = time.time()
    parse_data = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "intent_ranking": [{"name": n, "confidence": c} for n, c in (ranking or [(intent, confidence)])],
    }
    events = [
        {"event": "action", "timestamp": now - 10, "name": "action_session_start"},
        {"event": "session_started", "timestamp": now - 10},
        {"event": "action", "timestamp": now - 9, "name": "action_listen"},
        *(earlier or []),
        {
            "event": "user",
            "timestamp": now,
            "text": text,
            "parse_data": parse_data,
            "input_channel": "rest",
            "message_id": "m1",
            "metadata": metadata or {},
        },
        # What a form extracted from the message: slot events at the end, as Rasa appends them before validation.
        *({"event": "slot", "timestamp": now, "name": k, "value": v} for k, v in (candidates or {}).items()),
    ]
    all_slots = {name: None for name in domain()["slots"]}
    all_slots.update(slots or {})
    all_slots.update(candidates or {})
    return {
        "next_action": action,
        "sender_id": sender_id,
        "version": "3.6.21",
        "domain": domain(),
        "tracker": {
            "sender_id": sender_id,
            "slots": all_slots,
            "latest_message": parse_data,
            "latest_event_time": now,
            "followup_action": None,
            "paused": False,
            "events": events,
            "latest_input_channel": "rest",
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen",
        },
    }


def earlier_turn(
    text: str,
    intent: str,
    bot_action: str,
    *,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    ago: float = 5,
) -> list[dict[str, Any]]:
    """A previous user message (with the model's entities, and the slots Rasa set from it) and the action the bot
    answered it with."""
    now = time.time() - ago
    return [
        {
            "event": "user",
            "timestamp": now,
            "text": text,
            "parse_data": {"text": text, "intent": {"name": intent, "confidence": 0.3}, "entities": entities or []},
            "metadata": {},
        },
        *({"event": "slot", "timestamp": now, "name": k, "value": v} for k, v in (slots or {}).items()),
        {"event": "action", "timestamp": now + 1, "name": bot_action},
        {"event": "action", "timestamp": now + 2, "name": "action_listen"},
    ]


def signed(
    settings: Settings,
    sender_id: str,
    principal: Principal | None,
    lang: str = "zh",
    *,
    text: str,
    openid: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """Metadata as the chat gateway sends it with the message `text`."""
    return {
        "lang": lang,
        "channel": "miniprogram",
        **identity_metadata(settings.bot_metadata_secret, sender_id, text, principal, openid, now=now),
    }


def rasa_headers(settings: Settings) -> dict[str, str]:
    """What Rasa's action endpoint sends with each call (bot/endpoints.yml)."""
    return {"X-Actions-Token": settings.bot_actions_token}
