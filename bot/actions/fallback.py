"""When the assistant does not know: clarify, hand over to a person, record what it could not answer."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import lookups
from bot.actions.common import (
    INTENT_LABELS,
    Lang,
    answered_by_officials,
    button,
    channel_of,
    lang_of,
    latest_intent,
    latest_text,
    pick,
    say,
    user_texts,
    writing_sender,
)

NOT_OFFERED = {"nlu_fallback", "out_of_scope", "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge"}


def _previous_bot_action(tracker: Tracker) -> str | None:
    """The last action the bot ran before the latest user message (action_listen skipped)."""
    events = list(tracker.events or [])
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=None)
    if last_user is None:
        return None
    for event in reversed(events[:last_user]):
        if event.get("event") == "action" and event.get("name") not in ("action_listen", None):
            return str(event["name"])
        if event.get("event") == "user":
            return None
    return None


def likeliest_intents(tracker: Tracker, count: int = 2) -> list[str]:
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    out = []
    for entry in ranking:
        name = entry.get("name")
        if name in INTENT_LABELS and name not in NOT_OFFERED and name not in out:
            out.append(name)
        if len(out) == count:
            break
    return out


class ActionClarify(Action):  # type: ignore[misc]  # rasa_sdk is untyped
    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        # A low-confidence reading is where the model lacks the topic: an official's answer comes first.
        if await answered_by_officials(dispatcher, tracker, lang):
            return []
        text = latest_text(tracker)
        intent, confidence = latest_intent(tracker)
        ranking = (tracker.latest_message or {}).get("intent_ranking") or []
        guess: dict[str, Any] = next((e for e in ranking if e.get("name") != "nlu_fallback"), {})
        sender = await writing_sender(tracker)
        await lookups.record_unanswered(
            sender_id=tracker.sender_id,
            principal=sender.principal,
            text=text,
            lang=lang,
            reason="low_confidence",
            intent=str(guess.get("name") or intent),
            confidence=guess.get("confidence", confidence),
        )
        again = _previous_bot_action(tracker) == "action_clarify"
        if again:
            say(
                dispatcher,
                pick(
                    lang,
                    "抱歉，我还是没听懂。要不要请专家来回答？",
                    "Sorry, I still don't understand. Shall I pass you to an expert?",
                ),
                [
                    button(pick(lang, "转人工", "Talk to a person"), "/human_handoff"),
                    button(pick(lang, "看看菜单", "Show the menu"), "/help"),
                ],
            )
            return []
        options = likeliest_intents(tracker)
        labels = [INTENT_LABELS[i][0 if lang == "zh" else 1] for i in options]
        buttons = [button(label, f"/{i}") for label, i in zip(labels, options, strict=True)]
        buttons.append(button(pick(lang, "都不是", "Neither"), "/help"))
        say(dispatcher, clarifying_question(lang, labels), buttons)
        return []


def clarifying_question(lang: Lang, labels: list[str]) -> str:
    """Name the two readings (close scores, or a message that mixes topics) instead of answering one of them."""
    if len(labels) >= 2:
        return pick(
            lang,
            f"您问的可能是两件事之一：「{labels[0]}」还是「{labels[1]}」？点一下，我按那个回答。",
            f"Your question could be about two things: {labels[0]}, or {labels[1]}? Tap one and I'll answer it.",
        )
    return pick(lang, "我不太确定您的意思，您是想问：", "I'm not sure what you mean. Is it about:")


class ActionHumanHandoff(Action):  # type: ignore[misc]  # rasa_sdk is untyped
    def name(self) -> str:
        return "action_human_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        texts = user_texts(tracker)
        current_text = latest_text(tracker)
        # The question is what the user asked before saying "a person, please" (if anything).
        earlier = [t for t in texts if t != current_text]
        question = earlier[-1] if earlier else current_text
        principal = (await writing_sender(tracker)).principal
        ticket, created = await lookups.open_ticket(
            sender_id=tracker.sender_id,
            channel=channel_of(tracker),
            principal=principal,
            lang=lang,
            question=question,
            transcript=texts,
        )
        if created:
            await lookups.record_unanswered(
                sender_id=tracker.sender_id, principal=principal, text=question, lang=lang, reason="handoff"
            )
        text = pick(
            lang,
            f"已为您转人工，工单号 #{ticket.id}。知识产权专家会在工作时间答复您。"
            + ("" if created else "（您已有一张处理中的工单，已补充本次对话）"),
            f"I've passed this to an expert: ticket #{ticket.id}. An IP expert will answer during office hours."
            + ("" if created else " (You already had an open ticket; I added this conversation to it.)"),
        )
        say(dispatcher, text, [button(pick(lang, "看看菜单", "Show the menu"), "/help")])
        return []


class ActionRecordUnanswered(Action):  # type: ignore[misc]  # rasa_sdk is untyped
    def name(self) -> str:
        return "action_record_unanswered"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        if await answered_by_officials(dispatcher, tracker, lang):
            return []
        intent, confidence = latest_intent(tracker)
        sender = await writing_sender(tracker)
        await lookups.record_unanswered(
            sender_id=tracker.sender_id,
            principal=sender.principal,
            text=latest_text(tracker),
            lang=lang,
            reason="out_of_scope",
            intent=intent,
            confidence=confidence,
        )
        say(
            dispatcher,
            pick(
                lang,
                "这个问题超出了我能回答的范围，已记录下来供专家改进。我能帮您了解知识产权政策、找代理机构、查服务券。",
                "That's beyond what I can answer; I've noted it for our experts. I can help with IP policy, "
                "finding agencies and your vouchers.",
            ),
            [
                button(pick(lang, "看看菜单", "Show the menu"), "/help"),
                button(pick(lang, "转人工", "Talk to a person"), "/human_handoff"),
            ],
        )
        return []
