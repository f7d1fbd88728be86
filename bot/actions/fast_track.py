"""The fast-track form (issue 20 §4): which route gets this application examined soonest, asked in the chat.

One form for two intents: `plan_fast_track` answers with the planner's ranked routes; `check_priority_eligibility`
(the contract intent of the eligibility check) runs the same form with `plan_focus = priority_exam` and answers with
the priority-examination verdict first, then the other routes. The validator fills what is already known before
asking anything (the signed-in enterprise's region from its profile, what the opening sentence says), then asks
only what is still open — for a plan, what the planner lists in `asked` — one question at a time.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from agencies.catalogue import FieldCode
from bot import lookups
from bot.actions.common import (
    Lang,
    button,
    card,
    entity_values,
    lang_of,
    latest_intent,
    latest_text,
    pick,
    say,
    sender_principal,
)
from bot.actions.eligibility import (
    UNSURE_WORDS,
    answer_instead,
    answers_from_slots,
    asks_instead_of_answering,
    bare_field_answer,
    not_understood,
    render_verdict,
    unanswered,
    verdict_buttons,
    yes_no_slot,
)
from bot.eligibility import UNSURE, assess, needed_slots, normalise_case_type, normalise_field
from bot.plan_answers import (
    PLAN_SLOTS,
    is_priority_case,
    normalise_bool,
    normalise_kind,
    normalise_mark_type,
    normalise_office,
    normalise_stage,
    plan_fields,
    plan_questions,
    prefill_from_text,
)

PRIORITY_FOCUS = "priority_exam"
PLAN_FOCUS = "all"
# The routes shown in the chat (the rest, and every detail, are on the plan page).
TOP_ROUTES = 4
# Closed routes named (with the first reason) in one line.
CLOSED_SHOWN = 3
PLAN_PAGE = "pages/fast-track/plan"

TRACK_LABELS: dict[str, tuple[str, str]] = {
    "fast_preexam": ("快速预审", "Fast pre-examination"),
    "priority_exam": ("优先审查", "Priority examination"),
    "pph": ("PPH", "PPH"),
    "centralized_exam": ("集中审查", "Centralized examination"),
    "trademark_fast_exam": ("商标快速审查", "Trademark fast examination"),
    "normal": ("普通程序", "Normal examination"),
}
VERDICT_MARKS: dict[str, tuple[str, str]] = {
    "yes": ("✓ 可走", "✓ open"),
    "no": ("✗ 不可", "✗ not open"),
    "unknown": ("？待确认", "? to confirm"),
}
# What each open question of the planner is, in words (for "still to confirm").
ASKED_LABELS: dict[str, tuple[str, str]] = {
    "kind": ("申请类型", "the kind of application"),
    "stage": ("进行到哪一步", "the stage"),
    "technical_field": ("技术领域", "the technical field"),
    "region": ("所在地区", "your region"),
    "pct_national_phase": ("是否PCT进入国家阶段", "whether it is a PCT national phase"),
    "foreign_allowed_office": ("国外是否已认定可授权", "allowed claims abroad"),
    "filed_abroad_after_china": ("是否先中国后国外申请", "first filed in China, then abroad"),
    "exploiting": ("是否已实施", "whether it is in use"),
    "related_applications": ("同一技术的关联申请件数", "related applications"),
    "centre_record": ("是否已在保护中心备案", "record at the protection centre"),
    "mark_type": ("商标类型", "the mark type"),
    "situation": ("商标的具体情形", "the trademark's situation"),
}


# ---------------------------------------------------------------- the form


def _entities(tracker: Tracker) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in ("service_type", "technical_field", "region"):
        values = entity_values(tracker, name)
        if values:
            found[name] = values[0]
    return found


class ValidateFastTrackForm(FormValidationAction):  # type: ignore[misc]  # rasa_sdk is untyped
    def name(self) -> str:
        return "validate_fast_track_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        # Rasa marks the form active before it first validates (its temporary tracker already has the ActiveLoop
        # event), so a start is told by nothing being asked yet: while the form runs a slot is always requested.
        if tracker.get_slot("requested_slot") is None:
            return await self._start(dispatcher, tracker, domain)
        # A question in the middle of the form is not swallowed as an answer: the form is left (requested_slot None
        # ends it) and action_fast_track_plan answers the question instead, with a way back.
        requested = tracker.get_slot("requested_slot")
        if requested in PLAN_SLOTS:
            intent, _ = latest_intent(tracker)
            if asks_instead_of_answering(requested, tracker.get_slot(requested), latest_text(tracker), intent):
                return [SlotSet(requested, None), SlotSet("requested_slot", None)]
        events: list[dict[str, Any]] = await super().run(dispatcher, tracker, domain)
        return events

    async def _start(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The form starts: the focus from the intent that started it, nothing left from an earlier run, then what is
        known without asking — the signed-in enterprise's region, and what the opening sentence says."""
        intent, _ = latest_intent(tracker)
        focus = PRIORITY_FOCUS if intent == "check_priority_eligibility" else PLAN_FOCUS
        values: dict[str, Any] = dict.fromkeys(PLAN_SLOTS)
        values.update(prefill_from_text(latest_text(tracker), _entities(tracker)))
        if focus == PRIORITY_FOCUS and values.get("application_type") == "trademark":
            values["application_type"] = None  # no priority examination for trademarks: ask what the case is
        profile = await lookups.enterprise_profile(sender_principal(tracker))
        if profile is not None and profile.region_code:
            values["plan_region"] = profile.region_code
        for slot, value in values.items():
            tracker.slots[slot] = value
        tracker.slots["plan_focus"] = focus
        required = await self.required_slots(list(PLAN_SLOTS), dispatcher, tracker, domain)
        next_slot = next((slot for slot in required if tracker.slots.get(slot) is None), None)
        events = [SlotSet("plan_focus", focus), *(SlotSet(slot, value) for slot, value in values.items())]
        return [*events, SlotSet("requested_slot", next_slot)]

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        if tracker.get_slot("plan_focus") == PRIORITY_FOCUS or is_priority_case(
            normalise_kind(tracker.get_slot("application_type"))
        ):
            # The eligibility check asks what its rules need (bot/eligibility.py): no provincial question for key
            # or fast-moving fields, the first-office-action question for inventions only.
            case = normalise_case_type(tracker.get_slot("application_type"))
            field = normalise_field(tracker.get_slot("technical_field"))
            if tracker.get_slot("application_type") == "trademark":
                case = None
            return [slot for slot in needed_slots(case, field) if slot in domain_slots]
        slots = {slot: tracker.get_slot(slot) for slot in PLAN_SLOTS}
        asked: list[str] = []
        fields = plan_fields(slots)
        if "kind" in fields:
            answer = await lookups.fast_track_plan(fields, sender_principal(tracker), lang_of(tracker))
            asked = [str(name) for name in answer.get("asked") or []]
        return [slot for slot in plan_questions(slots, asked) if slot in domain_slots]

    def validate_application_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        kind = normalise_kind(value)
        if kind == "trademark" and tracker.get_slot("plan_focus") == PRIORITY_FOCUS:
            kind = None
        if kind is None:
            not_understood(dispatcher, tracker)
        return {"application_type": kind}

    async def extract_technical_field(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """A bare field read as an agency search is still the field's answer (`bare_field_answer`): Rasa's mapping
        skipped it, so it is taken here and then validated like any answer."""
        intent, _ = latest_intent(tracker)
        text = latest_text(tracker)
        if tracker.get_slot("requested_slot") == "technical_field" and bare_field_answer(
            "technical_field", text, intent
        ):
            return {"technical_field": text}
        return {}

    def validate_technical_field(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        field = normalise_field(value)
        if field is None and isinstance(value, str) and UNSURE_WORDS.search(value):
            # "不知道算什么领域": none of the named fields — the eligibility check then asks about local priorities.
            field = FieldCode.OTHER
        if field is None:
            not_understood(dispatcher, tracker)
            return {"technical_field": None}
        words = value if isinstance(value, str) and value != field.value else None
        return {"technical_field": field.value, "plan_field_text": words}

    def validate_stage(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        stage = normalise_stage(value)
        if stage is None:
            not_understood(dispatcher, tracker)
        return {"stage": stage}

    def validate_foreign_allowed_office(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        office = normalise_office(value)
        if office is None:
            not_understood(dispatcher, tracker)
        return {"foreign_allowed_office": office}

    def validate_mark_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        mark = normalise_mark_type(value)
        if mark is None:
            not_understood(dispatcher, tracker)
        return {"mark_type": mark}

    def validate_plan_region(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = str(value) if value is not None else ""
        code = lookups.known_region(text) or lookups.region_in_text(text)
        if code is None and normalise_bool(text) == UNSURE:
            return {"plan_region": UNSURE}
        if code is None:
            not_understood(dispatcher, tracker)
        return {"plan_region": code}

    def validate_centre_record(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return yes_no_slot("centre_record", value, dispatcher, tracker)

    def validate_filed_abroad_first_in_china(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return yes_no_slot("filed_abroad_first_in_china", value, dispatcher, tracker)

    def validate_provincial_priority_industry(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return yes_no_slot("provincial_priority_industry", value, dispatcher, tracker)

    def validate_first_office_action_received(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return yes_no_slot("first_office_action_received", value, dispatcher, tracker)

    def validate_exploitation_status(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        from bot.eligibility import normalise_exploitation

        status = normalise_exploitation(value)
        if status is None:
            not_understood(dispatcher, tracker)
            return {"exploitation_status": None}
        return {"exploitation_status": str(status)}


# ---------------------------------------------------------------- the answer


def plan_link(fields: dict[str, Any]) -> str:
    """The full plan in the phone view, with the answers given in the chat (contract field names)."""
    query: dict[str, str] = {}
    for name, value in fields.items():
        if value is None:
            query[name] = "none"
        elif isinstance(value, bool):
            query[name] = "true" if value else "false"
        else:
            query[name] = str(value)
    return f"{PLAN_PAGE}?{urlencode(query)}" if query else PLAN_PAGE


def _text_of(value: Any) -> str:
    if isinstance(value, list):
        return "；".join(_text_of(item) for item in value if item)
    return "" if value is None else str(value)


_RULE_TAG = re.compile(r"^\s*(【[^】]*】|\[[^\]]*\])\s*")
REASON_CHARS = 40


def _short(text: str, limit: int = REASON_CHARS) -> str:
    """A planner reason without its rule tag ("【stage】…"), cut to a phone line."""
    text = _RULE_TAG.sub("", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _days(track: dict[str, Any], lang: Lang) -> str:
    days = track.get("expected_days")
    if isinstance(days, int) and days > 0:
        return f"约{days}天" if lang == "zh" else f"~{days} days"
    return ""


def _label(name: str, lang: Lang) -> str:
    return TRACK_LABELS.get(name, (name, name))[0 if lang == "zh" else 1]


def _not_this_kind(track: dict[str, Any]) -> bool:
    """A route for another kind of application (a trademark route for a patent): not worth a line on a phone."""
    reasons = track.get("reasons") or []
    return bool(reasons) and str(reasons[0]).lstrip().startswith(("【kind】", "[kind]"))


def route_line(index: int, track: dict[str, Any], lang: Lang) -> str:
    """One route in one line: its name, the verdict, how long, and for an open question what decides it."""
    name = str(track.get("track") or "")
    verdict = VERDICT_MARKS.get(str(track.get("eligible")), VERDICT_MARKS["unknown"])[0 if lang == "zh" else 1]
    parts = [f"{index}. {_label(name, lang)} {verdict}", _days(track, lang)]
    reasons = track.get("reasons") or []
    if track.get("eligible") == "unknown" and reasons:
        parts.append(_short(str(reasons[0])))
    return " · ".join(part for part in parts if part)


def render_plan(answer: dict[str, Any], lang: Lang) -> list[str]:
    """The ranked plan for a phone: the open and undecided routes soonest first (one line each), the closed ones in
    one line with why, the recommended route's next step and source, and what is still open."""
    zh = lang == "zh"
    tracks = [t for t in answer.get("tracks") or [] if isinstance(t, dict)]
    recommended = answer.get("recommended")
    lines = ["最快的路线（按用时排序）：" if zh else "Your routes, soonest first:"]
    profile = answer.get("profile") or {}
    if isinstance(profile, dict) and profile.get("note"):
        lines.append(str(profile["note"]))
    match = answer.get("field_match") or {}
    if isinstance(match, dict) and match.get("shown"):
        lines.append(str(match["shown"]))
    shown = [t for t in tracks if t.get("eligible") != "no"][:TOP_ROUTES]
    for index, track in enumerate(shown, start=1):
        lines.append(route_line(index, track, lang))
    closed = [t for t in tracks if t.get("eligible") == "no" and not _not_this_kind(t)]
    if closed:
        left, right = ("（", "）") if zh else (" (", ")")
        why = [
            _label(str(t.get("track")), lang)
            + (f"{left}{_short(str(t['reasons'][0]), 24)}{right}" if t.get("reasons") else "")
            for t in closed[:CLOSED_SHOWN]
        ]
        lines.append(("不可走：" if zh else "Not open: ") + ("；" if zh else "; ").join(why))
    best = next((t for t in tracks if t.get("track") == recommended), None)
    if best is not None:
        step = _text_of(best.get("next_step"))
        label = _label(str(recommended), lang)
        lines.append(
            ("建议：" if zh else "Suggested: ") + label + (("。下一步：" if zh else ". Next: ") + step if step else "")
        )
        source = _text_of(best.get("source"))
        if source:
            lines.append(source)
    asked = [str(name) for name in answer.get("asked") or []]
    if asked:
        open_ = [ASKED_LABELS.get(name, (name, name))[0 if zh else 1] for name in asked][:3]
        lines.append(("待确认：" if zh else "Still to confirm: ") + ("、" if zh else ", ").join(open_))
    return lines


class ActionFastTrackPlan(Action):  # type: ignore[misc]  # rasa_sdk is untyped
    def name(self) -> str:
        return "action_fast_track_plan"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        focus = tracker.get_slot("plan_focus")
        reset = [SlotSet(slot, None) for slot in PLAN_SLOTS] + [SlotSet("plan_focus", PLAN_FOCUS)]
        slots = {slot: tracker.get_slot(slot) for slot in PLAN_SLOTS}
        kind = normalise_kind(slots.get("application_type"))
        principal = sender_principal(tracker)
        if focus == PRIORITY_FOCUS or is_priority_case(kind):
            answers = answers_from_slots(tracker)
            if answers is None or unanswered(tracker, answers):
                answer_instead(dispatcher, tracker, lang, again="/check_priority_eligibility")
                return reset
            profile = await lookups.enterprise_profile(principal)
            result = assess(answers)
            text = render_verdict(result, lang, profile)
            cards = []
            fields = plan_fields(slots)
            if "kind" in fields:
                # The same answers, all routes: the plan page ranks them with priority examination among them.
                cards.append(_plan_card(fields, lang))
            say(dispatcher, text, verdict_buttons(result, answers, lang), cards)
            return reset
        fields = plan_fields(slots)
        answer = await lookups.fast_track_plan(fields, principal, lang) if "kind" in fields else None
        if answer is None or _left_for_a_question(slots, answer):
            answer_instead(dispatcher, tracker, lang, again="/plan_fast_track")
            return reset
        lines = render_plan(answer, lang)
        buttons = [
            button(
                pick(lang, "找代理机构办理", "Agency to help"), '/find_agency{"service_type": "priority_exam_assist"}'
            ),
            button(pick(lang, "重新规划", "Plan again"), "/plan_fast_track"),
            button(pick(lang, "转人工", "Talk to a person"), "/human_handoff"),
        ]
        say(dispatcher, "\n".join(lines), buttons, [_plan_card(fields, lang)])
        return reset


def _plan_card(fields: dict[str, Any], lang: Lang) -> dict[str, Any]:
    return card(
        pick(lang, "查看完整方案", "Full plan"),
        pick(
            lang,
            "各路线的条件、材料、用时，请求书草稿下载，可办理的代理机构",
            "Conditions, materials, times, the draft request, agencies",
        ),
        link=plan_link(fields),
    )


def _left_for_a_question(slots: dict[str, Any], answer: dict[str, Any]) -> bool:
    """Did the form end before its questions were answered (the validator left it for a question)? Its questions
    are the same list the validator asked from: the answers so far and what the planner still lists."""
    asked = [str(name) for name in answer.get("asked") or []]
    return any(slots.get(slot) is None for slot in plan_questions(slots, asked))
