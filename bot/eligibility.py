"""Patent priority examination: who may get it, as pure functions.

The rules are those of 《专利优先审查管理办法》 (SIPO Order No. 76, in force 1 Aug 2017), Arts. 2–3 and 8: any one
of six grounds makes a case eligible; the request needs a request form, prior-art information, supporting
documents and the recommendation of the provincial IP office or a State Council department — except on ground 5
(the first Chinese filing of a subject later filed abroad), which needs none [background knowledge, confirm]. An
invention application must not yet have its first office action [background for 2017; explicit in the 2026
revision for comment]. Whether the 2026 revision is in force is not confirmed, so the verdict carries the source
line of `bot/facts/policy.yml` (where that status lives) rather than deciding it here.

`assess(answers)` gives the verdict; `normalise_*` turn the form's free-text answers into the values it expects.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from agencies.catalogue import FieldCode


class CaseType(enum.StrEnum):
    INVENTION = "invention"
    UTILITY_MODEL = "utility_model"
    DESIGN = "design"
    REEXAMINATION = "reexamination"
    INVALIDATION = "invalidation"


class Exploitation(enum.StrEnum):
    EXPLOITING = "exploiting"
    READY = "ready"
    OTHERS_EXPLOITING = "others_exploiting"
    NONE = "none"


class Verdict(enum.StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    DEPENDS = "depends"


class Ground(enum.IntEnum):
    """The grounds of Art. 3, numbered as in the measures."""

    KEY_INDUSTRY = 1
    PROVINCIAL_PRIORITY = 2
    FAST_MOVING_FIELD = 3
    EXPLOITATION = 4
    FIRST_FILED_IN_CHINA = 5
    PUBLIC_INTEREST = 6


class Signer(enum.StrEnum):
    PROVINCIAL_OFFICE_OR_STATE_COUNCIL_DEPT = "provincial_office_or_state_council_dept"
    NONE_NEEDED = "none_needed"


# Ground 1: the national key industries named in Art. 3(1).
KEY_INDUSTRY_FIELDS = frozenset(
    {
        FieldCode.ENERGY_ENVIRONMENT,
        FieldCode.NEXT_GEN_IT,
        FieldCode.BIOTECH_MEDICINE,
        FieldCode.HIGH_END_EQUIPMENT,
        FieldCode.NEW_ENERGY,
        FieldCode.NEW_MATERIALS,
        FieldCode.NEW_ENERGY_VEHICLES,
        FieldCode.SMART_MANUFACTURING,
    }
)
# Ground 3: internet, big data, cloud computing and other fast-moving fields.
FAST_MOVING_FIELDS = frozenset({FieldCode.DIGITAL_ECONOMY})

# Once approved: how fast the case is handled (Art. 10; the facts file cites it for ask_priority_exam_timeline).
TIME_LIMITS: dict[CaseType, tuple[str, str]] = {
    CaseType.INVENTION: (
        "45日内发出第一次审查意见通知书，1年内结案",
        "first office action within 45 days, closed within 1 year",
    ),
    CaseType.UTILITY_MODEL: ("2个月内结案", "closed within 2 months"),
    CaseType.DESIGN: ("2个月内结案", "closed within 2 months"),
    CaseType.REEXAMINATION: ("7个月内结案", "closed within 7 months"),
    CaseType.INVALIDATION: (
        "发明、实用新型5个月内结案，外观设计4个月内结案",
        "closed within 5 months (invention, utility model) or 4 months (design)",
    ),
}


@dataclass(frozen=True, slots=True)
class Answers:
    """What the form collected. `None` means not asked or "not sure"."""

    case_type: CaseType
    technical_field: FieldCode | None = None
    filed_abroad_first_in_china: bool | None = None
    exploitation: Exploitation | None = None
    provincial_priority_industry: bool | None = None
    first_office_action_received: bool | None = None
    # Invalidation only: is an infringement dispute over the patent already before an IP office or court?
    # (The Rasa form has no question for it yet, so it is None there and the verdict says what it depends on.)
    infringement_dispute_pending: bool | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Assessment:
    verdict: Verdict
    grounds: tuple[Ground, ...]
    reasons: tuple[Reason, ...]
    materials: tuple[Reason, ...]
    signer: Signer | None
    time_limit: tuple[str, str]
    notes: tuple[Reason, ...] = field(default=())


def needed_slots(case_type: CaseType | None, technical_field: FieldCode | None) -> list[str]:
    """The form's questions for this case, in order (the form asks only what the rules need)."""
    slots = ["application_type"]
    if case_type is None:
        return slots
    if case_type is CaseType.INVALIDATION:
        # Invalidation turns on a pending infringement dispute or a major interest, not on the field; the form
        # has no question for the dispute, so the verdict explains what it depends on.
        return slots
    slots += ["technical_field", "filed_abroad_first_in_china", "exploitation_status"]
    if technical_field is None or (technical_field not in KEY_INDUSTRY_FIELDS | FAST_MOVING_FIELDS):
        slots.append("provincial_priority_industry")
    if case_type is CaseType.INVENTION:
        slots.append("first_office_action_received")
    return slots


