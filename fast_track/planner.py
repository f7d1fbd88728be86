"""The planner itself, as a pure function: `plan(request, rules, centres, profile) -> PlanAnswer`.

For each route of the data file (`fast_track.rules`) it checks the rules the data names, in three values: a rule
is met (`yes`), broken (`no`, and the route is `no` naming that rule) or undecided because an input is missing
(`unknown`, and the input is added to `asked`). A route is `no` if any rule is broken, else `unknown` if any is
undecided, else `yes`. Routes are ranked by `expected_days` (the typical figure, else the statutory limit; routes
with no figure last); `recommended` is the soonest `yes` route. Nothing here reads the database: the centres and the
profile are handed in (`fast_track.service.plan_for` loads them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from agencies.catalogue import FIELDS, FieldCode
from bot.vocabulary import TECHNICAL_FIELDS, match_in
from core import regions
from fast_track.rules import Kind, MarkType, Rules, Situation, Stage, Track, TrackName
from fast_track.schemas import (
    CentreBrief,
    FieldMatch,
    Figure,
    Lang,
    PlanAnswer,
    PlanRequest,
    ProfileUse,
    RuleCheck,
    TrackOut,
    Verdict,
)

DRAFT_PATH = "/api/v1/fast-track/draft"
DRAFTED: frozenset[TrackName] = frozenset({TrackName.PRIORITY_EXAM, TrackName.PPH})
QUALIFICATION_LABELS = {
    "national_little_giant": ("国家级专精特新“小巨人”企业", "a national 'little giant' firm"),
    "provincial_specialized": ("省级专精特新中小企业", "a provincial specialized SME"),
}


@dataclass(frozen=True, slots=True)
class Centre:
    """A protection centre as the planner reads it (the table officials keep, `fast_track.models`)."""

    name: str
    name_en: str
    region_codes: tuple[str, ...]
    fields: tuple[FieldCode, ...]
    words: tuple[str, ...]
    application_types: tuple[str, ...]
    contact: str = ""
    record_url: str | None = None
    scope_confirmed: bool = False
    kind: str = "protection"
    id: int | None = None

    def serves(self, region_code: str) -> bool:
        return any(region_code.startswith(regions.prefix_of(code)) for code in self.region_codes)

    def specificity(self, region_code: str) -> int:
        """How closely the centre's area fits the region: the longest served prefix it starts with."""
        return max(
            (len(regions.prefix_of(c)) for c in self.region_codes if self.serves_code(c, region_code)), default=0
        )

    @staticmethod
    def serves_code(code: str, region_code: str) -> bool:
        return region_code.startswith(regions.prefix_of(code))

    def field_match(self, text: str, mapped: FieldCode | None) -> str | None:
        """The word or field by which the application falls in the centre's scope, or None."""
        lowered = text.lower()
        for word in sorted(self.words, key=len, reverse=True):
            if word.lower() in lowered:
                return word
        if mapped is not None and mapped in self.fields:
            return FIELDS[mapped].zh
        return None


@dataclass(frozen=True, slots=True)
class Profile:
    """What the signed-in enterprise's profile says (None for anyone else)."""

    enterprise_id: int | None
    name: str = ""
    region_code: str | None = None
    # The verified, unexpired qualification (none / provincial_specialized / national_little_giant), or None
    # when not verified.
    qualification: str | None = None
    verified: bool = False


@dataclass(slots=True)
class _Check:
    rule: str
    verdict: Verdict
    reason: str | None = None  # why, in the answer's language (the rule's text is added from the data)
    asked: tuple[str, ...] = ()


