"""The fast-track form's answers, as pure functions: free text → the planner's values, what an opening sentence
already says, the chat's slots → the planner's request fields (contract names), and which question comes next.

The form (`fast_track_form`, bot/domain/forms.yml) keeps its answers in chat slots; the planner
(`POST /api/v1/fast-track/plan`, package `fast_track`) takes the contract fields `kind`, `stage`, `technical_field`,
`region`, `foreign_allowed_office`, `filed_abroad_after_china`, `exploiting`, `centre_record`, `mark_type`, … .
`SLOT_OF_FIELD` is the one table between the two.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from agencies.catalogue import FieldCode
from bot.eligibility import (
    UNSURE,
    CaseType,
    Exploitation,
    normalise_case_type,
    normalise_exploitation,
    normalise_field,
    normalise_yes_no,
)

KINDS = ("invention", "utility_model", "design", "trademark")
STAGES = ("not_filed", "filed", "substantive_exam", "office_action", "granted")
MARK_TYPES = ("word", "figurative", "collective", "certification")
OFFICES = ("US", "JP", "EP", "KR", "GB", "DE", "CA", "AU", "RU", "SG", "other")
NO_OFFICE = "none"

# The planner's field → the chat slot that holds its answer (the form asks these; the rest it never asks).
SLOT_OF_FIELD: dict[str, str] = {
    "kind": "application_type",
    "stage": "stage",
    "technical_field": "technical_field",
    "region": "plan_region",
    "foreign_allowed_office": "foreign_allowed_office",
    "centre_record": "centre_record",
    "filed_abroad_after_china": "filed_abroad_first_in_china",
    "exploiting": "exploitation_status",
    "mark_type": "mark_type",
}
# The order the form asks what the planner says is still open: the questions that open the quickest routes first.
PLAN_QUESTION_ORDER = (
    "plan_region",
    "foreign_allowed_office",
    "centre_record",
    "exploitation_status",
    "filed_abroad_first_in_china",
    "mark_type",
)
# At most this many questions beyond kind, stage and field: a phone conversation, not a questionnaire; what stays
# open is listed under the plan ("still to confirm") and on the plan page.
MAX_PLAN_QUESTIONS = 3
# Every slot of the form (reset when it starts and when it answers).
PLAN_SLOTS = (
    "application_type",
    "stage",
    "technical_field",
    "plan_region",
    "foreign_allowed_office",
    "centre_record",
    "filed_abroad_first_in_china",
    "exploitation_status",
    "provincial_priority_industry",
    "first_office_action_received",
    "mark_type",
    "plan_field_text",
)


def _lower(value: object) -> str | None:
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


def _unsure(text: str) -> bool:
    return normalise_yes_no(text) == UNSURE


def normalise_kind(value: object) -> str | None:
    """invention / utility_model / design / trademark (reexamination and invalidation are priority-exam cases)."""
    text = _lower(value)
    if text is None:
        return None
    if text in KINDS or text in ("reexamination", "invalidation"):
        return text
    if any(w in text for w in ("商标", "牌子", "品牌名", "trademark", "trade mark", "brand")):
        return "trademark"
    if text in ("trademark_registration",):
        return "trademark"
    case = normalise_case_type(text)
    return case.value if case is not None else None


_STAGE_WORDS: list[tuple[str, tuple[str, ...]]] = [
    (
        "not_filed",
        (
            "还没申请",
            "还没提交",
            "没申请",
            "没提交",
            "未申请",
            "未提交",
            "准备申请",
            "打算申请",
            "还没报",
            "not filed",
            "not yet filed",
            "haven't filed",
            "have not filed",
            "before filing",
            "not_filed",
        ),
    ),
    ("office_action", ("审查意见", "意见通知", "补正", "驳回", "office action", "oa", "office_action")),
    ("granted", ("已授权", "授权了", "拿到证", "下证了", "granted", "already granted")),
    ("substantive_exam", ("实审", "实质审查", "实质审", "substantive", "substantive_exam", "under examination")),
    ("filed", ("已提交", "刚提交", "提交了", "已申请", "申请了", "受理", "报上去", "filed", "submitted", "pending")),
]


def normalise_stage(value: object) -> str | None:
    text = _lower(value)
    if text is None:
        return None
    if text in STAGES:
        return text
    if _unsure(text):
        return UNSURE
    words = set(re.findall(r"[a-z_']+", text))
    for stage, keys in _STAGE_WORDS:
        for key in keys:
            hit = (key in words) if (key.isascii() and " " not in key) else (key in text)
            if hit:
                return stage
    return None


_OFFICE_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("US", ("美国", "美方", "uspto", "us", "usa", "united states", "america")),
    ("JP", ("日本", "jpo", "jp", "japan")),
    ("EP", ("欧洲", "欧专局", "epo", "ep", "europe", "european")),
    ("KR", ("韩国", "kipo", "kr", "korea")),
    ("GB", ("英国", "uk", "gb", "britain")),
    ("DE", ("德国", "de", "germany")),
]
_NO_OFFICE_WORDS = ("没有", "没", "无", "都没", "只在国内", "none", "no", "nope", "not yet")


def normalise_office(value: object) -> str | None:
    """An office code, NO_OFFICE, UNSURE, or None when unreadable."""
    text = _lower(value)
    if text is None:
        return None
    if text.upper() in OFFICES:
        return text.upper() if text != "other" else "other"
    if text == NO_OFFICE:
        return NO_OFFICE
    if _unsure(text):
        return UNSURE
    words = set(re.findall(r"[a-z]+", text))
    for office, keys in _OFFICE_WORDS:
        if any((k in words) if k.isascii() and " " not in k else (k in text) for k in keys):
            return office
    if any((k in words) if k.isascii() and " " not in k else (k in text) for k in _NO_OFFICE_WORDS):
        return NO_OFFICE
    if any(w in text for w in ("其他", "其它", "别的国家", "other", "another")):
        return "other"
    return None


_MARK_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("collective", ("集体", "collective")),
    ("certification", ("证明商标", "证明", "certification")),
    ("figurative", ("图形", "图案", "logo", "标志", "figurative", "device", "image")),
    ("word", ("文字", "名字", "字号", "word", "name")),
]


def normalise_mark_type(value: object) -> str | None:
    text = _lower(value)
    if text is None:
        return None
    if text in MARK_TYPES:
        return text
    if _unsure(text):
        return UNSURE
    for mark, keys in _MARK_WORDS:
        if any(k in text for k in keys):
            return mark
    return None


def normalise_bool(value: object) -> bool | str | None:
    """True / False / UNSURE, or None when unreadable (the question is asked again)."""
    return normalise_yes_no(value)


# ---------------------------------------------------------------- what the opening sentence already says

_FIELD_HINT = re.compile(r"做|搞|生产|行业|领域|产品|技术|的专利|的发明|field|industry|make|maker|product")


def prefill_from_text(text: str, entities: Mapping[str, str]) -> dict[str, Any]:
    """The form's answers an opening sentence gives ("我们有件锂电池隔膜的发明专利在实审" → kind, field, stage),
    from the model's entities first, else the words. Only what is said clearly: anything doubtful is asked."""
    found: dict[str, Any] = {}
    lower = text.lower()
    kind = normalise_kind(entities.get("service_type")) or _kind_in_text(lower)
    if kind is not None:
        found["application_type"] = kind
    stage = normalise_stage(lower)
    if stage not in (None, UNSURE):
        found["stage"] = stage
    field_entity = entities.get("technical_field")
    field = normalise_field(field_entity) if field_entity else None
    if field is None and _FIELD_HINT.search(lower):
        field = normalise_field(_strip_kind_words(lower))
        if field is FieldCode.OTHER:
            field = None  # "其他" in an opening sentence is not an answer to a question not yet asked
    if field is not None and kind != "trademark":
        found["technical_field"] = field.value
        found["plan_field_text"] = text
    office = _allowed_office_in_text(lower)
    if office is not None:
        found["foreign_allowed_office"] = office
    region = entities.get("region")
    if region:
        found["plan_region"] = region
    return found


