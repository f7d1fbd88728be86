"""Agency lookups from the live directory: find, check a rating ("did you mean"), compare side by side."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from agencies.catalogue import FIELDS, SERVICES, CreditLevel, FieldCode, ServiceCode
from agencies.schemas import AgencyCard
from bot import lookups, vocabulary
from bot.actions.common import (
    Lang,
    button,
    card,
    entity_or_slot,
    entity_values,
    lang_of,
    latest_text,
    pick,
    say,
    session_user_turns,
    yuan,
)
from bot.facts import load_facts

LEVEL_NAMES = {"A_plus": "A+", "A": "A", "B": "B", "C": "C", "D": "D"}


def _service(value: str | None) -> ServiceCode | None:
    try:
        return ServiceCode(value) if value else None
    except ValueError:
        return None


def _field(value: str | None) -> FieldCode | None:
    try:
        return FieldCode(value) if value else None
    except ValueError:
        return None


def _level(value: str | None) -> CreditLevel | None:
    if not value:
        return None
    value = {"A+": "A_plus", "a+": "A_plus"}.get(value, value)
    try:
        return CreditLevel(value)
    except ValueError:
        return None


# The turns whose words make up an agency search: a search refined over several messages ("杭州的" → "A级的呢")
# keeps what the earlier search messages said. Slots are not read: the eligibility form fills technical_field
# (and the other flows their own), and none of that may narrow a search.
SEARCH_INTENTS = frozenset({"find_agency"})


@dataclass(frozen=True, slots=True)
class SearchFilters:
    region: str | None = None
    service: ServiceCode | None = None
    field: FieldCode | None = None
    level: CreditLevel | None = None
    accepts_vouchers: bool | None = None


def _filters_of(text: str, entities: dict[str, list[str]]) -> SearchFilters:
    """What one message asks for: the model's entities, else the words of the text (the same vocabulary)."""

    def first(name: str) -> str | None:
        values = entities.get(name) or []
        return values[0] if values else None

    region = lookups.known_region(first("region")) or lookups.region_in_text(text)
    service = _service(vocabulary.canonical(vocabulary.SERVICE_TYPES, first("service_type"))) or _service(
        vocabulary.service_in(text)
    )
    field_value = first("technical_field")
    field = _field(vocabulary.canonical(vocabulary.TECHNICAL_FIELDS, field_value)) or _field(
        vocabulary.field_in(field_value or "") or vocabulary.field_in(text)
    )
    rating_value = first("rating_level")
    level = _level(vocabulary.canonical(vocabulary.RATING_LEVELS, rating_value)) or _level(
        vocabulary.rating_in(rating_value or "") or vocabulary.rating_in(text)
    )
    vouchers = True if vocabulary.wants_voucher_agencies(text) else None
    return SearchFilters(region, service, field, level, vouchers)


def search_filters(tracker: Tracker) -> SearchFilters:
    """The filters of the search this message makes: its own words first, then — for what it leaves open — the
    earlier search messages of this session, newest first. Never a slot another flow filled."""
    latest = (tracker.latest_message or {}).get("entities") or []
    current = _filters_of(latest_text(tracker), _entity_map(latest))
    merged = current
    for text, intent, entities in reversed(session_user_turns(tracker)[:-1]):
        if intent not in SEARCH_INTENTS:
            continue
        earlier = _filters_of(text, _entity_map(entities))
        merged = SearchFilters(
            merged.region or earlier.region,
            merged.service or earlier.service,
            merged.field or earlier.field,
            merged.level or earlier.level,
            merged.accepts_vouchers or earlier.accepts_vouchers,
        )
    return merged


