"""Demo agencies: deterministic, realistic, idempotent, and fast enough for 50,000 on PostgreSQL.

Agency number i is generated from its own RNG seeded with "ipa-agency-{i}", so `--agencies 300` and
`--agencies 50000` agree on the first 300, and a re-run inserts only what is missing (matched by credit code).

Realism: provinces weighted like CNIPA's count of patent agencies at the end of 2023 (Beijing 1,042, Guangdong 853,
Jiangsu 621, Zhejiang 373, Shanghai 339 from POLICY_NOTES §10; the rest our estimate of the same ranking), most
agencies in the provincial capital or the big commercial cities; Chinese names like 杭州求是专利事务所（普通合伙）;
ratings mostly A and B with a tail of C, D and a few A+ (as the official evaluation of 2025-06-30, the baseline);
agency fees per service in fen (official fees are separate), rounded to 100 yuan.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pypinyin import lazy_pinyin
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.catalogue import FieldCode, ServiceCode
from agencies.credit import level_for
from agencies.models import (
    Agency,
    AgencyAudit,
    AgencyBranch,
    AgencyField,
    AgencyService,
    CreditEvent,
    CreditObjection,
    RatingHistory,
)
from agencies.search import card_columns, search_text_for
from core import regions
from core.auth import Principal
from core.cache import Cache
from core.credit_code import make_credit_code
from core.db import utcnow

EVALUATED_ON = dt.date(2025, 6, 30)
CHUNK = 2000

PROVINCE_WEIGHTS: dict[str, int] = {
    "110000": 1042,
    "440000": 853,
    "320000": 621,
    "330000": 373,
    "310000": 339,
    "370000": 250,
    "510000": 150,
    "420000": 140,
    "350000": 130,
    "340000": 120,
    "410000": 110,
    "120000": 90,
    "430000": 90,
    "610000": 90,
    "210000": 80,
    "500000": 70,
    "130000": 70,
    "360000": 50,
    "450000": 40,
    "230000": 40,
    "220000": 35,
    "530000": 35,
    "140000": 30,
    "520000": 25,
    "620000": 15,
    "150000": 15,
    "650000": 15,
    "460000": 15,
    "640000": 8,
    "630000": 5,
    "540000": 3,
}
# Cities with more agencies than their size in the list suggests (besides each capital).
BIG_CITIES = {"440300": 8, "320500": 4, "330200": 3, "370200": 3, "350200": 3, "210200": 2, "441900": 2, "440600": 2}
MUNICIPALITY_DISTRICTS = {
    "11": ["110101", "110102", "110105", "110106", "110108", "110108", "110108", "110114", "110115"],
    "12": ["120101", "120104", "120116", "120116"],
    "31": ["310101", "310104", "310106", "310112", "310115", "310115", "310117"],
    "50": ["500103", "500105", "500106", "500112", "500112"],
}
# Where the first dozen agencies sit, so the Hangzhou demo has choice: 上城 拱墅 西湖 滨江 萧山 余杭.
HANGZHOU_DISTRICTS = ("330106", "330102", "330105", "330108", "330109", "330110")
TRADE_FIRST = "华中金正永信天汇博立恒明海同瑞知弘鼎思致启科精德君润宏睿卓智诚和"
TRADE_SECOND = "进和新诚杜智远信理越德创泰行毅盛源航合达恒泽图邦联科仁川辰"
SUFFIXES = (
    ("专利代理事务所（普通合伙）", "Patent Agency (General Partnership)", "patent"),
    ("专利代理有限公司", "Patent Agency Co., Ltd.", "patent"),
    ("知识产权代理有限公司", "Intellectual Property Agency Co., Ltd.", "both"),
    ("专利商标事务所有限公司", "Patent & Trademark Office Co., Ltd.", "both"),
    ("专利事务所（特殊普通合伙）", "Patent Office (Special General Partnership)", "patent"),
    ("商标代理有限公司", "Trademark Agency Co., Ltd.", "trademark"),
)
# Agency fee ranges in yuan: (lowest minimum, highest minimum); the maximum is 1.5-2.5x the minimum.
PRICE_YUAN: dict[ServiceCode, tuple[int, int]] = {
    ServiceCode.INVENTION: (3000, 8000),
    ServiceCode.UTILITY_MODEL: (1500, 3500),
    ServiceCode.DESIGN: (800, 2000),
    ServiceCode.TRADEMARK_REGISTRATION: (500, 1500),
    ServiceCode.PCT_FOREIGN: (15000, 40000),
    ServiceCode.PRIORITY_EXAM_ASSIST: (1000, 3000),
    ServiceCode.REEXAMINATION_INVALIDATION: (5000, 20000),
    ServiceCode.LITIGATION_SUPPORT: (30000, 100000),
    ServiceCode.PATENT_NAVIGATION: (50000, 200000),
    ServiceCode.PLEDGE_VALUATION: (10000, 50000),
}
# How often a patent agency offers a service (invention always).
PATENT_SERVICE_ODDS: dict[ServiceCode, float] = {
    ServiceCode.UTILITY_MODEL: 0.9,
    ServiceCode.DESIGN: 0.7,
    ServiceCode.PRIORITY_EXAM_ASSIST: 0.45,
    ServiceCode.PCT_FOREIGN: 0.3,
    ServiceCode.REEXAMINATION_INVALIDATION: 0.4,
    ServiceCode.LITIGATION_SUPPORT: 0.2,
    ServiceCode.PATENT_NAVIGATION: 0.15,
    ServiceCode.PLEDGE_VALUATION: 0.1,
}
LEVEL_ODDS = (("A", 0.55), ("B", 0.25), ("C", 0.09), ("D", 0.05), ("A_plus", 0.06))
SCORE_RANGE = {"A_plus": (101, 108), "A": (90, 100), "B": (80, 89), "C": (60, 79), "D": (30, 59)}

# Agency 0 is the demo agency staff log in to (`agency_demo`): in Hangzhou, accepting vouchers for the services
# of the demo voucher programme.
DEMO_AGENCY = {
    "name_zh": "杭州求是专利事务所（普通合伙）",
    "name_en": "Hangzhou Qiushi Patent Agency (General Partnership)",
    "short_name": "求是",
    "region_code": "330106",
}


@dataclass
class _Planned:
    row: dict[str, Any]
    services: list[tuple[str, int, int]] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    branches: list[tuple[str, str]] = field(default_factory=list)


def _city_weights() -> dict[str, tuple[list[str], list[int]]]:
    out: dict[str, tuple[list[str], list[int]]] = {}
    for province in PROVINCE_WEIGHTS:
        prefix = province[:2]
        if prefix in MUNICIPALITY_DISTRICTS:
            codes = MUNICIPALITY_DISTRICTS[prefix]
            out[province] = (codes, [1] * len(codes))
            continue
        cities = sorted(regions.cities_of(province), key=lambda r: r.code)
        codes = [c.code for c in cities]
        weights = [len(codes) if i == 0 else BIG_CITIES.get(code, 1) * 2 for i, code in enumerate(codes)]
        out[province] = (codes, weights)
    return out


def _price(rng: random.Random, service: ServiceCode, size: int) -> tuple[int, int]:
    low, high = PRICE_YUAN[service]
    # Bigger agencies charge a little more.
    bias = min(1.0, size / 60)
    minimum = rng.uniform(low, low + (high - low) * (0.4 + 0.6 * bias))
    minimum_yuan = max(100, round(minimum / 100) * 100)
    maximum_yuan = round(minimum_yuan * rng.uniform(1.5, 2.5) / 100) * 100
    return minimum_yuan * 100, maximum_yuan * 100


# One long function on purpose: its RNG draws, in this order, are what keep agency i the same on every run.
def plan_agency(i: int, cities: dict[str, tuple[list[str], list[int]]]) -> _Planned:
    """Agency number i, always the same."""
    rng = random.Random(f"ipa-agency-{i}")
    provinces = list(PROVINCE_WEIGHTS)
    province = "330000" if i < 12 else rng.choices(provinces, weights=list(PROVINCE_WEIGHTS.values()))[0]
    codes, weights = cities[province]
    region_code = HANGZHOU_DISTRICTS[i % len(HANGZHOU_DISTRICTS)] if i < 12 else rng.choices(codes, weights=weights)[0]
    # The city (or, for the four municipalities, the municipality itself) names the agency.
    place = regions.lookup(region_code[:4] + "00")
    assert place is not None
    city = place.short
    trade = rng.choice(TRADE_FIRST) + rng.choice(TRADE_SECOND)
    suffix_zh, suffix_en, kind = rng.choices(SUFFIXES, weights=[30, 20, 25, 12, 5, 8])[0]
    name_zh = f"{city}{trade}{suffix_zh}"
    name_en: str | None = None
    if rng.random() < 0.6:
        name_en = f"{place.en} {''.join(lazy_pinyin(trade)).title()} {suffix_en}"
    short_name = trade
    if i == 0:
        name_zh, name_en, short_name, region_code = (
            DEMO_AGENCY["name_zh"],
            DEMO_AGENCY["name_en"],
            DEMO_AGENCY["short_name"],
            DEMO_AGENCY["region_code"],
        )
        kind = "both"

    size = 24 if i == 0 else max(1, min(400, int(rng.paretovariate(1.4) * 4)))
    patent_attorneys = 0 if kind == "trademark" else size
    trademark_agents = (
        max(1, size // 2) if kind == "trademark" else (rng.randint(1, max(1, size // 3)) if kind == "both" else 0)
    )

    level = "A" if i == 0 else rng.choices([lv for lv, _ in LEVEL_ODDS], weights=[w for _, w in LEVEL_ODDS])[0]
    low, high = SCORE_RANGE[level]
    score = 96 if i == 0 else rng.randint(low, high)
    assert level_for(score).value == level

    services: list[ServiceCode] = []
    if kind != "trademark":
        services.append(ServiceCode.INVENTION)
        services += [code for code, odds in PATENT_SERVICE_ODDS.items() if rng.random() < odds]
    if kind != "patent":
        services.append(ServiceCode.TRADEMARK_REGISTRATION)
        if kind == "trademark" and rng.random() < 0.3:
            services.append(ServiceCode.LITIGATION_SUPPORT)
    if i == 0:
        services = sorted(
            set(services) | {ServiceCode.INVENTION, ServiceCode.UTILITY_MODEL, ServiceCode.PRIORITY_EXAM_ASSIST},
        )
    planned_services = []
    for code in sorted(set(services)):
        low_fen, high_fen = _price(rng, code, size)
        planned_services.append((code.value, low_fen, high_fen))

    all_fields = [f.value for f in FieldCode if f is not FieldCode.OTHER]
    fields = sorted(rng.sample(all_fields, rng.randint(1, 4))) if kind != "trademark" else [FieldCode.OTHER.value]

    branches: list[tuple[str, str]] = []
    if size > 20 and rng.random() < 0.5:
        for other in rng.sample(
            ["110000", "310000", "440000", "320000", "330000", "510000", "420000"], rng.randint(1, 3)
        ):
            if other != province:
                capital_codes, _ = cities[other]
                branches.append((capital_codes[0], f"{regions.display_name(capital_codes[0])}分所"))

    founded = rng.choice(range(1985, 2025)) if rng.random() < 0.3 else rng.randint(2008, 2024)
    row: dict[str, Any] = {
        "name_zh": name_zh,
        "name_en": name_en,
        "short_name": short_name,
        "credit_code": make_credit_code(f"91{province[:2]}0000MA{i:07d}"),
        "licence_no": f"{province[:2]}{i:06d}",
        "kind": kind,
        "region_code": region_code,
        "address": f"{regions.display_name(region_code)}{rng.randint(1, 999)}号",
        "contact_name": rng.choice("王李张刘陈杨黄赵吴周") + rng.choice(["先生", "女士", "经理", "律师"]),
        "contact_phone": f"0{rng.randint(10, 999)}-{rng.randint(2000_0000, 8999_9999)}",
        "contact_email": f"ip{i}@example.cn",
        "website": "",
        "description": f"{name_zh}成立于{founded}年，提供专利、商标等知识产权代理服务。",
        "founded_year": founded,
        "patent_attorneys": patent_attorneys,
        "trademark_agents": trademark_agents,
        "accepts_vouchers": True if i < 8 else rng.random() < 0.4,
        "credit_score": score,
        "credit_level": level,
        "credit_baseline": score,
        "baseline_event_id": None,
        "evaluated_on": EVALUATED_ON,
        "search_text": search_text_for(name_zh, name_en, short_name),
        **card_columns(planned_services, fields),
    }
    return _Planned(row=row, services=planned_services, fields=fields, branches=branches)


@dataclass(frozen=True, slots=True)
class SeedReport:
    created: int
    existing: int
    demo_agency_id: int


async def seed_agencies(session: AsyncSession, n: int) -> SeedReport:
    """Make sure demo agencies 0..n-1 exist (at least the demo agency); insert the missing ones in bulk."""
    n = max(1, n)
    cities = _city_weights()
    created = 0
    existing = 0
    now = utcnow()
    for start in range(0, n, CHUNK):
        plans = [plan_agency(i, cities) for i in range(start, min(n, start + CHUNK))]
        codes = [p.row["credit_code"] for p in plans]
        present = set((await session.scalars(select(Agency.credit_code).where(Agency.credit_code.in_(codes)))).all())
        missing = [p for p in plans if p.row["credit_code"] not in present]
        existing += len(plans) - len(missing)
        if not missing:
            continue
        rows = [{**p.row, "rating_updated_at": now, "created_at": now, "updated_at": now} for p in missing]
        result = await session.execute(
            insert(Agency).returning(Agency.id, sort_by_parameter_order=True),
            rows,
        )
        ids = [row[0] for row in result.all()]
        await _insert_children(session, ids, missing, now)
        created += len(missing)
    demo_id = await session.scalar(
        select(Agency.id).where(Agency.credit_code == plan_agency(0, cities).row["credit_code"])
    )
    assert demo_id is not None
    return SeedReport(created=created, existing=existing, demo_agency_id=demo_id)


async def _insert_children(
    session: AsyncSession, ids: Sequence[int], plans: Sequence[_Planned], now: dt.datetime
) -> None:
    services = [
        {"agency_id": agency_id, "service_code": code, "price_min_fen": low, "price_max_fen": high}
        for agency_id, plan in zip(ids, plans, strict=True)
        for code, low, high in plan.services
    ]
    fields = [
        {"agency_id": agency_id, "field_code": code}
        for agency_id, plan in zip(ids, plans, strict=True)
        for code in plan.fields
    ]
    branches = [
        {"agency_id": agency_id, "region_code": region_code, "address": address}
        for agency_id, plan in zip(ids, plans, strict=True)
        for region_code, address in plan.branches
    ]
    history = [
        {
            "agency_id": agency_id,
            "score": plan.row["credit_score"],
            "level": plan.row["credit_level"],
            "previous_score": None,
            "previous_level": None,
            "cause": "import",
            "credit_event_id": None,
            "note": f"official evaluation of {EVALUATED_ON} (demo data)",
            "changed_by": None,
            "changed_at": now,
        }
        for agency_id, plan in zip(ids, plans, strict=True)
    ]
    for model, rows in (
        (AgencyService, services),
        (AgencyField, fields),
        (AgencyBranch, branches),
        (RatingHistory, history),
    ):
        if rows:
            await session.execute(insert(model), rows)


async def seed_agency_accounts(session: AsyncSession, demo_agency_id: int, password: str) -> list[str]:
    """`official_demo` and `agency_demo` (staff of the demo agency); existing accounts are left as they are."""
    from accounts.models import User
    from accounts.schemas import NewUser
    from accounts.service import create_user
    from core.auth import Role

    lines = []
    for username, role, agency_id, what in (
        ("official_demo", Role.OFFICIAL, None, "official: credit events, imports, registering agencies"),
        ("agency_demo", Role.AGENCY, demo_agency_id, f"staff of agency {demo_agency_id} ({DEMO_AGENCY['name_zh']})"),
    ):
        exists = await session.scalar(select(User.id).where(User.username == username))
        if exists is None:
            await create_user(
                session,
                NewUser(role=role, username=username, password=password, display_name=username, agency_id=agency_id),
            )
        lines.append(f"{username} / {password} — {what}")
    return lines


# ---------------------------------------------------------------- credit stories (demo)


@dataclass(frozen=True)
class _Story:
    """One step of a demo agency's credit history, `days_ago` days before the seed runs."""

    agency: int  # the demo agency's number (0 is the demo agency, agency_demo's)
    days_ago: int
    category: str
    points: int
    reason: str
    reference_doc: str
    # Reason and evidence, filed by agency_demo two days later (so only on the demo agency's own stories).
    objection: tuple[str, str] | None = None
    decision: tuple[str, str, str] | None = None  # outcome, reason, reference — a few days after the objection