_GROUND_REASONS: dict[Ground, Reason] = {
    Ground.KEY_INDUSTRY: Reason(
        "key_industry", "属于国家重点发展产业（第三条第一项）", "a national key industry (Art. 3(1))"
    ),
    Ground.PROVINCIAL_PRIORITY: Reason(
        "provincial_priority",
        "属于省级或设区的市级政府重点鼓励的产业（第三条第二项）",
        "a locally prioritised industry (Art. 3(2))",
    ),
    Ground.FAST_MOVING_FIELD: Reason(
        "fast_moving_field",
        "属于互联网、大数据、云计算等技术更新快的领域（第三条第三项）",
        "internet, big data or cloud (Art. 3(3))",
    ),
    Ground.EXPLOITATION: Reason(
        "exploitation",
        "已实施、准备实施，或有证据证明他人正在实施（第三条第四项）",
        "exploited, about to be, or others exploit it (Art. 3(4))",
    ),
    Ground.FIRST_FILED_IN_CHINA: Reason(
        "first_filed_in_china",
        "先在中国提交、又向国外提交的同一主题申请（第三条第五项）",
        "first filed in China, same subject filed abroad (Art. 3(5))",
    ),
}

_MATERIALS_COMMON = (
    Reason("request_form", "优先审查请求书", "request form (优先审查请求书)"),
    Reason("prior_art", "现有技术或现有设计信息材料（检索报告）", "prior-art search report"),
    Reason("evidence", "相关证明文件（如实施证明、国外申请受理文件）", "supporting documents (e.g. proof of use)"),
)
# Who signs it is said on its own line (Signer); the materials list only names it.
_RECOMMENDATION = Reason("recommendation", "推荐意见", "the recommendation")
_INVALIDATION_MATERIALS = (
    Reason("request_form", "优先审查请求书", "request form (优先审查请求书)"),
    Reason(
        "dispute_evidence", "侵权纠纷已被受理的证明（立案通知等）", "proof the dispute is before an office or court"
    ),
    _RECOMMENDATION,
)


_QUOTA_NOTE = Reason(
    "quota",
    "优先审查按领域设有名额，由省级知识产权局在名额内推荐。",
    "Provinces recommend within quotas per field.",
)
_PUBLIC_INTEREST_NOTE = Reason(
    "public_interest",
    "涉及国家利益或公共利益的案件也可请求（第三条第六项），由推荐部门判断。",
    "Also: major national or public interest (Art. 3(6)), judged by the recommending office.",
)


def assess(answers: Answers) -> Assessment:
    """The verdict for one case: eligible, not eligible, or depends (on something only the office can judge)."""
    time_limit = TIME_LIMITS[answers.case_type]
    if answers.case_type is CaseType.INVALIDATION:
        return _assess_invalidation(answers, time_limit)
    if answers.case_type is CaseType.INVENTION and answers.first_office_action_received:
        return _after_first_office_action(time_limit)
    grounds = _grounds_met(answers)
    if grounds:
        return _eligible(answers, grounds, time_limit)
    return _no_ground_met(answers, time_limit)


