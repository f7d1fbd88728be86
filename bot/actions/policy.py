"""action_answer_policy: one action for every policy intent, rendered from the facts file."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import lookups
from bot.actions.common import (
    Lang,
    answered_by_officials,
    button,
    card,
    entity_or_slot,
    entity_values,
    lang_of,
    latest_intent,
    pick,
    say,
    yuan,
)
from bot.facts import load_facts
from bot.knowledge import PREEMPT_BELOW, PREEMPT_SIMILARITY

VOUCHER_PROGRAM_CARDS = 3


class ActionAnswerPolicy(Action):  # type: ignore[misc]  # rasa_sdk is untyped
    def name(self) -> str:
        return "action_answer_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        facts = load_facts()
        intent, confidence = latest_intent(tracker)
        # Not sure of the topic, and officials answered a question very like this one: theirs comes first.
        unsure = confidence is not None and confidence < PREEMPT_BELOW
        if unsure and await answered_by_officials(dispatcher, tracker, lang, threshold=PREEMPT_SIMILARITY):
            return []
        if not facts.has(intent):
            # Reached through a story after another intent (e.g. a button): answer the overview, never nothing.
            intent = "ask_policy_overview"
        entities = {name: values[0] for name in ("rating_level",) if (values := entity_values(tracker, name))}
        answer = facts.answer(intent, lang, entities)
        buttons = [button(b.title, b.payload) for b in answer.buttons]
        cards = None
        if answer.local and intent in ("ask_voucher_apply", "ask_voucher_use"):
            cards = await _program_cards(entity_or_slot(tracker, "region"), lang)
        say(dispatcher, answer.text, buttons, cards)
        return []


async def _program_cards(region: str | None, lang: Lang) -> list[dict[str, Any]] | None:
    """The open voucher programs in our database (of the region the user named, if any)."""
    programs = await lookups.voucher_programs(region)
    if not programs:
        return None
    out = []
    for p in programs[:VOUCHER_PROGRAM_CARDS]:
        share = f"{p.share_bp / 100:g}%"
        services = (
            "、".join(s.label_zh for s in p.services[:3])
            if lang == "zh"
            else ", ".join(s.label_en for s in p.services[:3])
        )
        out.append(
            card(
                p.name,
                pick(lang, f"面值¥{yuan(p.face_value_fen)}，抵扣{share}", f"¥{yuan(p.face_value_fen)}, pays {share}"),
                [
                    pick(lang, f"可用于：{services}", f"For: {services}"),
                    pick(
                        lang,
                        f"有效期至{p.valid_until.date().isoformat()}，{len(p.participating_agencies)}家机构收券",
                        f"Until {p.valid_until.date().isoformat()}; {len(p.participating_agencies)} agencies accept it",
                    ),
                ],
                f"pages/voucher/program?id={p.id}",
            )
        )
    return out