CREDIT_STORIES: tuple[_Story, ...] = (
    _Story(
        0,
        75,
        "late_annual_report_fixed",
        -5,
        "2024 年度报告逾期 9 天提交，已于逾期后一个月内补报",
        "浙江省知识产权局 浙知信〔2026〕2号",
    ),
    _Story(
        0,
        20,
        "administrative_penalty",
        -10,
        "因代理文件签章不规范受到杭州市市场监督管理局警告处罚",
        "杭市监罚〔2026〕31号",
        objection=(
            "该处罚决定已被行政复议机关撤销，扣分依据不复存在",
            "浙江省市场监督管理局行政复议决定书 浙市监复〔2026〕7号（撤销原处罚决定），送达回证日期 2026 年 11 月",
        ),
        decision=("reversed", "经核实，原行政处罚决定已被复议撤销，撤销本次扣分", "浙知信复〔2026〕11号"),
    ),
    _Story(
        0,
        3,
        "abnormal_applications",
        -10,
        "国家知识产权局通报：代理的 3 件实用新型专利申请被认定为非正常专利申请",
        "国知办函运字〔2026〕45号",
        objection=(
            "3 件申请均为委托人真实研发成果，其中 1 件的认定已由申请人请求复查",
            "委托人研发立项书 RD-2025-031、实验记录扫描件 12 页、委托代理合同 HT-2025-088、复查请求受理通知书",
        ),
    ),
    _Story(1, 60, "honours", 5, "获评浙江省知识产权服务品牌机构", "浙知发〔2026〕9号"),
    _Story(
        2,
        45,
        "excessive_volume",
        -15,
        "2025 年人均代理量 412 件，明显高于全省平均水平且未说明正当理由",
        "浙江省知识产权局 浙知信〔2026〕5号",
    ),
    _Story(3, 30, "industry_discipline", -5, "浙江省专利代理师协会通报批评：低价揽业", "浙专协〔2026〕3号"),
    _Story(4, 15, "social_contribution", 3, "为 30 家中小企业提供免费专利导航公益服务", "杭知发〔2026〕14号"),
    _Story(
        5,
        25,
        "abnormal_business_status",
        -10,
        "未按时公示 2025 年度报告，被列入经营异常名录",
        "国家企业信用信息公示系统 2026-11-09",
    ),
)