def _grounds_met(answers: Answers) -> list[Ground]:
    """The grounds of Art. 3 the answers establish for sure, in the measures' order (ground 6 is never sure)."""
    grounds: list[Ground] = []
    if answers.technical_field in KEY_INDUSTRY_FIELDS:
        grounds.append(Ground.KEY_INDUSTRY)
    if answers.provincial_priority_industry:
        grounds.append(Ground.PROVINCIAL_PRIORITY)
    if answers.technical_field in FAST_MOVING_FIELDS:
        grounds.append(Ground.FAST_MOVING_FIELD)
    if answers.exploitation in (Exploitation.EXPLOITING, Exploitation.READY, Exploitation.OTHERS_EXPLOITING):
        grounds.append(Ground.EXPLOITATION)
    if answers.filed_abroad_first_in_china:
        grounds.append(Ground.FIRST_FILED_IN_CHINA)
    return grounds


def _after_first_office_action(time_limit: tuple[str, str]) -> Assessment:
    """An invention that already has its first office action: too late, whatever the grounds."""
    return Assessment(
        verdict=Verdict.NOT_ELIGIBLE,
        grounds=(),
        reasons=(
            Reason(
                "first_office_action",
                "发明申请已收到第一次审查意见通知书，一般不能再请求优先审查（请向省知识产权局确认）",
                "the invention already has its first office action, so priority examination is normally no "
                "longer open (confirm with your provincial IP office)",
            ),
        ),
        materials=(),
        signer=None,
        time_limit=time_limit,
        notes=(
            Reason(
                "alternatives",
                "可考虑：如有国外对应申请已获授权，走PPH；或尽快答复审查意见。",
                "Alternatives: PPH if a foreign counterpart has allowed claims; answer the office action promptly.",
            ),
        ),
    )


def _eligible(answers: Answers, grounds: list[Ground], time_limit: tuple[str, str]) -> Assessment:
    """Eligible on `grounds`: the materials, and who recommends (nobody when the first-in-China ground is alone)."""
    notes = [_QUOTA_NOTE]
    only_ground_5 = grounds == [Ground.FIRST_FILED_IN_CHINA]
    materials = [*_MATERIALS_COMMON]
    if only_ground_5:
        signer = Signer.NONE_NEEDED
    else:
        signer = Signer.PROVINCIAL_OFFICE_OR_STATE_COUNCIL_DEPT
        materials.append(_RECOMMENDATION)
    if Ground.FIRST_FILED_IN_CHINA in grounds and not only_ground_5:
        notes.append(
            Reason(
                "ground_5_no_recommendation",
                "若仅以“先中国后国外申请”为由请求，一般无需推荐意见（请向当地知识产权局确认）。",
                "The first-in-China ground alone needs no recommendation (confirm).",
            )
        )
    if answers.case_type is CaseType.INVENTION and answers.first_office_action_received is None:
        notes.append(
            Reason(
                "before_first_office_action",
                "发明须在收到第一次审查意见通知书前请求。",
                "Request before the first office action.",
            )
        )
    reasons = tuple(_GROUND_REASONS[g] for g in grounds)
    return Assessment(Verdict.ELIGIBLE, tuple(grounds), reasons, tuple(materials), signer, time_limit, tuple(notes))


