"""The priority-examination eligibility form: slot validation (free text → values) and the verdict."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import Lang, button, lang_of, pick, say
from bot.eligibility import (
    Answers,
    Assessment,
    CaseType,
    Exploitation,
    Signer,
    Verdict,
    assess,
    needed_slots,
    normalise_case_type,
    normalise_exploitation,
    normalise_field,
    normalise_yes_no,
)
from bot.facts import load_facts

MAX_REASONS = 2
FORM_SLOTS = (
    "application_type",
    "technical_field",
    "filed_abroad_first_in_china",
    "exploitation_status",
    "provincial_priority_industry",
    "first_office_action_received",
)


def _not_understood(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    lang = lang_of(tracker)
    dispatcher.utter_message(
        text=pick(
            lang, "没太明白，请点选下面的选项，或换个说法。", "Sorry, I didn't get that. Tap an option or rephrase."
        )
    )


class ValidatePriorityEligibilityForm(FormValidationAction):  # type: ignore[misc]  # rasa_sdk is untyped
    def name(self) -> str:
        return "validate_priority_eligibility_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        # Only what the rules need for this case: no provincial question for key or fast-moving fields, the
        # first-office-action question for inventions only, nothing more for invalidation.
        case = normalise_case_type(tracker.get_slot("application_type"))
        field = normalise_field(tracker.get_slot("technical_field"))
        return [slot for slot in needed_slots(case, field) if slot in domain_slots]

    def validate_application_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        case = normalise_case_type(value)
        if case is None:
            _not_understood(dispatcher, tracker)
            return {"application_type": None}
        return {"application_type": case.value}

    def validate_technical_field(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        field = normalise_field(value)
        if field is None:
            _not_understood(dispatcher, tracker)
            return {"technical_field": None}
        return {"technical_field": field.value}

    def _yes_no(self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        answer = normalise_yes_no(value)
        if answer is None:
            _not_understood(dispatcher, tracker)
        return {slot: answer}

    def validate_filed_abroad_first_in_china(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return self._yes_no("filed_abroad_first_in_china", value, dispatcher, tracker)

    def validate_provincial_priority_industry(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return self._yes_no("provincial_priority_industry", value, dispatcher, tracker)

    def validate_first_office_action_received(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return self._yes_no("first_office_action_received", value, dispatcher, tracker)

    def validate_exploitation_status(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        status = normalise_exploitation(value)
        if status is None:
            _not_understood(dispatcher, tracker)
            return {"exploitation_status": None}
        return {"exploitation_status": str(status)}


def answers_from_slots(tracker: Tracker) -> Answers | None:
    case = normalise_case_type(tracker.get_slot("application_type"))
    if case is None:
        return None

    def yes_no(slot: str) -> bool | None:
        value = normalise_yes_no(tracker.get_slot(slot))
        return value if isinstance(value, bool) else None

    exploitation = normalise_exploitation(tracker.get_slot("exploitation_status"))
    return Answers(
        case_type=case,
        technical_field=normalise_field(tracker.get_slot("technical_field")),
        filed_abroad_first_in_china=yes_no("filed_abroad_first_in_china"),
        exploitation=exploitation if isinstance(exploitation, Exploitation) else None,
        provincial_priority_industry=yes_no("provincial_priority_industry"),
        first_office_action_received=yes_no("first_office_action_received"),
    )


VERDICT_TEXT = {
    Verdict.ELIGIBLE: ("结论：符合优先审查条件", "Verdict: eligible for priority examination"),
    Verdict.NOT_ELIGIBLE: ("结论：目前不符合优先审查条件", "Verdict: not eligible for priority examination"),
    Verdict.DEPENDS: ("结论：要看情况", "Verdict: it depends"),
}
SIGNER_TEXT = {
    Signer.PROVINCIAL_OFFICE_OR_STATE_COUNCIL_DEPT: (
        "推荐意见：由省级知识产权局或国务院有关部门签署",
        "Recommendation: signed by the provincial IP office or a State Council department",
    ),
    Signer.NONE_NEEDED: (
        "推荐意见：先中国后国外申请的，一般无需推荐意见",
        "Recommendation: generally none needed for a first-in-China filing later filed abroad",
    ),
}


def render_verdict(result: Assessment, lang: Lang) -> str:
    zh = lang == "zh"
    lines = [VERDICT_TEXT[result.verdict][0 if zh else 1]]
    if result.reasons:
        # One ground is enough: name two, count the rest (a phone screen, not a report).
        shown = [r.zh if zh else r.en for r in result.reasons[:MAX_REASONS]]
        extra = len(result.reasons) - len(shown)
        if extra:
            shown.append(f"另有{extra}项" if zh else f"+{extra} more")
        lines.append(("理由：" if zh else "Why: ") + ("；" if zh else "; ").join(shown))
    if result.materials:
        materials = ("、" if zh else "; ").join(m.zh if zh else m.en for m in result.materials)
        lines.append(("材料：" if zh else "Materials: ") + materials)
    if result.signer is not None:
        lines.append(SIGNER_TEXT[result.signer][0 if zh else 1])
    if result.verdict is not Verdict.NOT_ELIGIBLE:
        lines.append(("获准后：" if zh else "Once approved: ") + result.time_limit[0 if zh else 1])
    for note in result.notes:
        lines.append(("提示：" if zh else "Note: ") + (note.zh if zh else note.en))
    lines.append(load_facts().eligibility_source(lang))
    return "\n".join(lines)


class ActionEligibilityVerdict(Action):  # type: ignore[misc]  # rasa_sdk is untyped
    def name(self) -> str:
        return "action_eligibility_verdict"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        answers = answers_from_slots(tracker)
        reset = [SlotSet(slot, None) for slot in FORM_SLOTS]
        if answers is None:
            say(
                dispatcher,
                pick(
                    lang,
                    "还不知道是哪类申请，我们重新开始吧。",
                    "I don't know the kind of case yet; let's start again.",
                ),
                [button(pick(lang, "重新检查", "Start again"), "/check_priority_eligibility")],
            )
            return reset
        result = assess(answers)
        buttons = [
            button(
                pick(lang, "找代理机构协助", "Agency to help"), '/find_agency{"service_type": "priority_exam_assist"}'
            ),
            button(pick(lang, "流程和材料", "Steps and materials"), "/ask_priority_exam_process"),
            button(pick(lang, "转人工", "Talk to a person"), "/human_handoff"),
        ]
        if result.verdict is Verdict.NOT_ELIGIBLE and answers.case_type is CaseType.INVENTION:
            buttons[1] = button(pick(lang, "了解PPH", "About PPH"), "/ask_pph")
        say(dispatcher, render_verdict(result, lang), buttons)
        return reset
