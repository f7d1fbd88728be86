"""The priority-examination eligibility check inside the fast-track form (bot/actions/fast_track.py): reading its
answers, the verdict, and what to say when the form was left for a question."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import (
    INTENT_LABELS,
    Lang,
    button,
    lang_of,
    latest_intent,
    pick,
    say,
)
from bot.eligibility import (
    Answers,
    Assessment,
    CaseType,
    Exploitation,
    Signer,
    Verdict,
    needed_slots,
    normalise_case_type,
    normalise_exploitation,
    normalise_field,
    normalise_yes_no,
)
from bot.facts import Bilingual, Source, load_facts
from core import regions
from core.db import utcnow
from enterprises.catalogue import QUALIFICATION_LABELS, Qualification
from enterprises.service import EnterpriseSummary

MAX_REASONS = 2
FORM_SLOTS = (
    "application_type",
    "technical_field",
    "filed_abroad_first_in_china",
    "exploitation_status",
    "provincial_priority_industry",
    "first_office_action_received",
)


def not_understood(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    lang = lang_of(tracker)
    dispatcher.utter_message(
        text=pick(
            lang, "没太明白，请点选下面的选项，或换个说法。", "Sorry, I didn't get that. Tap an option or rephrase."
        )
    )


# The intents an answer to the form's questions comes with. A question with an intent of its own that has an
# interruption rule (nlu_data/rules/forms.yml) never reaches the form; any other intent does, and is a question.
ANSWER_INTENTS = frozenset(
    {
        "affirm",
        "deny",
        "nlu_fallback",
        "out_of_scope",
        "greet",
        "thank",
        "check_priority_eligibility",
        "plan_fast_track",
        "inform",
        "",
    }
)
_QUESTION = re.compile(
    r"[？?]|[吗呢么嘛]\s*$|怎么|怎样|如何|什么|啥|哪些|哪家|哪个|哪里|多少|多久|多长时间|几天|几个月|几点|几号|几时|能不能|可不可以|"
    r"是否|为什么|为啥|\b(how|what|which|where|why|when|who|can i|can we|do i|do we|is there|are there)\b",
    re.IGNORECASE,
)
UNSURE_WORDS = re.compile(r"不确定|不知道|不清楚|说不好|not sure|unsure|don'?t know|no idea", re.IGNORECASE)
# Answers read by lenient keyword rules ("有" is yes, "没" is no): a longer question that happens to contain such a
# word is still a question, not an answer.
_LENIENT_SLOTS = frozenset(
    {
        "filed_abroad_first_in_china",
        "provincial_priority_industry",
        "first_office_action_received",
        "exploitation_status",
        "centre_record",
        "foreign_allowed_office",
    }
)
SHORT_ANSWER = 6  # characters: "是的吗" is an answer, "有哪些材料要准备？" a question
# Words of looking for an agency: mid-form "找做锂电池的代理机构" is a search, "做锂电池的" the field's answer.
_SEARCHING = re.compile(r"代理|机构|事务所|律所|律师|找|推荐|agenc|firm|attorney|lawyer", re.IGNORECASE)


def bare_field_answer(slot: str, text: str, intent: str) -> bool:
    """Is the message only a technical field, given while the form asks for one? The model may read a bare field
    ("做锂电池的") as an agency search — `find_agency`'s examples name fields — and Rasa's mapping then leaves the
    slot empty (a search interrupts the form); with no word of searching and no question, it is the answer."""
    return (
        slot == "technical_field"
        and intent == "find_agency"
        and normalise_field(text) is not None
        and not _SEARCHING.search(text)
        and not _QUESTION.search(text)
    )


def asks_instead_of_answering(slot: str, value: Any, text: str, intent: str) -> bool:
    """Is the message the form was given a question rather than an answer to its question?

    Answered questions never get here (their rules interrupt the form). What does: a question whose intent has no
    rule (then it is a question, whatever the words), and questions the model was unsure of or put out of scope —
    told from answers by their words (？, 吗, 怎么, 多久, how …) when the answer cannot be read or is read only
    leniently."""
    if isinstance(value, bool):
        return False  # affirm / deny mapped to yes / no
    if bare_field_answer(slot, text, intent):
        return False
    if intent not in ANSWER_INTENTS:
        return True
    words = text.strip()
    if len(words) < 4 or UNSURE_WORDS.search(words) or not _QUESTION.search(words):
        return False
    if slot in _LENIENT_SLOTS:
        return len(words) > SHORT_ANSWER
    readers = {"application_type": normalise_case_type, "technical_field": normalise_field}
    reader = readers.get(slot)
    return reader is None or reader(value) is None


def yes_no_slot(slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
    """A yes / no / not-sure answer, or None (asked again, with a word that it was not understood)."""
    answer = normalise_yes_no(value)
    if answer is None:
        not_understood(dispatcher, tracker)
    return {slot: answer}


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


# 国知发运字〔2022〕38号, part 1 (1): local IP offices support specialised SMEs in using priority examination and
# recommend first the qualifying requests of national "little giant" enterprises.
_MEASURES_2022 = Source(document="measures_2022", article=Bilingual(zh="第一部分第（一）项", en="part 1 (1)"))
QUALIFICATION_NOTES = {
    Qualification.NATIONAL_LITTLE_GIANT: (
        "贵司是“小巨人”企业：符合条件的优先审查请求，由当地知识产权局优先推荐",
        'as a "little giant", your qualifying request is recommended first by the local IP office',
    ),
    Qualification.PROVINCIAL_SPECIALIZED: (
        "贵司是省级专精特新中小企业：当地知识产权局支持专精特新企业用好优先审查",
        "local IP offices support specialised SMEs like yours in using priority examination",
    ),
}


def _profile_lines(result: Assessment, lang: Lang, profile: EnterpriseSummary, today: dt.date) -> list[str]:
    """What the enterprise's profile adds: the verified qualification and the region the verdict used, and what the
    2022 measures give a qualified enterprise."""
    zh = lang == "zh"
    qualification = profile.qualification_on(today)
    place = regions.display_name(profile.region_code) if zh else _region_en(profile.region_code)
    if qualification is Qualification.NONE:
        held = "档案中无有效的专精特新资质" if zh else "no valid specialised-SME certification on file"
    else:
        label = QUALIFICATION_LABELS[qualification][0 if zh else 1]
        until = profile.qualification_expires_on.isoformat() if profile.qualification_expires_on else ""
        held = (f"{label}（已核验，有效至{until}）" if zh else f"{label} (verified, valid until {until})").replace(
            "有效至）", "）"
        )
    lines = [("按贵司档案：" if zh else "From your company profile: ") + place + ("，" if zh else "; ") + held]
    note = QUALIFICATION_NOTES.get(qualification)
    if note is not None and result.verdict is not Verdict.NOT_ELIGIBLE:
        source = load_facts().source_line([_MEASURES_2022], lang)
        lines.append(("提示：" if zh else "Note: ") + note[0 if zh else 1] + ("。" if zh else ". ") + source)
    return lines


def _region_en(code: str) -> str:
    region = regions.get(code) or regions.get(code[:4] + "00") or regions.get(code[:2] + "0000")
    return region.en if region is not None else code


def _signer_line(result: Assessment, lang: Lang, profile: EnterpriseSummary | None) -> str | None:
    if result.signer is None:
        return None
    zh = lang == "zh"
    province = regions.get(regions.province_code_of(profile.region_code)) if profile is not None else None
    if result.signer is Signer.PROVINCIAL_OFFICE_OR_STATE_COUNCIL_DEPT and province is not None:
        return (
            f"推荐意见：由{province.name}知识产权局（或国务院有关部门）签署"
            if zh
            else f"Recommendation: signed by the {province.en} IP office (or a State Council department)"
        )
    return SIGNER_TEXT[result.signer][0 if zh else 1]


def render_verdict(
    result: Assessment, lang: Lang, profile: EnterpriseSummary | None = None, today: dt.date | None = None
) -> str:
    zh = lang == "zh"
    lines = [VERDICT_TEXT[result.verdict][0 if zh else 1]]
    if profile is not None:
        lines += _profile_lines(result, lang, profile, today or utcnow().date())
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
    signer = _signer_line(result, lang, profile)
    if signer is not None:
        lines.append(signer)
    if result.verdict is not Verdict.NOT_ELIGIBLE:
        lines.append(("获准后：" if zh else "Once approved: ") + result.time_limit[0 if zh else 1])
    for note in result.notes:
        lines.append(("提示：" if zh else "Note: ") + (note.zh if zh else note.en))
    lines.append(load_facts().eligibility_source(lang))
    return "\n".join(lines)


def verdict_buttons(result: Assessment, answers: Answers, lang: Lang) -> list[dict[str, str]]:
    buttons = [
        button(pick(lang, "找代理机构协助", "Agency to help"), '/find_agency{"service_type": "priority_exam_assist"}'),
        button(pick(lang, "流程和材料", "Steps and materials"), "/ask_priority_exam_process"),
        button(pick(lang, "转人工", "Talk to a person"), "/human_handoff"),
    ]
    if result.verdict is Verdict.NOT_ELIGIBLE and answers.case_type is CaseType.INVENTION:
        buttons[1] = button(pick(lang, "了解PPH", "About PPH"), "/ask_pph")
    return buttons


def unanswered(tracker: Tracker, answers: Answers) -> bool:
    """Did the form end before every question it needed was answered (a question made the user leave it)?"""
    return any(tracker.get_slot(slot) is None for slot in needed_slots(answers.case_type, answers.technical_field))


CLARIFY_OPTIONS = 2
FORM_INTENTS = frozenset({"check_priority_eligibility", "plan_fast_track"})


def answer_instead(
    dispatcher: CollectingDispatcher, tracker: Tracker, lang: Lang, again: str = "/check_priority_eligibility"
) -> None:
    """The user asked something in the middle of the check: answer it when its topic is clear (a policy intent the
    model was confident of), else offer the likeliest topics; always with a way back into the check."""
    facts = load_facts()
    intent, _ = latest_intent(tracker)
    planning = again == "/plan_fast_track"
    again_button = button(
        pick(lang, "重新规划", "Plan again") if planning else pick(lang, "重新测评", "Check again"), again
    )
    paused = (
        pick(lang, "（快速通道规划已暂停）", "(Fast-track plan paused.)")
        if planning
        else pick(lang, "（优先审查测评已暂停）", "(Eligibility check paused.)")
    )
    if facts.has(intent):
        answer = facts.answer(intent, lang)
        buttons = [button(b.title, b.payload) for b in answer.buttons][:3]
        say(dispatcher, answer.text + "\n" + paused, [*buttons, again_button])
        return
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    options = [
        str(r.get("name"))
        for r in ranking
        if str(r.get("name")) in INTENT_LABELS and str(r.get("name")) not in FORM_INTENTS
    ][:CLARIFY_OPTIONS]
    if intent == "out_of_scope" or not options:
        text = pick(
            lang,
            "这个问题我暂时答不了，先暂停。您可以从菜单里选，或找人工。",
            "I can't answer that one, so I've paused here. Pick from the menu or ask a person.",
        )
        buttons = [
            button(pick(lang, "菜单", "Menu"), "/help"),
            button(pick(lang, "转人工", "Talk to a person"), "/human_handoff"),
        ]
    else:
        text = pick(lang, "先暂停一下。您是想问：", "Pausing here. Did you mean:")
        buttons = [button(pick(lang, *INTENT_LABELS[name]), f"/{name}") for name in options]
    say(dispatcher, text, [*buttons, again_button])