def _no_ground_met(answers: Answers, time_limit: tuple[str, str]) -> Assessment:
    """No ground met for sure: "depends" on an unanswered question, else not eligible (ground 6 is the office's)."""
    unsure = answers.provincial_priority_industry is None or answers.exploitation is None
    if unsure:
        reason = Reason(
            "unsure",
            "是否属于本省（市）重点产业、是否实施尚不确定：如属于，即可请求",
            "unsure if the industry is prioritised locally or the invention is used; either qualifies",
        )
    else:
        reason = Reason(
            "no_ground",
            "不属于重点产业或快速发展领域，未实施，也不是先中国后国外申请",
            "not a key or fast-moving field, not exploited, not first filed in China then abroad",
        )
    return Assessment(
        Verdict.DEPENDS if unsure else Verdict.NOT_ELIGIBLE,
        (),
        (reason,),
        (*_MATERIALS_COMMON, _RECOMMENDATION) if unsure else (),
        Signer.PROVINCIAL_OFFICE_OR_STATE_COUNCIL_DEPT if unsure else None,
        time_limit,
        (_QUOTA_NOTE, _PUBLIC_INTEREST_NOTE),
    )


def _assess_invalidation(answers: Answers, time_limit: tuple[str, str]) -> Assessment:
    dispute = answers.infringement_dispute_pending
    public_interest = Reason(
        "public_interest",
        "涉及国家利益或公共利益的无效案件也可请求。",
        "Also: cases of major national or public interest.",
    )
    if dispute:
        return Assessment(
            Verdict.ELIGIBLE,
            (),
            (
                Reason(
                    "dispute_pending",
                    "涉案专利的侵权纠纷已被知识产权局或法院受理",
                    "an infringement dispute over the patent is before an IP office or court",
                ),
            ),
            _INVALIDATION_MATERIALS,
            Signer.PROVINCIAL_OFFICE_OR_STATE_COUNCIL_DEPT,
            time_limit,
        )
    verdict = Verdict.NOT_ELIGIBLE if dispute is False else Verdict.DEPENDS
    reason = (
        Reason("no_dispute", "尚无已受理的侵权纠纷", "no infringement dispute is before an authority or court yet")
        if verdict is Verdict.NOT_ELIGIBLE
        else Reason(
            "dispute_unsure",
            "取决于侵权纠纷是否已被知识产权局或法院受理",
            "it depends on whether an infringement dispute is already before an IP office or court",
        )
    )
    return Assessment(
        verdict,
        (),
        (reason,),
        _INVALIDATION_MATERIALS if verdict is Verdict.DEPENDS else (),
        Signer.PROVINCIAL_OFFICE_OR_STATE_COUNCIL_DEPT if verdict is Verdict.DEPENDS else None,
        time_limit,
        (public_interest,),
    )


# ---------------------------------------------------------------- normalising free-text answers

_CASE_WORDS: list[tuple[CaseType, tuple[str, ...]]] = [
    (CaseType.UTILITY_MODEL, ("实用新型", "实用", "实新", "utility", "um")),
    (CaseType.DESIGN, ("外观", "设计专利", "design")),
    (CaseType.REEXAMINATION, ("复审", "reexam", "re-exam", "review")),
    (CaseType.INVALIDATION, ("无效", "invalid")),
    (CaseType.INVENTION, ("发明", "invention", "invent")),
]


def normalise_case_type(value: object) -> CaseType | None:
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    try:
        return CaseType(text)
    except ValueError:
        pass
    for case, words in _CASE_WORDS:
        if any(w in text for w in words):
            return case
    return None