def _kind_in_text(text: str) -> str | None:
    for words, kind in (
        (("商标", "trademark", "trade mark"), "trademark"),
        (("实用新型", "utility model"), "utility_model"),
        (("外观设计", "外观专利", "design patent"), "design"),
        (("发明", "invention"), "invention"),
    ):
        if any(w in text for w in words):
            return kind
    return None


def _strip_kind_words(text: str) -> str:
    # "发明专利" / "实用新型" must not be read as a field; "新型" in 实用新型 is not 新一代.
    return re.sub(r"发明|实用新型|外观设计|专利|invention|utility model|patent|design", " ", text)


_ALLOWED = re.compile(r"授权|批了|批下来|allowed|granted|grant")


def _allowed_office_in_text(text: str) -> str | None:
    """ "美国那边已经授权了" → US: a foreign office named together with an allowance."""
    if not _ALLOWED.search(text):
        return None
    office = normalise_office(text)
    return office if office not in (None, NO_OFFICE, UNSURE, "other") else None


# ---------------------------------------------------------------- slots → the planner's request


def _known(value: object) -> bool:
    return value is not None and value != UNSURE


def plan_fields(slots: Mapping[str, Any]) -> dict[str, Any]:
    """The planner request's fields (contract names) from the form's slots: only what is known; an unanswered or
    "not sure" question is left out, so the planner marks the routes it decides `unknown` and lists it in `asked`.
    "No foreign office" is an explicit null (the contract's "null if none")."""
    fields: dict[str, Any] = {}
    kind = normalise_kind(slots.get("application_type"))
    if kind in KINDS:
        fields["kind"] = kind
    stage = slots.get("stage")
    if stage in STAGES:
        fields["stage"] = stage
    elif slots.get("first_office_action_received") is True:
        fields["stage"] = "office_action"
    field_text = slots.get("plan_field_text")
    field = normalise_field(slots.get("technical_field"))
    if field is not None and field is not FieldCode.OTHER:
        fields["technical_field"] = field_text if isinstance(field_text, str) and field_text else field.value
    elif field is FieldCode.OTHER and isinstance(field_text, str) and field_text:
        fields["technical_field"] = field_text
    region = slots.get("plan_region")
    if isinstance(region, str) and re.fullmatch(r"\d{6}", region):
        fields["region"] = region
    office = slots.get("foreign_allowed_office")
    if office == NO_OFFICE:
        fields["foreign_allowed_office"] = None
    elif isinstance(office, str) and office in OFFICES and office != "other":
        fields["foreign_allowed_office"] = office
    for slot, name in (("filed_abroad_first_in_china", "filed_abroad_after_china"), ("centre_record", "centre_record")):
        value = normalise_yes_no(slots.get(slot))
        if isinstance(value, bool):
            fields[name] = value
    exploitation = normalise_exploitation(slots.get("exploitation_status"))
    if isinstance(exploitation, Exploitation):
        fields["exploiting"] = exploitation is not Exploitation.NONE
    mark = slots.get("mark_type")
    if mark in MARK_TYPES:
        fields["mark_type"] = mark
    return fields


