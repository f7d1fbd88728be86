"""What every action needs: the reply language, the verified sender, entity values, and reply rendering."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import lookups
from bot.context import current
from bot.errors import SenderNotVerified
from bot.identity import VerifiedSender, verified_sender
from core.auth import Principal
from core.chat import detect_language

Lang = Literal["zh", "en"]

# What the clarifying question offers for an intent: a short title per language.
INTENT_LABELS: dict[str, tuple[str, str]] = {
    "ask_priority_exam_conditions": ("优先审查条件", "Priority exam conditions"),
    "ask_priority_exam_process": ("优先审查流程", "Priority exam steps"),
    "ask_priority_exam_timeline": ("优先审查时限", "Priority exam timing"),
    "check_priority_eligibility": ("测一测能否优先审查", "Am I eligible?"),
    "plan_fast_track": ("怎么最快授权", "Fastest route to grant"),
    "ask_trademark_priority": ("商标快速审查", "Trademark fast exam"),
    "ask_pph": ("PPH专利审查高速路", "PPH"),
    "ask_centralized_exam": ("集中审查", "Centralized exam"),
    "ask_fast_preexam": ("保护中心快速预审", "Fast pre-exam"),
    "ask_open_license": ("专利开放许可", "Open licensing"),
    "ask_pledge_financing": ("质押融资", "Pledge financing"),
    "ask_ip_insurance": ("知识产权保险", "IP insurance"),
    "ask_patent_navigation": ("专利导航", "Patent navigation"),
    "ask_rights_protection": ("维权援助", "Rights protection"),
    "ask_policy_overview": ("政策概览", "Policy overview"),
    "ask_agency_selection": ("怎么选代理机构", "Choosing an agency"),
    "ask_credit_rules": ("信用等级含义", "Credit levels"),
    "find_agency": ("找代理机构", "Find an agency"),
    "check_agency_rating": ("查机构信用", "Check an agency"),
    "compare_agencies": ("比较代理机构", "Compare agencies"),
    "ask_voucher_apply": ("申请服务券", "Applying for vouchers"),
    "ask_voucher_use": ("使用服务券", "Using vouchers"),
    "ask_voucher_settlement": ("服务券结算", "Voucher settlement"),
    "my_vouchers": ("我的服务券", "My vouchers"),
    "ask_specialized_sme": ("专精特新", "Specialized SMEs"),
    "ask_trademark_brand_guidance": ("商标品牌指导站", "Brand guidance stations"),
    "ask_collective_certification_mark": ("集体商标、证明商标", "Collective & certification marks"),
    "ask_innovation_management": ("ISO 56005分级评价", "ISO 56005 evaluation"),
    "ask_patent_intensive_product": ("专利密集型产品", "Patent-intensive products"),
    "ask_ip_professional_title": ("知识产权职称", "IP professional titles"),
    "ask_ip_training_and_experts": ("培训和专家服务", "Training and experts"),
    "ask_overseas_protection": ("海外纠纷应对", "Disputes abroad"),
    "ask_public_service_platforms": ("公共服务平台", "Public service platforms"),
    "human_handoff": ("转人工", "Talk to a person"),
    "help": ("菜单", "Menu"),
}


def lang_of(tracker: Tracker) -> Lang:
    value = tracker.get_slot("lang")
    if value in ("zh", "en"):
        return value  # type: ignore[no-any-return]
    return detect_language(latest_text(tracker))


def pick(lang: Lang, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def latest_text(tracker: Tracker) -> str:
    text = (tracker.latest_message or {}).get("text") or ""
    return str(text)


def latest_intent(tracker: Tracker) -> tuple[str, float | None]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    confidence = intent.get("confidence")
    return str(intent.get("name") or ""), float(confidence) if isinstance(confidence, int | float) else None


def _latest_user_event(tracker: Tracker) -> dict[str, Any] | None:
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            return dict(event)
    return None


def metadata_of(tracker: Tracker) -> dict[str, Any]:
    event = _latest_user_event(tracker)
    metadata = (event or {}).get("metadata") or {}
    return dict(metadata) if isinstance(metadata, dict) else {}


def sender_identity(tracker: Tracker) -> VerifiedSender | None:
    """Who sent the latest message, from the gateway's signature on it (bound to its text, fresh for minutes);
    None when it is absent, forged, stale or made for another message."""
    event = _latest_user_event(tracker) or {}
    return verified_sender(
        current().settings.bot_metadata_secret, tracker.sender_id, str(event.get("text") or ""), metadata_of(tracker)
    )


def sender_principal(tracker: Tracker) -> Principal | None:
    """The signed-in user chatting; None for an anonymous, unverified or forged sender."""
    sender = sender_identity(tracker)
    return sender.principal if sender is not None else None


async def writing_sender(tracker: Tracker) -> VerifiedSender:
    """The sender on whose behalf an action may write now (a ticket, an unanswered question): only one the gateway
    signed for the latest message (403 otherwise), whose account, if it names one, still exists and is active, and
    only as often as the write limit allows (429)."""
    sender = sender_identity(tracker)
    if sender is None:
        raise SenderNotVerified()
    if sender.principal is not None and not await lookups.is_active_user(sender.principal.user_id):
        raise SenderNotVerified()
    await lookups.count_write(tracker.sender_id)
    return sender


def channel_of(tracker: Tracker) -> str:
    return str(metadata_of(tracker).get("channel") or tracker.get_latest_input_channel() or "")


def user_texts(tracker: Tracker, limit: int = 6) -> list[str]:
    """The user's recent messages, oldest first (for a ticket's transcript)."""
    texts = [str(e.get("text") or "") for e in tracker.events or [] if e.get("event") == "user"]
    return [t for t in texts if t and not t.startswith("/")][-limit:]


def session_user_turns(tracker: Tracker) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """The user's messages of this session (since the last `session_started`), oldest first: text, intent and the
    model's entities — what each message itself said, whichever flow it belonged to."""
    turns: list[tuple[str, str, list[dict[str, Any]]]] = []
    for event in tracker.events or []:
        if event.get("event") == "session_started":
            turns = []
        elif event.get("event") == "user":
            parse = event.get("parse_data") or {}
            intent = str((parse.get("intent") or {}).get("name") or "")
            entities = parse.get("entities") or []
            turns.append((str(event.get("text") or ""), intent, list(entities) if isinstance(entities, list) else []))
    return turns