async def seed_credit_stories(session: AsyncSession, cache: Cache, official: Principal, staff: Principal) -> list[str]:
    """Real-looking credit histories for the first demo agencies, told through the credit services themselves
    (events, an objection reversed, one still pending for agency_demo), then dated back to when they happened.
    An agency that already has credit events is left alone, so seeding again changes nothing."""
    from agencies import credit_events, objections
    from agencies.schemas import CreditEventIn, DecisionIn, ObjectionIn

    cities = _city_weights()
    told: list[str] = []
    now = utcnow()
    for number in sorted({story.agency for story in CREDIT_STORIES}):
        code = plan_agency(number, cities).row["credit_code"]
        agency_id = await session.scalar(select(Agency.id).where(Agency.credit_code == code))
        if agency_id is None or await session.scalar(select(CreditEvent.id).where(CreditEvent.agency_id == agency_id)):
            continue
        for story in (s for s in CREDIT_STORIES if s.agency == number):
            when = now - dt.timedelta(days=story.days_ago)
            result = await credit_events.record_event(
                session,
                cache,
                official,
                agency_id,
                CreditEventIn(
                    category=story.category, points=story.points, reason=story.reason, reference_doc=story.reference_doc
                ),
            )
            await _dated(session, when, events=[result.event.id])
            if story.objection is None:
                continue
            filed = await objections.file_objection(
                session,
                cache,
                staff,
                agency_id,
                result.event.id,
                ObjectionIn(reason=story.objection[0], evidence=story.objection[1]),
            )
            await _dated(session, when + dt.timedelta(days=2), objection=filed.objection.id)
            if story.decision is None:
                continue
            outcome, reason, reference = story.decision
            decided = await objections.decide(
                session,
                cache,
                official,
                agency_id,
                filed.objection.id,
                DecisionIn(
                    outcome="reversed" if outcome == "reversed" else "upheld", reason=reason, reference_doc=reference
                ),
            )
            reversal = decided.objection.reversal_event_id
            await _dated(
                session,
                when + dt.timedelta(days=6),
                events=[reversal] if reversal else [],
                objection=filed.objection.id,
                decided=True,
            )
        await _history_dates(session, agency_id)
        told.append(f"agency {agency_id}: a credit history of {sum(s.agency == number for s in CREDIT_STORIES)} events")
    return told