def plan_questions(slots: Mapping[str, Any], asked: Sequence[str]) -> list[str]:
    """The form's questions for a plan, in order: kind, stage, the field (patents), then what the planner says
    still decides a route (`asked`), the quickest routes' questions first, at most MAX_PLAN_QUESTIONS of them.
    Slots already answered stay in the list (the form skips them), so the list is stable while it is filled."""
    kind = normalise_kind(slots.get("application_type"))
    questions = ["application_type"]
    if kind is None:
        return questions
    questions.append("stage")
    if kind != "trademark":
        questions.append("technical_field")
    open_slots = {SLOT_OF_FIELD[name] for name in asked if name in SLOT_OF_FIELD}
    extra = [slot for slot in PLAN_QUESTION_ORDER if slot in open_slots or _known(slots.get(slot))]
    if kind == "trademark":
        extra = [slot for slot in extra if slot in ("mark_type", "plan_region")]
    else:
        extra = [slot for slot in extra if slot != "mark_type"]
    return questions + extra[:MAX_PLAN_QUESTIONS]


def is_priority_case(kind: str | None) -> bool:
    """Reexamination and invalidation are priority-examination cases only: the planner does not plan them."""
    return kind in (CaseType.REEXAMINATION.value, CaseType.INVALIDATION.value)