def _entity_map(entities: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for entity in entities:
        value = entity.get("value")
        name = entity.get("entity")
        if not name or value in (None, ""):
            continue
        for item in value if isinstance(value, list) else [value]:
            text = str(item).strip()
            if text:
                out.setdefault(str(name), []).append(text)
    return out


def level_text(card_: AgencyCard, lang: Lang) -> str:
    level = LEVEL_NAMES[card_.credit_level.value]
    return pick(lang, f"{level}级 {card_.credit_score}分", f"level {level}, {card_.credit_score} points")


def _name(card_: AgencyCard, lang: Lang) -> str:
    return card_.name_zh if lang == "zh" or not card_.name_en else card_.name_en


def _price_line(card_: AgencyCard, lang: Lang, service: ServiceCode | None) -> str | None:
    chosen = [s for s in card_.services if s.code == service] if service else []
    if not chosen:
        chosen = [s for s in card_.services if s.code is ServiceCode.INVENTION] or card_.services[:1]
    if not chosen:
        return None
    s = chosen[0]
    label = s.label_zh if lang == "zh" else s.label_en
    return f"{label} ¥{yuan(s.price_min_fen)}–{yuan(s.price_max_fen)}"


def agency_card(card_: AgencyCard, lang: Lang, service: ServiceCode | None = None) -> dict[str, Any]:
    lines = [
        pick(
            lang,
            f"专利代理师{card_.patent_attorneys}人，商标代理人{card_.trademark_agents}人",
            f"{card_.patent_attorneys} patent attorneys, {card_.trademark_agents} trademark agents",
        )
    ]
    price = _price_line(card_, lang, service)
    if price:
        lines.append(price)
    if card_.accepts_vouchers:
        lines.append(pick(lang, "接受服务券", "accepts vouchers"))
    return card(
        _name(card_, lang),
        f"{level_text(card_, lang)} · {card_.region.name}",
        lines,
        f"pages/agency/detail?id={card_.id}",
    )


class ActionFindAgency(Action):  # type: ignore[misc]  # rasa_sdk is untyped
    def name(self) -> str:
        return "action_find_agency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        wanted = search_filters(tracker)
        region, service, field, level, vouchers = (
            wanted.region,
            wanted.service,
            wanted.field,
            wanted.level,
            wanted.accepts_vouchers,
        )
        page = await lookups.find_agencies(
            region=region, service=service, field=field, min_rating=level, accepts_vouchers=vouchers
        )
        relaxed = False
        if not page.items and (field is not None or level is not None):
            # Nothing that narrow: widen (drop field and rating) rather than answer "none"; vouchers stay a must.
            page = await lookups.find_agencies(
                region=region, service=service, field=None, min_rating=None, accepts_vouchers=vouchers
            )
            relaxed = True
        what = _describe(lang, region, service, field, level, vouchers)
        search_link = "pages/agency/search?" + urlencode(
            {
                k: v
                for k, v in {
                    "region": region,
                    "service": service,
                    "field": field,
                    "min_rating": level,
                    "accepts_vouchers": "true" if vouchers else None,
                }.items()
                if v
            }
        )
        if not page.items:
            say(
                dispatcher,
                pick(
                    lang,
                    f"没有找到{what}的代理机构。换个城市或服务试试？",
                    f"No agencies found for {what}. Try another city or service?",
                ),
                [
                    button(pick(lang, "全部代理机构", "All agencies"), "/find_agency"),
                    button(pick(lang, "转人工", "Talk to a person"), "/human_handoff"),
                ],
            )
            return []
        intro = pick(
            lang,
            f"{what}共{page.total}家，信用最好的{len(page.items)}家：",
            f"{page.total} agencies for {what}; the best rated {len(page.items)}:",
        )
        if relaxed:
            intro = (
                pick(lang, "没有完全符合的，放宽了领域和等级。", "Nothing matched exactly; I widened field and level. ")
                + intro
            )
        if region is None:
            intro += pick(lang, "\n告诉我您所在的城市，可以找附近的。", "\nTell me your city to see nearby ones.")
        cards = [agency_card(c, lang, service) for c in page.items]
        cards.append(card(pick(lang, "查看全部结果", "See all results"), what, [], search_link))
        buttons = []
        if len(page.items) >= 2:
            names = [page.items[0].name_zh, page.items[1].name_zh]
            payload = "/compare_agencies" + json.dumps({"agency_name": names}, ensure_ascii=False)
            buttons.append(button(pick(lang, "比较前两家", "Compare the top two"), payload))
        buttons.append(button(pick(lang, "怎么选代理机构", "How to choose"), "/ask_agency_selection"))
        say(dispatcher, intro, buttons, cards)
        return []


def _describe(
    lang: Lang,
    region: str | None,
    service: ServiceCode | None,
    field: FieldCode | None,
    level: CreditLevel | None,
    vouchers: bool | None = None,
) -> str:
    parts = []
    if region:
        parts.append(lookups.region_name(region, lang))
    if service:
        parts.append(SERVICES[service].zh if lang == "zh" else SERVICES[service].en)
    if field:
        parts.append(FIELDS[field].zh if lang == "zh" else FIELDS[field].en)
    if level:
        parts.append(pick(lang, f"{LEVEL_NAMES[level.value]}级及以上", f"level {LEVEL_NAMES[level.value]} or better"))
    if vouchers:
        parts.append(pick(lang, "收服务券", "accepting vouchers"))
    if not parts:
        return pick(lang, "全部地区", "all regions")
    return ("·" if lang == "zh" else ", ").join(parts)


def _did_you_mean(lang: Lang, typed: str, suggestions: tuple[AgencyCard, ...]) -> tuple[str, list[dict[str, str]]]:
    if not suggestions:
        return (
            pick(
                lang,
                f"没有找到“{typed}”。请核对名称，或在小程序搜索。",
                f"I found no agency called '{typed}'. Check the name or search in the mini-program.",
            ),
            [button(pick(lang, "找代理机构", "Find an agency"), "/find_agency")],
        )
    return (
        pick(lang, f"没有找到“{typed}”，您是不是要找：", f"No agency called '{typed}'. Did you mean:"),
        [
            button(s.name_zh, "/check_agency_rating" + json.dumps({"agency_name": s.name_zh}, ensure_ascii=False))
            for s in suggestions
        ],
    )


class ActionCheckAgencyRating(Action):  # type: ignore[misc]  # rasa_sdk is untyped
    def name(self) -> str:
        return "action_check_agency_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        # The model's entity, else the name the text gives ("天衡信用怎么样"), else the agency talked about before.
        typed = next(iter(entity_values(tracker, "agency_name")), None) or next(
            iter(lookups.names_in_text(latest_text(tracker))), None
        )
        typed = typed or entity_or_slot(tracker, "agency_name")
        if not typed:
            say(dispatcher, pick(lang, "您想查哪家代理机构？请告诉我它的名称。", "Which agency? Tell me its name."))
            return []
        match = await lookups.match_agency(typed)
        if match.agency is None:
            text, buttons = _did_you_mean(lang, typed, match.suggestions)
            say(dispatcher, text, buttons)
            return []
        found = match.agency
        meaning = (
            load_facts().data.facts["ask_credit_rules"].details.get("rating_level", {}).get(found.credit_level.value)
        )
        text = pick(
            lang,
            f"{found.name_zh}：信用等级{level_text(found, lang)}。",
            f"{_name(found, lang)}: credit {level_text(found, lang)}.",
        )
        if meaning is not None:
            text += "\n" + meaning.get(lang)
        buttons = [
            button(pick(lang, "信用等级含义", "What levels mean"), "/ask_credit_rules"),
            button(pick(lang, "找同类机构", "Similar agencies"), "/find_agency"),
        ]
        say(dispatcher, text, buttons, [agency_card(found, lang)])
        return [SlotSet("agency_name", [found.name_zh])]


class ActionCompareAgencies(Action):  # type: ignore[misc]  # rasa_sdk is untyped
    def name(self) -> str:
        return "action_compare_agencies"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        names = compare_names(tracker)
        if len(names) < 2:
            say(
                dispatcher,
                pick(lang, "请告诉我要比较的两家（或更多）代理机构的名称。", "Name two (or more) agencies to compare."),
            )
            return []
        service = _service(
            vocabulary.canonical(vocabulary.SERVICE_TYPES, next(iter(entity_values(tracker, "service_type")), None))
        ) or _service(vocabulary.service_in(latest_text(tracker)))
        found: list[AgencyCard] = []
        missing: list[str] = []
        for typed in names:
            match = await lookups.match_agency(typed)
            if match.agency is not None and all(match.agency.id != f.id for f in found):
                found.append(match.agency)
            elif match.agency is None:
                hint = f"（{match.suggestions[0].name_zh}？）" if match.suggestions else ""
                missing.append(typed + hint)
        if len(found) < 2 and not missing:
            # The names all came to one agency ("天衡专利" tagged, "Tianheng" typed): ask for the other.
            say(
                dispatcher,
                pick(lang, "请告诉我要比较的两家（或更多）代理机构的名称。", "Name two (or more) agencies to compare."),
            )
            return []
        if len(found) < 2:
            text = pick(lang, "至少要找到两家才能比较。没找到：", "I need two agencies to compare. Not found: ")
            say(
                dispatcher,
                text + "、".join(missing or names),
                [button(pick(lang, "找代理机构", "Find an agency"), "/find_agency")],
            )
            return []
        lines = [pick(lang, "对比：", "Side by side:")]
        for c in found:
            fields = ("、" if lang == "zh" else ", ").join(
                (FIELDS[f].zh if lang == "zh" else FIELDS[f].en) for f in c.fields[:3]
            ) or "—"
            price = _price_line(c, lang, service) or "—"
            vouchers = pick(
                lang, "收券" if c.accepts_vouchers else "不收券", "vouchers" if c.accepts_vouchers else "no vouchers"
            )
            lines.append(
                pick(
                    lang,
                    f"【{c.name_zh}】{level_text(c, lang)}｜代理师{c.patent_attorneys}人｜"
                    f"领域：{fields}｜{price}｜{vouchers}",
                    f"[{_name(c, lang)}] {level_text(c, lang)} | {c.patent_attorneys} attorneys | "
                    f"{fields} | {price} | {vouchers}",
                )
            )
        if missing:
            lines.append(pick(lang, "未找到：", "Not found: ") + "、".join(missing))
        best = max(found, key=lambda c: c.credit_score)
        lines.append(pick(lang, f"信用分最高：{best.name_zh}。", f"Best credit score: {_name(best, lang)}."))
        say(
            dispatcher,
            "\n".join(lines),
            [button(pick(lang, "怎么选代理机构", "How to choose"), "/ask_agency_selection")],
            [agency_card(c, lang, service) for c in found],
        )
        return []


def compare_names(tracker: Tracker) -> list[str]:
    """Two to four names to compare: the model's agency_name entities, completed by the names the text lists
    ("比较一下天衡和钱塘" gives 天衡 and 钱塘 even when the model tagged one or none), then by the agency the
    conversation last looked at (the slot the rating check sets)."""
    names = entity_values(tracker, "agency_name")
    if len(names) < 2:
        for piece in lookups.names_in_text(latest_text(tracker)):
            if not any(piece in name or name in piece for name in names):
                names.append(piece)
    if len(names) < 2:
        slot = tracker.get_slot("agency_name") or []
        for value in slot if isinstance(slot, list) else [slot]:
            if value and value not in names:
                names.append(str(value))
    return names[: lookups.COMPARE_MAX]
