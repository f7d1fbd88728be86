"""Every data call the custom actions make, in one place: agencies and vouchers through their services, and the
assistant's own tickets. The actions stay thin (read the tracker, call one function here, render the answer).

Runs inside the `/bot/actions` request: `bot.context.current()` gives its session, cache and settings.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from typing import Any

from pypinyin import lazy_pinyin

from accounts import service as accounts
from agencies import service as agencies
from agencies.catalogue import CreditLevel, FieldCode, ServiceCode
from agencies.schemas import AgencyCard, AgencyPage, SearchQuery
from bot import knowledge
from bot import service as tickets
from bot.context import current
from bot.models import ConsultationTicket
from core import regions
from core.auth import Principal
from enterprises import service as enterprises
from enterprises.service import EnterpriseSummary
from fast_track import service as fast_track
from fast_track.schemas import PlanRequest
from vouchers import service as vouchers
from vouchers.schemas import ProgramOut, ProgramQuery, VoucherOut

FIND_LIMIT = 3
COMPARE_MAX = 4
SUGGESTIONS = 3
# How many agencies "did you mean" looks through when no name matches (pages of 50, best rated first).
FUZZY_SCAN_PAGES = 20

# Words every agency name has; left out when matching what is particular to one.
_GENERIC = re.compile(
    r"(有限责任公司|股份有限公司|有限公司|普通合伙|特殊普通合伙|专利代理事务所|专利代理有限公司|知识产权代理|"
    r"知识产权服务|知识产权|专利代理|商标代理|事务所|代理所|代理机构|代理|专利|商标|公司|集团|[（）()\s·,，.。])"
)
_GENERIC_EN = re.compile(
    r"\b(co|ltd|llc|llp|inc|ip|patent|patents|trademark|trademarks|law|firm|office|agency|attorneys?|and|&|"
    r"intellectual|property|services?|the)\b"
)


@dataclass(frozen=True, slots=True)
class AgencyMatch:
    """What a name the user typed refers to: one agency, or none and a few it might have meant."""

    agency: AgencyCard | None
    suggestions: tuple[AgencyCard, ...] = ()


async def _search(query: SearchQuery) -> AgencyPage:
    ctx = current()
    result = await agencies.search(ctx.session, ctx.cache, query, cache_ttl=ctx.settings.search_cache_ttl_seconds)
    return AgencyPage.model_validate_json(result.text)


def known_region(value: str | None) -> str | None:
    """The GB/T 2260 code of a region the user named (code, Chinese, pinyin or English); None if unknown."""
    if not value:
        return None
    region = regions.lookup(value)
    return region.code if region is not None else None


def region_in_text(text: str) -> str | None:
    """The code of the region a sentence names (杭州 / 杭 / 甬 / in Shenzhen); None if it names none."""
    region = regions.find_in_text(text)
    return region.code if region is not None else None


def region_name(code: str, lang: str) -> str:
    region = regions.lookup(code)
    if region is None:
        return code
    return region.short if lang == "zh" else region.en


async def find_agencies(
    *,
    region: str | None,
    service: ServiceCode | None,
    field: FieldCode | None,
    min_rating: CreditLevel | None,
    accepts_vouchers: bool | None = None,
    limit: int = FIND_LIMIT,
) -> AgencyPage:
    """The best-rated agencies matching the filters (region includes its sub-regions)."""
    query = SearchQuery(
        region=region,
        service=service,
        field=field,
        min_rating=min_rating,
        accepts_vouchers=accepts_vouchers,
        sort="rating",
        page_size=limit,
    )
    return await _search(query)


# Names repeat on every fuzzy scan (the directory's 3 names per agency, against each typed name): their particular
# part and its pinyin are pure functions of the text, kept here instead of recomputed — the pinyin of every name
# in the directory was most of the backend's CPU when many asked to compare agencies (bench_chat, py-spy).
NAME_MEMORY = 16384


@functools.lru_cache(maxsize=NAME_MEMORY)
def core_name(name: str) -> str:
    """The particular part of an agency name: "杭州天衡专利代理事务所（普通合伙）" → "杭州天衡"."""
    stripped = _GENERIC.sub("", name.lower())
    # "专利代理所" leaves "所" behind once "专利代理" is gone.
    stripped = re.sub(r"所$", "", stripped)
    return re.sub(r"\s+", " ", _GENERIC_EN.sub(" ", stripped)).strip()


@functools.lru_cache(maxsize=NAME_MEMORY)
def _pinyin(text: str) -> str:
    return "".join(lazy_pinyin(text))


def _similarity(typed: str, card: AgencyCard) -> float:
    typed_core = core_name(typed) or typed.lower()
    best = 0.0
    for candidate in (card.name_zh, card.short_name, card.name_en):
        if not candidate:
            continue
        best = max(best, _core_similarity(typed_core, core_name(candidate) or candidate.lower()))
    return best


@functools.lru_cache(maxsize=NAME_MEMORY)
def _core_similarity(typed_core: str, cand_core: str) -> float:
    ratio = difflib.SequenceMatcher(None, typed_core, cand_core).ratio()
    # A typed core inside the candidate's ("天衡" in "杭州天衡") is a strong hint even when much shorter.
    if len(typed_core) >= 2 and typed_core in cand_core:
        ratio = max(ratio, 0.8)
    pinyin_typed = _pinyin(typed_core)
    pinyin_cand = _pinyin(cand_core)
    if pinyin_typed and pinyin_cand:
        ratio = max(ratio, 0.95 * difflib.SequenceMatcher(None, pinyin_typed, pinyin_cand).ratio())
    return ratio


def _is_exact(typed: str, card: AgencyCard) -> bool:
    typed_l = typed.strip().lower()
    names = [card.name_zh, card.short_name or "", (card.name_en or "").lower()]
    return typed_l in [n.lower() for n in names if n] or (
        bool(core_name(typed)) and core_name(typed) in [core_name(n) for n in names if n]
    )


async def match_agency(name: str) -> AgencyMatch:
    """Tolerant matching: the name as typed, then its particular part, then its pinyin (homophone typos), then
    "did you mean" over the directory by similarity of names and their pinyin."""
    typed = name.strip()[:100]
    if not typed:
        return AgencyMatch(None)
    attempts = [typed]
    particular = core_name(typed)
    if particular and particular != typed.lower():
        attempts.append(particular)
    if particular and not particular.isascii():
        attempts.append(_pinyin(particular))
    for q in attempts:
        page = await _search(SearchQuery(q=q, page_size=10))
        if not page.items:
            continue
        ranked = sorted(page.items, key=lambda c: (not _is_exact(typed, c), -_similarity(typed, c)))
        top = ranked[0]
        if len(ranked) == 1 or _is_exact(typed, top):
            return AgencyMatch(top, tuple(ranked[1:SUGGESTIONS]))
        best, runner_up = _similarity(typed, top), _similarity(typed, ranked[1])
        # Close to one name and clearly closer than to the others: that one. Otherwise ask.
        if best >= 0.75 and best - runner_up >= 0.05:
            return AgencyMatch(top, tuple(ranked[1:SUGGESTIONS]))
        return AgencyMatch(None, tuple(ranked[:SUGGESTIONS]))
    suggestions = await _closest(typed)
    confident = _confident(typed, suggestions)
    if confident is not None:
        return AgencyMatch(confident, tuple(s for s in suggestions if s.id != confident.id))
    return AgencyMatch(None, suggestions)


async def _closest(typed: str) -> tuple[AgencyCard, ...]:
    scored: list[tuple[float, AgencyCard]] = []
    for page_no in range(1, FUZZY_SCAN_PAGES + 1):
        page = await _search(SearchQuery(sort="rating", page=page_no, page_size=50))
        scored.extend((_similarity(typed, card), card) for card in page.items)
        if page_no * page.page_size >= page.total:
            break
    scored.sort(key=lambda pair: -pair[0])
    return tuple(card for score, card in scored[:SUGGESTIONS] if score >= 0.45)


def _confident(typed: str, suggestions: tuple[AgencyCard, ...]) -> AgencyCard | None:
    """The best suggestion, when it is very close and clearly ahead of the next (then it is simply the answer)."""
    if not suggestions:
        return None
    best = _similarity(typed, suggestions[0])
    runner_up = _similarity(typed, suggestions[1]) if len(suggestions) > 1 else 0.0
    return suggestions[0] if best >= 0.85 and best - runner_up >= 0.15 else None


async def enterprise_profile(principal: Principal | None) -> EnterpriseSummary | None:
    """The profile of the enterprise a verified sender works for (its qualification is recorded only by an official
    who checked the certificate); None for an anonymous sender or one not linked to an enterprise."""
    if principal is None or principal.enterprise_id is None:
        return None
    return await enterprises.get_enterprise_summary(current().session, principal.enterprise_id)


async def fast_track_plan(fields: dict[str, Any], principal: Principal | None, lang: str) -> dict[str, Any]:
    """The planner's answer (contract JSON: tracks ranked soonest first, recommended, asked) for what the chat knows
    (`fields`: contract field names, only those answered); a signed-in enterprise's profile fills region and
    qualification, as `POST /api/v1/fast-track/plan` does."""
    request = PlanRequest.model_validate({**fields, "lang": lang})
    answer = await fast_track.plan_for(current().session, principal, request)
    return answer.model_dump(mode="json")


# What people put around agency names when they ask to compare them ("比较一下天衡和钱塘哪个好").
_COMPARE_WORDS = re.compile(
    r"(帮我|请|麻烦|给我|想|要|比较一下|比较下|比较|对比一下|对比下|对比|比一比|比一下|pk|PK|看看|看一下|一下|"
    r"哪个好|哪家好|哪个更好|哪家更好|哪个更靠谱|哪家更靠谱|谁更好|谁好|哪个|哪家|有什么区别|有啥区别|区别|差别|"
    r"有什么不同|怎么样|如何|的信用|信用|等级|价格|这几家|这两家|这三家|两家|三家|几家|代理机构|机构|\?|？|。|!|！)"
)
_COMPARE_WORDS_EN = re.compile(
    r"\b(please|compare|comparing|comparison|between|which|is|are|better|best|the|of|agencies|agency|firms?|"
    r"rating|ratings|side by side|with)\b",
    re.IGNORECASE,
)
_NAME_SEPARATORS = re.compile(
    r"\s*(?:和|与|跟|同|及|以及|还是|或者|、|，|,|/|\bvs\.?|\bversus\b|\band\b|\bor\b|\s{2,}|"
    r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff]))\s*"
)


def names_in_text(text: str) -> list[str]:
    """The agency names a comparison request lists, as typed: "比较一下天衡和钱塘哪个好" → ["天衡", "钱塘"],
    "compare tianheng vs qiantang" → ["tianheng", "qiantang"]."""
    stripped = _COMPARE_WORDS_EN.sub(" ", _COMPARE_WORDS.sub(" ", text))
    pieces = [p.strip(" 的:：") for p in _NAME_SEPARATORS.split(stripped)]
    return [p for p in pieces if len(p) >= 2][:COMPARE_MAX]


async def my_vouchers(principal: Principal) -> list[VoucherOut]:
    return await vouchers.my_vouchers(current().session, principal)


async def voucher_programs(region: str | None) -> list[ProgramOut]:
    code = known_region(region)
    return await vouchers.list_programs(current().session, ProgramQuery(region=code, open_only=True))


async def count_write(sender_id: str) -> None:
    """Count one write for the conversation against `ASSISTANT_WRITE_LIMIT_PER_SENDER`; `RateLimited` past it."""
    ctx = current()
    await ctx.limiter.hit_sender(ctx.cache, "assistant_writes", sender_id)


async def is_active_user(user_id: int) -> bool:
    return await accounts.is_active_user(current().session, user_id)


async def open_ticket(
    *,
    sender_id: str,
    channel: str,
    principal: Principal | None,
    lang: str,
    question: str,
    transcript: list[str],
) -> tuple[ConsultationTicket, bool]:
    return await tickets.open_ticket(
        current().session,
        sender_id=sender_id,
        channel=channel,
        principal=principal,
        lang=lang,
        question=question,
        transcript=transcript,
    )


async def record_unanswered(
    *,
    sender_id: str,
    principal: Principal | None,
    text: str,
    lang: str,
    reason: str,
    intent: str = "",
    confidence: float | None = None,
) -> None:
    await tickets.record_unanswered(
        current().session,
        sender_id=sender_id,
        principal=principal,
        text=text,
        lang=lang,
        reason=reason,
        intent=intent,
        confidence=confidence,
    )


async def official_answer(
    text: str, principal: Principal | None, *, threshold: float | None = None
) -> knowledge.Served | None:
    """An official's answer to a question like this one, served in the asker's region (the knowledge loop)."""
    ctx = current()
    return await knowledge.serve(ctx.session, ctx.cache, text, principal, threshold=threshold)