@dataclass(slots=True)
class _Context:
    request: PlanRequest
    rules: Rules
    lang: Lang
    region: str | None
    field: FieldCode | None
    matched: str | None
    centre: Centre | None
    centre_match: str | None
    qualification: str | None
    notes: list[str] = dataclasses.field(default_factory=list)

    def t(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh" else en


def detect_lang(request: PlanRequest) -> Lang:
    if request.lang is not None:
        return request.lang
    texts = [t for t in (request.technical_field, request.situation) if t]
    if texts and all(t.isascii() for t in texts):
        return "en"
    return "zh"


def map_field(text: str | None) -> tuple[FieldCode | None, str | None]:
    """The catalogue field a free-text description names, and the word that matched (the assistant's vocabulary)."""
    if not text:
        return None, None
    found = match_in(TECHNICAL_FIELDS, text)
    if found is None:
        return None, None
    return FieldCode(found[0]), found[1]


def local_centre(
    centres: Sequence[Centre], region: str | None, text: str | None, mapped: FieldCode | None, kind: Kind | None = None
) -> Centre | None:
    """The centre serving the region: among those that pre-examine this kind of application, one whose scope
    matches the field (the closest area first), else the closest one."""
    if region is None:
        return None
    serving = [c for c in centres if c.serves(region)]
    if kind is not None and any(kind.value in c.application_types for c in serving):
        serving = [c for c in serving if kind.value in c.application_types]
    if not serving:
        return None
    serving.sort(key=lambda c: -c.specificity(region))
    if text:
        for centre in serving:
            if centre.field_match(text, mapped) is not None:
                return centre
    return serving[0]


def plan(request: PlanRequest, rules: Rules, centres: Sequence[Centre], profile: Profile | None = None) -> PlanAnswer:
    """Every route's verdict for one application, ranked soonest first."""
    lang = detect_lang(request)
    filled: list[str] = []
    region = request.region
    if region is None and profile is not None and profile.region_code is not None:
        region = profile.region_code
        filled.append("region")
    qualification = None
    if profile is not None and profile.verified and profile.qualification not in (None, "none"):
        qualification = profile.qualification
        filled.append("qualification")
    mapped, matched = map_field(request.technical_field)
    centre = local_centre(centres, region, request.technical_field, mapped, request.kind)
    centre_match = centre.field_match(request.technical_field, mapped) if centre and request.technical_field else None
    ctx = _Context(request, rules, lang, region, mapped, matched, centre, centre_match, qualification)

    if centre is not None and not centre.scope_confirmed:
        ctx.notes.append(
            ctx.t(
                f"{centre.name}的服务区域和预审领域来自公开报道，尚未核实，请以中心公布为准",
                f"{centre.name_en or centre.name}'s area and fields come from published reports and are not "
                "confirmed: the centre's own list decides",
            )
        )
    if centre is not None and request.technical_field and kind_needs_ipc(request.kind):
        ctx.notes.append(
            ctx.t(
                "保护中心按IPC（外观设计按洛迦诺分类）判断领域，此处按描述文字初步匹配",
                "centres decide the field by IPC class (Locarno for designs); this match reads your description only",
            )
        )
    results = [_track(ctx, name) for name in TrackName]
    outs = [out for out, _ in results]
    _mark_exclusive(ctx, outs)
    outs.sort(key=lambda o: (o.expected_days is None, o.expected_days or 0, list(TrackName).index(o.track)))
    wanted = {name for _, asked in results for name in asked}
    asked = [name for name in ASKED_ORDER if name in wanted]
    recommended = next((o.track for o in outs if o.eligible == "yes"), None)
    return PlanAnswer(
        tracks=outs,
        recommended=recommended,
        asked=asked,
        lang=lang,
        field_match=_field_match(ctx),
        centre=_centre_brief(centre),
        profile=_profile_use(ctx, profile, filled),
        notes=ctx.notes,
        disclaimer=ctx.t(
            "本规划依据公开政策自动生成，仅供参考，不构成法律意见；能否获准由国家知识产权局、保护中心和省级知识产权局决定。",
            "This plan is generated from published rules for guidance only and is not legal advice; CNIPA, the "
            "protection centre and the provincial IP office decide.",
        ),
    )


def kind_needs_ipc(kind: Kind | None) -> bool:
    """Patents are classified (IPC, Locarno for designs); trademarks are not pre-examined by centres."""
    return kind is not None and kind is not Kind.TRADEMARK


# The order `asked` lists the inputs in: the clerk's order of questions.
ASKED_ORDER = (
    "kind",
    "stage",
    "technical_field",
    "region",
    "pct_national_phase",
    "foreign_allowed_office",
    "filed_abroad_after_china",
    "exploiting",
    "related_applications",
    "centre_record",
    "mark_type",
    "situation",
)


# ---------------------------------------------------------------- one route


def _track(ctx: _Context, name: TrackName) -> tuple[TrackOut, set[str]]:
    track = ctx.rules[name]
    checks = _checks(ctx, name, track)
    verdict: Verdict = "yes"
    if any(c.verdict == "no" for c in checks):
        verdict = "no"
    elif any(c.verdict == "unknown" for c in checks):
        verdict = "unknown"
    # Only an undecided route asks: a route already ruled out needs nothing more.
    asked = {a for c in checks if c.verdict == "unknown" for a in c.asked} if verdict == "unknown" else set()
    reasons: list[str] = []
    rule_checks: list[RuleCheck] = []
    for check in checks:
        rule = track.rules[check.rule]
        source = ctx.rules.source_line([rule.source], ctx.lang)
        text = rule.text.zh if ctx.lang == "zh" else rule.text.en
        rule_checks.append(
            RuleCheck(rule=check.rule, verdict=check.verdict, text=text, source=source, confirmed=rule.confirmed)
        )
        if check.reason is None:
            continue
        if verdict == "no" and check.verdict != "no":
            continue  # a route ruled out is explained by the rule that rules it out
        label = ctx.t(f"【{check.rule}】", f"[{check.rule}] ")
        caveat = (
            ""
            if rule.confirmed
            else ctx.t(
                "（未经官方文本证实，请向主管部门确认）", " (not confirmed by the official text: check with the office)"
            )
        )
        reasons.append(f"{label}{check.reason}{caveat}")
    kind = ctx.request.kind
    time = track.times.get(kind) if kind is not None else None
    if time is None and kind is None:
        # Kind unknown: the route's first kind stands for the figure (it is `unknown` anyway).
        time = track.times[track.kinds[0]]
    figures: list[Figure] = []
    expected_days: int | None = None
    expected = ctx.t("不适用于此类申请", "does not apply to this kind of application")
    sources = [track.rules[c.rule].source for c in checks if c.verdict == "no"][:1]
    if time is not None:
        expected_days = time.expected_days
        expected = time.text.zh if ctx.lang == "zh" else time.text.en
        figures.append(
            Figure(
                what="expected_days",
                value=expected_days,
                text=expected,
                source=ctx.rules.source_line([time.source], ctx.lang),
                confirmed=time.confirmed,
            )
        )
        sources.append(time.source)
    fee_text = track.fee.text.zh if ctx.lang == "zh" else track.fee.text.en
    figures.append(
        Figure(
            what="fee_fen",
            value=track.fee.fen,
            text=fee_text,
            source=ctx.rules.source_line([track.fee.source], ctx.lang),
            confirmed=track.fee.confirmed,
        )
    )
    sources.append(track.fee.source)
    if not sources:
        sources = [next(iter(track.rules.values())).source]
    out = TrackOut(
        track=name,
        name=track.name.zh if ctx.lang == "zh" else track.name.en,
        eligible=verdict,
        reasons=reasons,
        expected_days=expected_days,
        expected=expected,
        materials=[m.zh if ctx.lang == "zh" else m.en for m in track.materials],
        next_step=track.next_step.zh if ctx.lang == "zh" else track.next_step.en,
        source=ctx.rules.source_line(sources, ctx.lang),
        fee_fen=track.fee.fen,
        figures=figures,
        checks=rule_checks,
        exclusive_with=list(track.exclusive_with),
        draft_url=_draft_url(ctx.request, name) if name in DRAFTED and verdict != "no" else None,
    )
    return out, asked


def _mark_exclusive(ctx: _Context, outs: list[TrackOut]) -> None:
    """Routes that exclude each other: each open route names the other open routes it cannot be combined with."""
    open_routes = {o.track for o in outs if o.eligible != "no"}
    for out in outs:
        track = ctx.rules[out.track]
        others = [n for n in track.exclusive_with if n in open_routes and out.track in open_routes]
        if not others or track.exclusive is None:
            continue
        names = (
            "、".join(ctx.rules[n].name.zh for n in others)
            if ctx.lang == "zh"
            else ", ".join(ctx.rules[n].name.en for n in others)
        )
        rule_text = track.exclusive.text.zh if ctx.lang == "zh" else track.exclusive.text.en
        source = ctx.rules.source_line([track.exclusive.source], ctx.lang)
        caveat = (
            "" if track.exclusive.confirmed else ctx.t("（未经官方文本证实）", " (not confirmed by the official text)")
        )
        out.reasons.append(
            ctx.t(
                f"【exclusive】不能与{names}同时使用：{rule_text}{caveat}（{source}）",
                f"[exclusive] cannot be combined with {names}: {rule_text}{caveat} ({source})",
            )
        )


def _draft_url(request: PlanRequest, name: TrackName) -> str:
    params: dict[str, str] = {"track": name.value}
    for key, value in request.model_dump(exclude_none=True).items():
        params[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return f"{DRAFT_PATH}?{urlencode(params)}"


# ---------------------------------------------------------------- the rules each route checks


def _checks(ctx: _Context, name: TrackName, track: Track) -> list[_Check]:
    checks = [_kind(ctx, track), _stage(ctx, track)]
    if name is TrackName.FAST_PREEXAM:
        checks += _fast_preexam(ctx)
    elif name is TrackName.PRIORITY_EXAM:
        checks += _priority_exam(ctx, track)
    elif name is TrackName.PPH:
        checks.append(_pph_office(ctx, track))
    elif name is TrackName.CENTRALIZED_EXAM:
        checks.append(_related(ctx, track))
    elif name is TrackName.TRADEMARK_FAST_EXAM:
        checks += _trademark(ctx, track)
    return checks


def _kind(ctx: _Context, track: Track) -> _Check:
    kind = ctx.request.kind
    if kind is None:
        return _Check("kind", "unknown", ctx.t("需要知道申请类型", "depends on the kind of application"), ("kind",))
    if kind not in track.kinds:
        return _Check("kind", "no", ctx.t(f"不适用于{_KIND_ZH[kind]}", f"not for {_KIND_EN[kind]}"))
    return _Check("kind", "yes")


def _stage(ctx: _Context, track: Track) -> _Check:
    kind, stage = ctx.request.kind, ctx.request.stage
    if stage is None:
        return _Check(
            "stage", "unknown", ctx.t("需要知道申请所处阶段", "depends on the application's stage"), ("stage",)
        )
    if kind is None or kind not in track.kinds:
        return _Check("stage", "unknown", None, ("kind",))
    allowed = track.stages[kind]
    if stage not in allowed:
        rule = track.rules["stage"].text
        return _Check(
            "stage",
            "no",
            ctx.t(
                f"当前阶段（{_STAGE_ZH[stage]}）不能请求：{rule.zh}",
                f"not at this stage ({_STAGE_EN[stage]}): {rule.en}",
            ),
        )
    return _Check("stage", "yes")


def _fast_preexam(ctx: _Context) -> list[_Check]:
    r = ctx.request
    checks: list[_Check] = []
    if r.pct_national_phase is None:
        checks.append(
            _Check(
                "pct_national_phase",
                "unknown",
                ctx.t("需要知道是否为PCT进入国家阶段", "depends on whether it is a PCT national-phase entry"),
                ("pct_national_phase",),
            )
        )
    elif r.pct_national_phase:
        checks.append(
            _Check(
                "pct_national_phase",
                "no",
                ctx.t("PCT进入国家阶段的申请不能预审", "PCT national-phase entries cannot be pre-examined"),
            )
        )
    else:
        checks.append(_Check("pct_national_phase", "yes"))
    centre = ctx.centre
    if ctx.region is None:
        checks.append(
            _Check(
                "centre_region",
                "unknown",
                ctx.t("需要知道申请人所在地区", "depends on where the applicant is registered"),
                ("region",),
            )
        )
    elif centre is None:
        place = regions.display_name(ctx.region)
        checks.append(
            _Check(
                "centre_region",
                "no",
                ctx.t(
                    f"我们的保护中心名单里没有服务{place}的中心（名单可能不全，请向当地知识产权局确认）",
                    f"no protection centre on our list serves {place} "
                    "(the list may be incomplete: ask the local IP office)",
                ),
            )
        )
    else:
        checks.append(
            _Check(
                "centre_region",
                "yes",
                ctx.t(f"本地中心：{centre.name}", f"local centre: {centre.name_en or centre.name}"),
            )
        )
    checks.append(_centre_field(ctx))
    if r.centre_record is None:
        checks.append(
            _Check(
                "centre_record",
                "unknown",
                ctx.t("需要知道是否已在保护中心备案", "depends on whether you are on record with the centre"),
                ("centre_record",),
            )
        )
    elif not r.centre_record:
        checks.append(
            _Check(
                "centre_record",
                "no",
                ctx.t(
                    "尚未在保护中心备案：先备案，备案后可用于以后的申请",
                    "not on record with the centre yet: get on record first, for this or the next application",
                ),
            )
        )
    else:
        checks.append(_Check("centre_record", "yes"))
    return checks


def _centre_field(ctx: _Context) -> _Check:
    centre, kind = ctx.centre, ctx.request.kind
    if centre is None:
        if ctx.region is not None:
            return _Check("centre_field", "no", None)  # no centre serves the region: centre_region says so
        # Which centre, and so which fields, depends on the region; the field is needed all the same.
        missing = ("region",) if ctx.request.technical_field else ("region", "technical_field")
        return _Check("centre_field", "unknown", None, missing)
    if kind is not None and kind is not Kind.TRADEMARK and kind.value not in centre.application_types:
        return _Check(
            "centre_field",
            "no",
            ctx.t(
                f"{centre.name}不预审{_KIND_ZH[kind]}",
                f"{centre.name_en or centre.name} does not pre-examine {_KIND_EN[kind]}",
            ),
        )
    if not centre.fields and not centre.words:
        # The centre's fields are not on our table: no answer of the applicant's decides it, the centre does.
        return _Check(
            "centre_field",
            "unknown",
            ctx.t(
                f"{centre.name}的预审领域未列入我们的名单，请向该中心确认",
                f"{centre.name_en or centre.name}'s pre-examination fields are not on our list: ask the centre",
            ),
        )
    if ctx.request.technical_field is None:
        return _Check(
            "centre_field", "unknown", ctx.t("需要知道技术领域", "depends on the technical field"), ("technical_field",)
        )
    scope = _centre_scope(ctx, centre)
    unconfirmed = (
        ""
        if centre.scope_confirmed
        else ctx.t("（该中心领域未经证实，请向中心确认）", " (the centre's scope is unconfirmed: check with it)")
    )
    if ctx.centre_match is not None:
        return _Check(
            "centre_field",
            "yes",
            ctx.t(
                f"“{ctx.request.technical_field}”属于{centre.name}的领域（{ctx.centre_match}）{unconfirmed}",
                f"'{ctx.request.technical_field}' is in the scope of {centre.name_en or centre.name} "
                f"({ctx.centre_match}){unconfirmed}",
            ),
        )
    if ctx.field is None:
        return _Check(
            "centre_field",
            "unknown",
            ctx.t(
                f"无法判断“{ctx.request.technical_field}”属于哪个领域；{centre.name}的领域：{scope}",
                f"cannot tell which field '{ctx.request.technical_field}' is; "
                f"{centre.name_en or centre.name} covers: {scope}",
            ),
            ("technical_field",),
        )
    return _Check(
        "centre_field",
        "no",
        ctx.t(
            f"“{ctx.request.technical_field}”（{FIELDS[ctx.field].zh}）不在{centre.name}的预审领域内（{scope}）{unconfirmed}",
            f"'{ctx.request.technical_field}' ({FIELDS[ctx.field].en}) is outside "
            f"{centre.name_en or centre.name}'s fields ({scope}){unconfirmed}",
        ),
    )


def _centre_scope(ctx: _Context, centre: Centre) -> str:
    labels = [FIELDS[f].zh if ctx.lang == "zh" else FIELDS[f].en for f in centre.fields]
    labels += [w for w in centre.words if w not in labels][:6]
    return ("、" if ctx.lang == "zh" else ", ").join(labels) or ctx.t("未公布", "not published")


def _priority_exam(ctx: _Context, track: Track) -> list[_Check]:
    r = ctx.request
    met: list[str] = []
    undecided: list[str] = []
    if ctx.field is not None and ctx.field in track.key_industry_fields:
        met.append(
            ctx.t(
                f"情形①国家重点产业（{FIELDS[ctx.field].zh}）",
                f"ground 1, a national key industry ({FIELDS[ctx.field].en})",
            )
        )
    elif ctx.field is not None and ctx.field in track.fast_moving_fields:
        met.append(
            ctx.t(
                f"情形③更新快的领域（{FIELDS[ctx.field].zh}）",
                f"ground 3, a fast-moving field ({FIELDS[ctx.field].en})",
            )
        )
    elif ctx.field is None:
        undecided.append("technical_field")
    if r.exploiting:
        met.append(ctx.t("情形④已实施或准备实施", "ground 4, exploited or about to be"))
    elif r.exploiting is None:
        undecided.append("exploiting")
    if r.filed_abroad_after_china:
        met.append(
            ctx.t(
                "情形⑤先中国后国外申请（无需推荐意见）",
                "ground 5, first filed in China then abroad (no recommendation needed)",
            )
        )
    elif r.filed_abroad_after_china is None:
        undecided.append("filed_abroad_after_china")
    checks: list[_Check] = []
    if met:
        checks.append(_Check("ground", "yes", ctx.t("符合" + "；".join(met), "meets " + "; ".join(met))))
    elif undecided:
        checks.append(
            _Check(
                "ground",
                "unknown",
                ctx.t(
                    "需要知道技术领域、实施情况或是否向国外申请",
                    "depends on the field, exploitation or a filing abroad",
                ),
                tuple(undecided),
            )
        )
    else:
        checks.append(
            _Check(
                "ground",
                "no",
                ctx.t(
                    "不符合情形①③④⑤；情形②（省、市重点鼓励产业）和⑥（国家或公共利益）须向省级知识产权局确认",
                    "none of grounds 1, 3, 4, 5; grounds 2 (provincial priority industries) and 6 (public interest) "
                    "are for the provincial IP office to confirm",
                ),
            )
        )
    if r.filed_abroad_after_china:
        checks.append(
            _Check(
                "recommendation", "yes", ctx.t("情形⑤一般无需推荐意见", "ground 5 generally needs no recommendation")
            )
        )
    elif ctx.qualification == "national_little_giant":
        checks.append(
            _Check(
                "recommendation",
                "yes",
                ctx.t(
                    "贵司为国家级专精特新“小巨人”企业（据企业资料），符合条件的请求由省局优先推荐",
                    "your firm is a national 'little giant' (from your profile): "
                    "qualifying requests are recommended first",
                ),
            )
        )
    else:
        checks.append(
            _Check(
                "recommendation",
                "yes",
                ctx.t(
                    "需省级知识产权局或国务院有关部门推荐（名额有限）",
                    "needs the provincial IP office's or a State Council department's recommendation (quotas apply)",
                ),
            )
        )
    return checks


def _pph_office(ctx: _Context, track: Track) -> _Check:
    r = ctx.request
    if not r.given("foreign_allowed_office"):
        return _Check(
            "foreign_allowed_office",
            "unknown",
            ctx.t(
                "需要知道是否有合作局认定可授权的对应权利要求",
                "depends on whether a partner office allowed corresponding claims",
            ),
            ("foreign_allowed_office",),
        )
    office = r.foreign_allowed_office
    if office is None:
        return _Check(
            "foreign_allowed_office",
            "no",
            ctx.t("没有在先局认定可授权的对应权利要求", "no earlier office has allowed corresponding claims"),
        )
    office = "GB" if office == "UK" else office
    if office not in track.partner_offices:
        return _Check(
            "foreign_allowed_office",
            "no",
            ctx.t(
                f"{office}不在我们掌握的PPH合作局名单中（33个合作局中有2个未列明，请核实）",
                f"{office} is not on the PPH partner list we hold (2 of 33 partners are not listed: check)",
            ),
        )
    return _Check(
        "foreign_allowed_office",
        "yes",
        ctx.t(
            f"{office}是PPH合作局，其认定可授权的权利要求可用于加快审查",
            f"{office} is a PPH partner: its allowed claims can speed this one up",
        ),
    )


def _related(ctx: _Context, track: Track) -> _Check:
    count = ctx.request.related_applications
    minimum = track.min_related_applications or 0
    if count is None:
        return _Check(
            "related_applications",
            "unknown",
            ctx.t(
                "需要知道围绕同一关键技术的发明申请件数", "depends on how many inventions surround the key technology"
            ),
            ("related_applications",),
        )
    if count < minimum:
        return _Check(
            "related_applications",
            "no",
            ctx.t(f"{count}件少于每批至少{minimum}件", f"{count} is fewer than the {minimum} a batch needs"),
        )
    return _Check(
        "related_applications",
        "yes",
        ctx.t(f"{count}件，达到每批{minimum}件", f"{count}, at least the {minimum} a batch needs"),
    )


def _trademark(ctx: _Context, track: Track) -> list[_Check]:
    r = ctx.request
    checks: list[_Check] = []
    if r.mark_type is None:
        checks.append(
            _Check("mark_type", "unknown", ctx.t("需要知道商标类型", "depends on the type of mark"), ("mark_type",))
        )
    elif r.mark_type not in track.mark_types:
        checks.append(
            _Check(
                "mark_type",
                "no",
                ctx.t(
                    f"{_MARK_ZH[r.mark_type]}不适用（试行办法限文字商标）",
                    f"a {r.mark_type.value} mark does not qualify (the trial measures take word marks only)",
                ),
            )
        )
    else:
        checks.append(_Check("mark_type", "yes"))
    if r.situation is None:
        checks.append(
            _Check(
                "situation",
                "unknown",
                ctx.t("需要知道申请的紧迫情形", "depends on why the mark is urgent"),
                ("situation",),
            )
        )
    else:
        found = situation_of(track, r.situation)
        if found is None:
            checks.append(
                _Check(
                    "situation",
                    "unknown",
                    ctx.t(
                        "看不出属于哪种情形，请说明（如战略性新兴产业、重大项目、产业链中已使用、突发事件）",
                        "cannot tell which situation this is: say which "
                        "(strategic industry, major project, mark used in an industry chain, emergency)",
                    ),
                    ("situation",),
                )
            )
        else:
            checks.append(
                _Check(
                    "situation",
                    "yes",
                    ctx.t(
                        f"属于情形：{found[0].text.zh}（“{found[1]}”）", f"situation: {found[0].text.en} ('{found[1]}')"
                    ),
                )
            )
    return checks


def situation_of(track: Track, text: str) -> tuple[Situation, str] | None:
    """The situation of the measures a free-text description names, and the word that shows it."""
    lowered = text.lower()
    for situation in track.situations:
        for word in situation.words:
            if word.lower() in lowered:
                return situation, word
    return None


# ---------------------------------------------------------------- what the answer says besides the routes

_KIND_ZH = {
    Kind.INVENTION: "发明专利申请",
    Kind.UTILITY_MODEL: "实用新型专利申请",
    Kind.DESIGN: "外观设计专利申请",
    Kind.TRADEMARK: "商标注册申请",
}
_KIND_EN = {
    Kind.INVENTION: "inventions",
    Kind.UTILITY_MODEL: "utility models",
    Kind.DESIGN: "designs",
    Kind.TRADEMARK: "trademarks",
}
_STAGE_ZH = {
    Stage.NOT_FILED: "尚未申请",
    Stage.FILED: "已申请",
    Stage.SUBSTANTIVE_EXAM: "实质审查中",
    Stage.OFFICE_ACTION: "已收到审查意见",
    Stage.GRANTED: "已授权",
}
_STAGE_EN = {
    Stage.NOT_FILED: "not filed",
    Stage.FILED: "filed",
    Stage.SUBSTANTIVE_EXAM: "in substantive examination",
    Stage.OFFICE_ACTION: "office action received",
    Stage.GRANTED: "granted",
}
_MARK_ZH = {
    MarkType.WORD: "文字商标",
    MarkType.FIGURATIVE: "图形商标",
    MarkType.COLLECTIVE: "集体商标",
    MarkType.CERTIFICATION: "证明商标",
}


def _field_match(ctx: _Context) -> FieldMatch | None:
    text = ctx.request.technical_field
    if text is None:
        return None
    p = ctx.rules[TrackName.PRIORITY_EXAM]
    key = ctx.field in p.key_industry_fields if ctx.field else False
    fast = ctx.field in p.fast_moving_fields if ctx.field else False
    label = FIELDS[ctx.field] if ctx.field else None
    if label is None:
        shown = ctx.t(f"“{text}”：未能对应到领域目录", f"'{text}': matched no field of the catalogue")
    else:
        lists = []
        if key:
            lists.append(ctx.t("属于国家重点产业（优先审查情形①）", "a national key industry (priority ground 1)"))
        elif fast:
            lists.append(ctx.t("属于更新快的领域（优先审查情形③）", "a fast-moving field (priority ground 3)"))
        else:
            lists.append(ctx.t("不在国家重点产业目录中", "not on the national key-industry list"))
        if ctx.centre is not None:
            name = ctx.centre.name if ctx.lang == "zh" else ctx.centre.name_en or ctx.centre.name
            lists.append(
                ctx.t(f"在{name}领域内（{ctx.centre_match}）", f"in {name}'s scope ({ctx.centre_match})")
                if ctx.centre_match
                else ctx.t(f"不在{name}的预审领域内", f"outside {name}'s pre-examination fields")
            )
        shown = ctx.t(
            f"“{text}” → {label.zh}（匹配“{ctx.matched}”）：" + "，".join(lists),
            f"'{text}' → {label.en} (matched '{ctx.matched}'): " + "; ".join(lists),
        )
    return FieldMatch(
        text=text,
        field=ctx.field,
        label_zh=label.zh if label else None,
        label_en=label.en if label else None,
        matched=ctx.matched,
        key_industry=key,
        fast_moving=fast,
        centre_match=ctx.centre_match,
        shown=shown,
    )


def _centre_brief(centre: Centre | None) -> CentreBrief | None:
    if centre is None:
        return None
    return CentreBrief(
        id=centre.id,
        name=centre.name,
        region_codes=list(centre.region_codes),
        fields=list(centre.fields),
        application_types=list(centre.application_types),
        contact=centre.contact,
        record_url=centre.record_url,
        scope_confirmed=centre.scope_confirmed,
    )


def _profile_use(ctx: _Context, profile: Profile | None, filled: list[str]) -> ProfileUse | None:
    if profile is None:
        return None
    label = QUALIFICATION_LABELS.get(ctx.qualification or "")
    parts: list[str] = []
    if "region" in filled and ctx.region is not None:
        parts.append(
            ctx.t(f"地区取自企业资料：{regions.display_name(ctx.region)}", f"region from your profile: {ctx.region}")
        )
    elif ctx.request.region is not None and profile.region_code is not None:
        parts.append(ctx.t("地区按您填写的为准", "the region you gave was used"))
    if label is not None:
        parts.append(
            ctx.t(f"资质取自企业资料（已核验）：{label[0]}", f"qualification from your profile (verified): {label[1]}")
        )
    elif profile.enterprise_id is None:
        parts.append(
            ctx.t(
                "账号尚未绑定企业，未使用企业资料", "your account is not linked to an enterprise yet: no profile used"
            )
        )
    elif not profile.verified:
        parts.append(
            ctx.t(
                "企业资料尚未核验，资质未计入", "your enterprise is not verified yet: its qualification is not counted"
            )
        )
    return ProfileUse(
        enterprise_id=profile.enterprise_id,
        filled=filled,
        qualification=ctx.qualification,
        note="；".join(parts) if ctx.lang == "zh" else "; ".join(parts),
    )