def entity_values(tracker: Tracker, name: str) -> list[str]:
    """The latest message's values of an entity (deduplicated, in order)."""
    values: list[str] = []
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == name and entity.get("value") not in (None, ""):
            value = entity["value"]
            for item in value if isinstance(value, list) else [value]:
                text = str(item).strip()
                if text and text not in values:
                    values.append(text)
    return values


def entity_or_slot(tracker: Tracker, name: str) -> str | None:
    """The latest message's entity, else what the conversation said before (the slot)."""
    values = entity_values(tracker, name)
    if values:
        return values[0]
    slot = tracker.get_slot(name)
    if isinstance(slot, list):
        slot = slot[-1] if slot else None
    return str(slot) if slot not in (None, "") else None


def button(title: str, payload: str) -> dict[str, str]:
    return {"title": title, "payload": payload}


def card(title: str, subtitle: str = "", lines: Iterable[str] = (), link: str | None = None) -> dict[str, Any]:
    """A result card in the shape `core.chat.ChatCard` takes; the gateway reads it from the custom payload."""
    return {"title": title, "subtitle": subtitle, "lines": list(lines), "link": link}


def say(
    dispatcher: CollectingDispatcher,
    text: str,
    buttons: list[dict[str, str]] | None = None,
    cards: list[dict[str, Any]] | None = None,
) -> None:
    """One reply: text with buttons, and cards as a custom payload (`{"cards": [...]}`) Rasa passes through."""
    kwargs: dict[str, Any] = {"text": text}
    if buttons:
        kwargs["buttons"] = buttons
    if cards:
        kwargs["json_message"] = {"cards": cards}
    dispatcher.utter_message(**kwargs)


def yuan(fen: int) -> str:
    """Integer fen as yuan for people: 350000 → "3,500", 350050 → "3,500.50"."""
    whole, cents = divmod(fen, 100)
    return f"{whole:,}" if cents == 0 else f"{whole:,}.{cents:02d}"


async def answered_by_officials(
    dispatcher: CollectingDispatcher, tracker: Tracker, lang: Lang, *, threshold: float | None = None
) -> bool:
    """An official's answer to a question like the latest one (served with its source and date, no retraining),
    when one is at least `threshold` alike (default `bot.knowledge.THRESHOLD`): True when it answered. Read only,
    so it serves anonymous askers too (nationwide answers)."""
    served = await lookups.official_answer(latest_text(tracker), sender_principal(tracker), threshold=threshold)
    if served is None:
        return False
    say(
        dispatcher,
        served.text,
        [
            button(pick(lang, "没解决，转人工", "Not answered? Talk to a person"), "/human_handoff"),
            button(pick(lang, "看看菜单", "Show the menu"), "/help"),
        ],
    )
    return True