_FIELD_WORDS: list[tuple[FieldCode, tuple[str, ...]]] = [
    (FieldCode.NEW_ENERGY_VEHICLES, ("新能源汽车", "新能源车", "电动车", "电动汽车", "ev", "electric vehicle")),
    (
        FieldCode.DIGITAL_ECONOMY,
        ("互联网", "大数据", "云计算", "软件", "app", "internet", "big data", "cloud", "software", "saas"),
    ),
    (
        FieldCode.NEXT_GEN_IT,
        (
            "信息技术",
            "新一代",
            "通信",
            "芯片",
            "半导体",
            "集成电路",
            "人工智能",
            "ai",
            "5g",
            "chip",
            "semiconductor",
            "it",
        ),
    ),
    (FieldCode.BIOTECH_MEDICINE, ("生物", "医药", "医疗", "制药", "药", "biotech", "bio", "medic", "pharma", "drug")),
    (
        FieldCode.NEW_ENERGY,
        ("新能源", "光伏", "风电", "储能", "电池", "氢能", "锂电", "solar", "batter", "wind", "energy"),
    ),
    (FieldCode.NEW_MATERIALS, ("新材料", "材料", "石墨烯", "复合材料", "material", "graphene")),
    (FieldCode.ENERGY_ENVIRONMENT, ("节能", "环保", "污水", "减排", "environment", "recycling", "pollution")),
    (
        FieldCode.SMART_MANUFACTURING,
        ("智能制造", "工业机器人", "机器人", "自动化", "smart manufactur", "robot", "automation"),
    ),
    (FieldCode.HIGH_END_EQUIPMENT, ("高端装备", "装备", "机床", "航空", "equipment", "aerospace", "machine tool")),
    (FieldCode.CHEMICALS, ("化工", "化学", "chemic")),
    (FieldCode.MECHANICAL, ("机械", "mechanic")),
    (FieldCode.ELECTRICAL, ("电学", "电气", "电子", "electric")),
    (FieldCode.OTHER, ("其他", "其它", "别的", "都不是", "other", "none")),
]


def normalise_field(value: object) -> FieldCode | None:
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    try:
        return FieldCode(text)
    except ValueError:
        pass
    for code, words in _FIELD_WORDS:
        for word in words:
            # Short Latin words only as whole words ("it", "ev", "ai"), Chinese anywhere in the text.
            if word.isascii() and len(word) <= 3:
                if re.search(rf"\b{re.escape(word)}\b", text):
                    return code
            elif word in text:
                return code
    return None


UNSURE = "unsure"
_UNSURE_WORDS = (
    "不确定",
    "不知道",
    "不清楚",
    "说不好",
    "不太清楚",
    "not sure",
    "unsure",
    "don't know",
    "dont know",
    "no idea",
    "maybe",
)
_NO_WORDS = ("否", "不是", "没有", "没", "不", "无", "no", "nope", "not")
_YES_WORDS = ("是", "对", "有", "嗯", "好", "yes", "yep", "yeah", "sure", "correct", "true", "y")


def normalise_yes_no(value: object) -> bool | str | None:
    """True / False / UNSURE for an answer, or None when it cannot be read (the question is asked again)."""
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if text in ("true", "false"):
        return text == "true"
    if any(w in text for w in _UNSURE_WORDS):
        return UNSURE
    words = set(re.findall(r"[a-z']+", text))
    # Chinese negations first: "不是", "没有" contain the yes-characters "是", "有".
    if any((w in words) if w.isascii() else (w in text) for w in _NO_WORDS):
        return False
    if any((w in words) if w.isascii() else (w in text) for w in _YES_WORDS):
        return True
    return None


_EXPLOITATION_WORDS: list[tuple[Exploitation | str, tuple[str, ...]]] = [
    (UNSURE, _UNSURE_WORDS),
    (
        Exploitation.OTHERS_EXPLOITING,
        ("别人", "他人", "其他公司", "对手", "侵权", "仿", "others", "someone else", "competitor"),
    ),
    (Exploitation.NONE, ("都没有", "没有", "还没", "没", "none", "neither", "not yet", "no")),
    (Exploitation.READY, ("准备", "马上", "即将", "打算", "计划", "about to", "ready", "soon", "plan", "going to")),
    (
        Exploitation.EXPLOITING,
        ("已经", "已在", "在用", "实施", "投产", "量产", "在卖", "already", "in use", "using", "selling", "yes"),
    ),
]


def normalise_exploitation(value: object) -> Exploitation | str | None:
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    try:
        return Exploitation(text)
    except ValueError:
        pass
    words = set(re.findall(r"[a-z']+", text))
    for status, keys in _EXPLOITATION_WORDS:
        for key in keys:
            hit = (key in words) if (key.isascii() and " " not in key) else (key in text)
            if hit:
                return status
    return None