async def _history_dates(session: AsyncSession, agency_id: int) -> None:
    """The imported evaluation dated on its day, and the rating's last change on the last step's."""
    evaluated = dt.datetime.combine(EVALUATED_ON, dt.time(), tzinfo=dt.UTC)
    await session.execute(
        update(RatingHistory)
        .where(RatingHistory.agency_id == agency_id, RatingHistory.cause == "import")
        .values(changed_at=evaluated)
    )
    last = await session.scalar(select(func.max(RatingHistory.changed_at)).where(RatingHistory.agency_id == agency_id))
    await session.execute(update(Agency).where(Agency.id == agency_id).values(rating_updated_at=last))


async def _dated(
    session: AsyncSession,
    when: dt.datetime,
    *,
    events: Sequence[int] = (),
    objection: int | None = None,
    decided: bool = False,
) -> None:
    """Move what a demo step wrote (events, their rating changes and audit lines; an objection's filing or
    decision) to when the story says it happened."""
    await session.flush()
    if events:
        await session.execute(update(CreditEvent).where(CreditEvent.id.in_(events)).values(created_at=when))
        await session.execute(
            update(RatingHistory).where(RatingHistory.credit_event_id.in_(events)).values(changed_at=when)
        )
        await session.execute(
            update(AgencyAudit)
            .where(AgencyAudit.subject == "credit_event", AgencyAudit.subject_id.in_(events))
            .values(at=when)
        )
    if objection is not None:
        column = CreditObjection.decided_at if decided else CreditObjection.filed_at
        await session.execute(update(CreditObjection).where(CreditObjection.id == objection).values({column: when}))
        actions = ("objection_upheld", "objection_reversed") if decided else ("objection_filed",)
        await session.execute(
            update(AgencyAudit)
            .where(
                AgencyAudit.subject == "objection",
                AgencyAudit.subject_id == objection,
                AgencyAudit.action.in_(actions),
            )
            .values(at=when)
        )
