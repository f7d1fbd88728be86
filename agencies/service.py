"""Every rule and write about agencies. Other domains call the functions under "For other domains".

Writes take the acting principal and check it against `agencies.permissions`; they `flush()`, never commit (the
request's unit of work does), and invalidate cached search results only after the commit (`after_commit`), so a
concurrent reader cannot cache the old rows under the new cache version.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pypinyin import Style, lazy_pinyin, pinyin
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from agencies import repository
from agencies.catalogue import (
    FIELD_BITS,
    FIELDS,
    PATENT_SERVICES,
    SERVICE_BITS,
    SERVICES,
    AgencyKind,
    CreditLevel,
    FieldCode,
    ServiceCode,
    fields_from_mask,
    levels_at_least,
)
from agencies.credit import CATEGORIES, MAX_SCORE, compute_score, level_for
from agencies.errors import (
    AgencyNotFound,
    AlreadyReversed,
    AlreadyReviewed,
    CreditEventNotFound,
    CsvRejected,
    DuplicateAgency,
    NoDeliveredService,
    NotReversible,
)
from agencies.models import Agency, AgencyBranch, AgencyField, AgencyService, CreditEvent, RatingHistory, Review
from agencies.permissions import REGULATED_FIELDS, STAFF_EDITABLE_FIELDS, Action, authorize, check_patch_fields
from agencies.schemas import (
    AgencyCard,
    AgencyDetail,
    AgencyIn,
    AgencyPatch,
    BranchIn,
    BranchOut,
    CreditEventIn,
    CreditEventOut,
    CreditEventResult,
    CreditRecord,
    FieldOut,
    FollowOut,
    FollowsOut,
    ImportResult,
    ImportRowOut,
    RatingChangeOut,
    RatingOut,
    RegionOut,
    ReverseIn,
    ReviewIn,
    ReviewOut,
    ReviewsOut,
    ReviewSummary,
    SearchQuery,
    ServiceOut,
    ServicePriceIn,
)
from core import regions
from core.auth import Principal, Role
from core.cache import Cache
from core.credit_code import credit_code_problem
from core.db import after_commit, utcnow
from core.errors import field_error
from core.events import RatingChanged, publish
from core.regions import prefix_of

# Cached search results live under this namespace; bumping its version after a write makes them all unreachable.
SEARCH_NAMESPACE = "agencies"

# ---------------------------------------------------------------- For other domains


@dataclass(frozen=True, slots=True)
class ServicePrice:
    service_code: str
    price_min_fen: int
    price_max_fen: int


@dataclass(frozen=True, slots=True)
class AgencySummary:
    """What vouchers, the assistant and pushes need to know about an agency."""

    id: int
    name_zh: str
    name_en: str | None
    region_code: str
    accepts_vouchers: bool
    credit_level: str
    credit_score: int
    patent_attorneys: int
    services: tuple[ServicePrice, ...]

    def offers(self, service_code: str) -> bool:
        return any(s.service_code == service_code for s in self.services)


def summary_of(agency: Agency) -> AgencySummary:
    return AgencySummary(
        id=agency.id,
        name_zh=agency.name_zh,
        name_en=agency.name_en,
        region_code=agency.region_code,
        accepts_vouchers=agency.accepts_vouchers,
        credit_level=agency.credit_level,
        credit_score=agency.credit_score,
        patent_attorneys=agency.patent_attorneys,
        services=tuple(ServicePrice(s.service_code, s.price_min_fen, s.price_max_fen) for s in agency.services),
    )


async def get_agency_summary(session: AsyncSession, agency_id: int) -> AgencySummary | None:
    agency = await session.scalar(select(Agency).where(Agency.id == agency_id).options(selectinload(Agency.services)))
    return None if agency is None else summary_of(agency)


async def participating_agencies(
    session: AsyncSession,
    *,
    region_code: str,
    service_codes: list[str],
    min_level: CreditLevel | None = None,
    limit: int = 50,
) -> list[AgencySummary]:
    """Agencies that accept vouchers and offer one of `service_codes` within `region_code` (and its sub-regions)."""
    query = (
        select(Agency)
        .where(
            Agency.accepts_vouchers.is_(True),
            Agency.region_code.startswith(prefix_of(region_code)),
            Agency.id.in_(select(AgencyService.agency_id).where(AgencyService.service_code.in_(service_codes))),
        )
        .options(selectinload(Agency.services))
        .order_by(Agency.credit_score.desc(), Agency.id)
        .limit(limit)
    )
    if min_level is not None:
        query = query.where(Agency.credit_level.in_([lvl.value for lvl in levels_at_least(min_level)]))
    return [summary_of(agency) for agency in (await session.scalars(query)).all()]


async def follower_user_ids(session: AsyncSession, agency_id: int) -> list[int]:
    """Users following the agency (the WeChat pushes tell them when its rating changes)."""
    return await repository.follower_user_ids(session, agency_id)


# ---------------------------------------------------------------- search text and shared helpers


def search_text_for(name_zh: str, name_en: str | None, short_name: str | None) -> str:
    """What `q` is matched against: names, abbreviation, their pinyin and the abbreviation's initials, lower-cased."""
    parts = [name_zh, short_name or "", (name_en or "").lower()]
    for chinese in (name_zh, short_name):
        if chinese:
            parts.append("".join(lazy_pinyin(chinese)))
    if short_name:
        parts.append("".join(lazy_pinyin(short_name, style=Style.FIRST_LETTER)))
    return " ".join(p for p in parts if p).lower()


_CJK = re.compile(r"^[\u4e00-\u9fff]+$")
PINYIN_VARIANTS_MAX = 8


def pinyin_variants(term: str) -> tuple[str, ...]:
    """Every toneless pinyin a Chinese term can be read as (each character on its own, all its readings), so it
    always includes the reading stored for the term inside a name. Empty when the term is not all Chinese, too
    short to help a trigram index, or has more than PINYIN_VARIANTS_MAX readings.

    PostgreSQL's trigram index cannot serve `LIKE '%求是%'` (two characters make no trigram) but serves
    `LIKE '%qiushi%'`; search_text holds both, so the pinyin condition narrows and the Chinese one decides.
    """
    if not _CJK.match(term):
        return ()
    variants = [""]
    for char in term:
        readings = sorted({r for r in pinyin(char, style=Style.NORMAL, heteronym=True)[0] if r.isascii()})
        if not readings:
            return ()
        variants = [v + r for v in variants for r in readings]
        if len(variants) > PINYIN_VARIANTS_MAX:
            return ()
    return tuple(v for v in variants if len(v) >= 3)


def query_terms(q: str | None) -> tuple[str, ...]:
    if not q:
        return ()
    return tuple(term for term in q.replace("\u3000", " ").lower().split() if term)


def _invalidate_search(session: AsyncSession, cache: Cache) -> None:
    """Once per unit of work: after the commit, every cached search result becomes unreachable."""
    if session.info.get("agencies_search_bump"):
        return
    session.info["agencies_search_bump"] = True

    async def bump() -> None:
        await cache.bump(SEARCH_NAMESPACE)

    after_commit(session, bump)


def _region_out(code: str) -> RegionOut:
    return RegionOut(code=code, name=regions.display_name(code))


def _services_out(items: Sequence[tuple[str, int, int]]) -> list[ServiceOut]:
    out = []
    for code, low, high in items:
        service = ServiceCode(code)
        label = SERVICES[service]
        out.append(
            ServiceOut(code=service, label_zh=label.zh, label_en=label.en, price_min_fen=low, price_max_fen=high)
        )
    return out


def _rating_out(agency: Agency) -> RatingOut:
    return RatingOut(
        level=CreditLevel(agency.credit_level),
        score=agency.credit_score,
        updated_at=agency.rating_updated_at,
        evaluated_on=agency.evaluated_on,
    )


def card_columns(services: Sequence[tuple[str, int, int]], fields: Sequence[str]) -> dict[str, Any]:
    """The search columns derived from an agency's services and fields; every write of either sets them."""
    ordered = sorted(services)
    return {
        "services_mask": sum(SERVICE_BITS[ServiceCode(code)] for code, _, _ in ordered),
        "fields_mask": sum(FIELD_BITS[FieldCode(code)] for code in set(fields)),
        "min_price_fen": min((low for _, low, _ in ordered), default=None),
        "services_json": json.dumps([[code, low, high] for code, low, high in ordered], separators=(",", ":")),
    }


def _set_card_columns(agency: Agency, services: Sequence[tuple[str, int, int]], fields: Sequence[str]) -> None:
    for name, value in card_columns(services, fields).items():
        setattr(agency, name, value)


@functools.cache
def _region_dict(code: str) -> dict[str, str]:
    return {"code": code, "name": regions.display_name(code)}


_SERVICE_LABELS = {code.value: (label.zh, label.en) for code, label in SERVICES.items()}


def card_dicts(rows: Sequence[repository.CardRow]) -> list[dict[str, Any]]:
    """Result cards as plain data in the shape of `AgencyCard` (the hot path of search: no per-card validation;
    the values come from our own rows, and the tests check the shape against the schema)."""
    out = []
    for row in rows:
        services = []
        for code, low, high in json.loads(row.services_json):
            zh, en = _SERVICE_LABELS[code]
            services.append({"code": code, "label_zh": zh, "label_en": en, "price_min_fen": low, "price_max_fen": high})
        out.append(
            {
                "id": row.id,
                "name_zh": row.name_zh,
                "name_en": row.name_en,
                "short_name": row.short_name,
                "kind": row.kind,
                "region": _region_dict(row.region_code),
                "credit_level": row.credit_level,
                "credit_score": row.credit_score,
                "patent_attorneys": row.patent_attorneys,
                "trademark_agents": row.trademark_agents,
                "accepts_vouchers": row.accepts_vouchers,
                "services": services,
                "fields": [code.value for code in fields_from_mask(row.fields_mask)],
            }
        )
    return out


def _cards(rows: Sequence[repository.CardRow]) -> list[AgencyCard]:
    return [
        AgencyCard(
            id=row.id,
            name_zh=row.name_zh,
            name_en=row.name_en,
            short_name=row.short_name,
            kind=AgencyKind(row.kind),
            region=_region_out(row.region_code),
            credit_level=CreditLevel(row.credit_level),
            credit_score=row.credit_score,
            patent_attorneys=row.patent_attorneys,
            trademark_agents=row.trademark_agents,
            accepts_vouchers=row.accepts_vouchers,
            services=_services_out([tuple(item) for item in json.loads(row.services_json)]),
            fields=fields_from_mask(row.fields_mask),
        )
        for row in rows
    ]


async def _existing(session: AsyncSession, agency_id: int, *, for_update: bool = False) -> Agency:
    agency = await repository.get(session, agency_id, for_update=for_update)
    if agency is None:
        raise AgencyNotFound(agency_id)
    return agency


# ---------------------------------------------------------------- search


@dataclass(frozen=True, slots=True)
class SearchJson:
    """A serialised `AgencyPage`: cached as text and sent as is, so a cache hit costs no (de)serialisation."""

    text: str


def _search_filters(query: SearchQuery) -> repository.SearchFilters:
    code_range = None
    if query.region is not None:
        text = query.region.strip()
        if regions.is_valid_code(text) and regions.get(text) is None:
            # A district or county we do not list by name: exactly that code, not its whole city.
            code_range = regions.code_range(text)
        else:
            region = regions.lookup(text)
            if region is None:
                raise field_error("query.region", "unknown region; give a GB/T 2260 code, a Chinese name or pinyin")
            code_range = region.code_range()
    terms = query_terms(query.q)
    return repository.SearchFilters(
        terms=terms,
        pinyin_hints=tuple(pinyin_variants(term) for term in terms),
        exact=" ".join(terms) or None,
        code_range=code_range,
        service=query.service.value if query.service else None,
        service_bit=SERVICE_BITS[query.service] if query.service else 0,
        field_bit=FIELD_BITS[query.field] if query.field else 0,
        levels=tuple(level.value for level in levels_at_least(query.min_rating)) if query.min_rating else None,
        accepts_vouchers=query.accepts_vouchers,
    )


def _cache_key(filters: repository.SearchFilters, query: SearchQuery) -> str:
    normal = {
        "t": filters.terms,
        "r": filters.code_range,
        "s": filters.service,
        "f": filters.field_bit,
        "l": filters.levels,
        "v": filters.accepts_vouchers,
        "o": query.sort,
        "p": query.page,
        "n": query.page_size,
    }
    digest = hashlib.blake2b(json.dumps(normal, ensure_ascii=False).encode(), digest_size=16).hexdigest()
    return f"agencies:search:{digest}"


async def search(session: AsyncSession, cache: Cache, query: SearchQuery, *, cache_ttl: int) -> SearchJson:
    """Agencies matching the filters, one page plus the total. Cached for `cache_ttl` seconds (0: not cached).

    A cached entry is stored as "<version>\n<json>" with the namespace version read BEFORE the database, and read
    back together with the current version in one round trip: it is a hit only when the two versions agree. A write
    that commits while we compute bumps the version, so what we store is never served (no stale result).
    """
    filters = _search_filters(query)
    key = _cache_key(filters, query) if cache_ttl > 0 else None
    version: int | None = None
    if key is not None:
        version, cached = await cache.version_and_get(SEARCH_NAMESPACE, key)
        if cached is not None and version is not None:
            stored_version, _, text = cached.partition("\n")
            if stored_version == str(version):
                return SearchJson(text)
    rows, total = await repository.search(
        session, filters, sort=query.sort, limit=query.page_size, offset=(query.page - 1) * query.page_size
    )
    page = {"items": card_dicts(rows), "total": total, "page": query.page, "page_size": query.page_size}
    text = json.dumps(page, ensure_ascii=False, separators=(",", ":"))
    if key is not None and version is not None:
        await cache.set(key, f"{version}\n{text}", cache_ttl)
    return SearchJson(text)


# ---------------------------------------------------------------- detail


async def detail(session: AsyncSession, principal: Principal | None, agency_id: int) -> AgencyDetail:
    agency = await repository.get_full(session, agency_id)
    if agency is None:
        raise AgencyNotFound(agency_id)
    history = await repository.history_of(session, agency_id)
    following = None
    if principal is not None and principal.role is Role.ENTERPRISE:
        following = await repository.is_following(session, principal.user_id, agency_id)
    return AgencyDetail(
        id=agency.id,
        name_zh=agency.name_zh,
        name_en=agency.name_en,
        short_name=agency.short_name,
        credit_code=agency.credit_code,
        licence_no=agency.licence_no,
        kind=AgencyKind(agency.kind),
        region=_region_out(agency.region_code),
        address=agency.address,
        contact_name=agency.contact_name,
        contact_phone=agency.contact_phone,
        contact_email=agency.contact_email,
        website=agency.website,
        description=agency.description,
        founded_year=agency.founded_year,
        patent_attorneys=agency.patent_attorneys,
        trademark_agents=agency.trademark_agents,
        accepts_vouchers=agency.accepts_vouchers,
        rating=_rating_out(agency),
        rating_history=[
            RatingChangeOut(
                score=h.score,
                level=CreditLevel(h.level),
                previous_score=h.previous_score,
                previous_level=CreditLevel(h.previous_level) if h.previous_level else None,
                cause=h.cause,
                credit_event_id=h.credit_event_id,
                note=h.note,
                changed_at=h.changed_at,
            )
            for h in history
        ],
        services=_services_out([(s.service_code, s.price_min_fen, s.price_max_fen) for s in agency.services]),
        fields=[
            FieldOut(
                code=FieldCode(f.field_code),
                label_zh=FIELDS[FieldCode(f.field_code)].zh,
                label_en=FIELDS[FieldCode(f.field_code)].en,
            )
            for f in sorted(agency.fields, key=lambda f: f.field_code)
        ],
        branches=[BranchOut(region=_region_out(b.region_code), address=b.address) for b in agency.branches],
        followers=await repository.follower_count(session, agency_id),
        following=following,
        reviews=await review_summary(session, agency_id),
    )


async def review_summary(session: AsyncSession, agency_id: int) -> ReviewSummary:
    count, average = await repository.review_summary(session, agency_id)
    return ReviewSummary(count=count, average=None if average is None else round(average, 2))


# ---------------------------------------------------------------- register and edit


def _check_region(field: str, code: str) -> None:
    if not regions.is_valid_code(code):
        raise field_error(field, f"{code} is not a GB/T 2260 code of a mainland province, city or district")


def _check_services_fit_kind(kind: AgencyKind, services: Sequence[ServicePriceIn] | Sequence[str]) -> None:
    codes = {s.service if isinstance(s, ServicePriceIn) else ServiceCode(s) for s in services}
    if kind is AgencyKind.TRADEMARK:
        patent_only = sorted(
            code.value for code in codes & PATENT_SERVICES if code is not ServiceCode.LITIGATION_SUPPORT
        )
        if patent_only:
            raise field_error("services", f"a trademark agency cannot offer patent services: {', '.join(patent_only)}")
    if kind is AgencyKind.PATENT and ServiceCode.TRADEMARK_REGISTRATION in codes:
        raise field_error("services", "a patent-only agency cannot offer trademark_registration")


def _check_credit_code(code: str) -> None:
    problem = credit_code_problem(code)
    if problem is not None:
        raise field_error("credit_code", problem)


async def _check_unique(
    session: AsyncSession, *, credit_code: str | None, licence_no: str | None, agency_id: int | None
) -> None:
    if credit_code is not None:
        owner = await repository.id_by_credit_code(session, credit_code)
        if owner is not None and owner != agency_id:
            raise DuplicateAgency(
                f"agency {owner} already has credit code {credit_code}",
                details={"agency_id": owner, "field": "credit_code"},
            )
    if licence_no is not None:
        owner = await repository.id_by_licence(session, licence_no)
        if owner is not None and owner != agency_id:
            raise DuplicateAgency(
                f"agency {owner} already has licence {licence_no}", details={"agency_id": owner, "field": "licence_no"}
            )


def _check_branches(branches: Sequence[BranchIn]) -> None:
    for i, branch in enumerate(branches):
        _check_region(f"branches.{i}.region_code", branch.region_code)


async def register(session: AsyncSession, cache: Cache, principal: Principal | None, body: AgencyIn) -> AgencyDetail:
    """An official registers an agency; it starts at full marks (100, level A)."""
    acting = authorize(principal, Action.REGISTER)
    _check_credit_code(body.credit_code)
    _check_region("region_code", body.region_code)
    _check_branches(body.branches)
    _check_services_fit_kind(body.kind, body.services)
    await _check_unique(session, credit_code=body.credit_code, licence_no=body.licence_no, agency_id=None)
    now = utcnow()
    agency = Agency(
        name_zh=body.name_zh,
        name_en=body.name_en,
        short_name=body.short_name,
        credit_code=body.credit_code,
        licence_no=body.licence_no,
        kind=body.kind.value,
        region_code=body.region_code,
        address=body.address,
        contact_name=body.contact_name,
        contact_phone=body.contact_phone,
        contact_email=body.contact_email,
        website=body.website,
        description=body.description,
        founded_year=body.founded_year,
        patent_attorneys=body.patent_attorneys,
        trademark_agents=body.trademark_agents,
        accepts_vouchers=body.accepts_vouchers,
        credit_score=100,
        credit_level=level_for(100).value,
        credit_baseline=100,
        rating_updated_at=now,
        search_text=search_text_for(body.name_zh, body.name_en, body.short_name),
        **card_columns(
            [(s.service.value, s.price_min_fen, s.price_max_fen) for s in body.services], [f.value for f in body.fields]
        ),
    )
    try:
        async with session.begin_nested():
            session.add(agency)
            await session.flush()
    except IntegrityError:
        raise DuplicateAgency("an agency with this credit code or licence number exists") from None
    for s in body.services:
        session.add(
            AgencyService(
                agency_id=agency.id,
                service_code=s.service.value,
                price_min_fen=s.price_min_fen,
                price_max_fen=s.price_max_fen,
            )
        )
    for f in body.fields:
        session.add(AgencyField(agency_id=agency.id, field_code=f.value))
    for b in body.branches:
        session.add(AgencyBranch(agency_id=agency.id, region_code=b.region_code, address=b.address))
    session.add(
        RatingHistory(
            agency_id=agency.id,
            score=agency.credit_score,
            level=agency.credit_level,
            cause="initial",
            note="registered",
            changed_by=acting.user_id,
            changed_at=now,
        )
    )
    await session.flush()
    _invalidate_search(session, cache)
    return await detail(session, acting, agency.id)


# Patchable fields that cannot be cleared: every one the model does not allow NULL in (lists included), derived
# from the table and the permission sets so a new field needs no third list.
_NOT_NULL = frozenset(
    name
    for name in REGULATED_FIELDS | STAFF_EDITABLE_FIELDS
    if name not in Agency.__table__.columns or not Agency.__table__.columns[name].nullable
)
_SCALARS = (
    "name_zh",
    "name_en",
    "short_name",
    "credit_code",
    "licence_no",
    "region_code",
    "founded_year",
    "address",
    "contact_name",
    "contact_phone",
    "contact_email",
    "website",
    "description",
    "patent_attorneys",
    "trademark_agents",
    "accepts_vouchers",
)


async def update(
    session: AsyncSession, cache: Cache, principal: Principal | None, agency_id: int, patch: AgencyPatch
) -> AgencyDetail:
    """Change a profile: officials any field, agency staff their own agency's editable fields (403 naming others)."""
    acting = authorize(principal, Action.EDIT_PROFILE, agency_id)
    sent = set(patch.model_fields_set)
    check_patch_fields(acting, sent)
    for name in sorted(sent & _NOT_NULL):
        if getattr(patch, name) is None:
            raise field_error(name, "must not be null")
    agency = await repository.get_full(session, agency_id, for_update=True)
    if agency is None:
        raise AgencyNotFound(agency_id)
    if patch.credit_code is not None:
        _check_credit_code(patch.credit_code)
    if patch.region_code is not None:
        _check_region("region_code", patch.region_code)
    if patch.branches is not None:
        _check_branches(patch.branches)
    kind = patch.kind if patch.kind is not None else AgencyKind(agency.kind)
    services_after: Sequence[ServicePriceIn] | Sequence[str] = (
        patch.services if patch.services is not None else [s.service_code for s in agency.services]
    )
    _check_services_fit_kind(kind, services_after)
    await _check_unique(session, credit_code=patch.credit_code, licence_no=patch.licence_no, agency_id=agency_id)

    for name in _SCALARS:
        if name in sent:
            setattr(agency, name, getattr(patch, name))
    if patch.kind is not None:
        agency.kind = patch.kind.value
    if sent & {"name_zh", "name_en", "short_name"}:
        agency.search_text = search_text_for(agency.name_zh, agency.name_en, agency.short_name)
    if patch.services is not None:
        _replace_services(session, agency, patch.services)
    if patch.fields is not None:
        wanted = {f.value for f in patch.fields}
        for existing in list(agency.fields):
            if existing.field_code not in wanted:
                agency.fields.remove(existing)
        have = {f.field_code for f in agency.fields}
        for code in sorted(wanted - have):
            agency.fields.append(AgencyField(agency_id=agency.id, field_code=code))
    if patch.branches is not None:
        agency.branches = [
            AgencyBranch(agency_id=agency.id, region_code=b.region_code, address=b.address) for b in patch.branches
        ]
    if patch.services is not None or patch.fields is not None:
        _set_card_columns(
            agency,
            [(s.service_code, s.price_min_fen, s.price_max_fen) for s in agency.services],
            [f.field_code for f in agency.fields],
        )
    agency.updated_at = utcnow()
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise DuplicateAgency("another agency has this credit code or licence number") from None
    _invalidate_search(session, cache)
    session.expire(agency)
    return await detail(session, acting, agency_id)


def _replace_services(session: AsyncSession, agency: Agency, services: Sequence[ServicePriceIn]) -> None:
    wanted = {s.service.value: s for s in services}
    for existing in list(agency.services):
        new = wanted.pop(existing.service_code, None)
        if new is None:
            agency.services.remove(existing)
        else:
            existing.price_min_fen = new.price_min_fen
            existing.price_max_fen = new.price_max_fen
    for code, s in sorted(wanted.items()):
        agency.services.append(
            AgencyService(
                agency_id=agency.id, service_code=code, price_min_fen=s.price_min_fen, price_max_fen=s.price_max_fen
            )
        )


# ---------------------------------------------------------------- credit events


async def _rescore(
    session: AsyncSession,
    cache: Cache,
    agency: Agency,
    *,
    cause: str,
    acting: Principal,
    event_id: int | None = None,
    note: str = "",
) -> None:
    """Recompute the score from the baseline and the live events; record and announce a change.

    The caller holds the agency's row lock (or SQLite's write lock), so the events read here include every event
    committed before ours: two concurrent events are both counted.
    """
    events = await repository.counted_events(session, agency.id, agency.baseline_event_id)
    result = compute_score(events, baseline=agency.credit_baseline)
    await _apply_rating(session, cache, agency, result.score, cause=cause, acting=acting, event_id=event_id, note=note)


async def _apply_rating(
    session: AsyncSession,
    cache: Cache,
    agency: Agency,
    score: int,
    *,
    cause: str,
    acting: Principal,
    event_id: int | None = None,
    note: str = "",
) -> bool:
    level = level_for(score).value
    old_score, old_level = agency.credit_score, agency.credit_level
    if (score, level) == (old_score, old_level):
        return False
    now = utcnow()
    agency.credit_score = score
    agency.credit_level = level
    agency.rating_updated_at = now
    session.add(
        RatingHistory(
            agency_id=agency.id,
            score=score,
            level=level,
            previous_score=old_score,
            previous_level=old_level,
            cause=cause,
            credit_event_id=event_id,
            note=note,
            changed_by=acting.user_id,
            changed_at=now,
        )
    )
    await session.flush()
    _invalidate_search(session, cache)
    await publish(
        session,
        RatingChanged(
            agency_id=agency.id,
            agency_name=agency.name_zh,
            old_level=old_level,
            new_level=level,
            old_score=old_score,
            new_score=score,
            cause=cause,
        ),
    )
    return True


def _event_out(event: CreditEvent, *, reversed_by: int | None, baseline_event_id: int | None) -> CreditEventOut:
    category = CATEGORIES.get(event.category)
    counted = (
        event.reverses_event_id is None
        and reversed_by is None
        and (baseline_event_id is None or event.id > baseline_event_id)
    )
    return CreditEventOut(
        id=event.id,
        agency_id=event.agency_id,
        category=event.category,
        category_label=category.label.zh if category else event.category,
        points=event.points,
        reason=event.reason,
        reference_doc=event.reference_doc,
        reverses_event_id=event.reverses_event_id,
        reversed_by_event_id=reversed_by,
        counted=counted,
        created_by=event.created_by,
        created_at=event.created_at,
    )


async def record_event(
    session: AsyncSession, cache: Cache, principal: Principal | None, agency_id: int, body: CreditEventIn
) -> CreditEventResult:
    """An official records a deduction or bonus; the score and level follow in the same transaction."""
    acting = authorize(principal, Action.RECORD_CREDIT)
    agency = await _existing(session, agency_id, for_update=True)
    event = CreditEvent(
        agency_id=agency.id,
        points=body.points,
        category=body.category,
        reason=body.reason,
        reference_doc=body.reference_doc,
        created_by=acting.user_id,
        created_at=utcnow(),
    )
    session.add(event)
    await session.flush()
    await _rescore(session, cache, agency, cause="event", acting=acting, event_id=event.id, note=body.reason)
    return CreditEventResult(
        event=_event_out(event, reversed_by=None, baseline_event_id=agency.baseline_event_id),
        rating=_rating_out(agency),
    )


async def reverse_event(
    session: AsyncSession,
    cache: Cache,
    principal: Principal | None,
    agency_id: int,
    event_id: int,
    body: ReverseIn,
) -> CreditEventResult:
    """Withdraw an event by recording its opposite (events are never deleted); the rating is recomputed."""
    acting = authorize(principal, Action.RECORD_CREDIT)
    agency = await _existing(session, agency_id, for_update=True)
    original = await repository.event(session, agency_id, event_id)
    if original is None:
        raise CreditEventNotFound(f"agency {agency_id} has no credit event {event_id}")
    if original.reverses_event_id is not None:
        raise NotReversible("this event is itself a reversal; record a new event instead")
    if await repository.reversal_of(session, original.id) is not None:
        raise AlreadyReversed(f"credit event {event_id} was already reversed")
    if agency.baseline_event_id is not None and original.id <= agency.baseline_event_id:
        raise NotReversible(
            f"credit event {event_id} is part of the official evaluation of {agency.evaluated_on}; "
            "import a corrected result instead"
        )
    reversal = CreditEvent(
        agency_id=agency.id,
        points=-original.points,
        category=original.category,
        reason=body.reason,
        reference_doc=body.reference_doc,
        reverses_event_id=original.id,
        created_by=acting.user_id,
        created_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(reversal)
            await session.flush()
    except IntegrityError:
        raise AlreadyReversed(f"credit event {event_id} was already reversed") from None
    await _rescore(session, cache, agency, cause="reversal", acting=acting, event_id=reversal.id, note=body.reason)
    return CreditEventResult(
        event=_event_out(reversal, reversed_by=None, baseline_event_id=agency.baseline_event_id),
        rating=_rating_out(agency),
    )


async def credit_record(session: AsyncSession, principal: Principal | None, agency_id: int) -> CreditRecord:
    authorize(principal, Action.READ_CREDIT_RECORD, agency_id)
    agency = await _existing(session, agency_id)
    events = await repository.events_of(session, agency_id)
    reversed_by = {e.reverses_event_id: e.id for e in events if e.reverses_event_id is not None}
    return CreditRecord(
        agency_id=agency_id,
        rating=_rating_out(agency),
        baseline=agency.credit_baseline,
        events=[
            _event_out(e, reversed_by=reversed_by.get(e.id), baseline_event_id=agency.baseline_event_id) for e in events
        ],
    )


# ---------------------------------------------------------------- official evaluation import (CSV)

IMPORT_COLUMNS = ("credit_code", "name", "score", "level", "evaluated_on", "reference_doc")
IMPORT_REQUIRED = ("credit_code", "score", "evaluated_on")
IMPORT_MAX_ROWS = 20_000


@dataclass(frozen=True, slots=True)
class _ImportRow:
    line: int
    credit_code: str
    score: int
    evaluated_on: dt.date
    reference_doc: str


def _parse_import(raw: bytes) -> list[_ImportRow]:
    """Every row checked; all problems reported together by line and column, or the parsed rows."""
    problems: list[dict[str, Any]] = []

    def problem(line: int, column: str | None, message: str) -> None:
        problems.append({"line": line, "column": column, "message": message})

    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvRejected([{"line": 1, "column": None, "message": "the file is not UTF-8 text"}]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise CsvRejected([{"line": 1, "column": None, "message": "the file is empty"}]) from None
    except csv.Error as exc:
        raise CsvRejected([{"line": 1, "column": None, "message": f"not CSV: {exc}"}]) from None
    for name in IMPORT_REQUIRED:
        if name not in header:
            problem(1, name, "missing column")
    for name in header:
        if name not in IMPORT_COLUMNS:
            problem(1, name or "(blank)", f"unknown column; the columns are {', '.join(IMPORT_COLUMNS)}")
    if len(set(header)) != len(header):
        problem(1, None, "a column appears twice")
    if problems:
        raise CsvRejected(problems)

    rows: list[_ImportRow] = []
    seen: dict[str, int] = {}
    today = dt.date.today()
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) + len(problems) >= IMPORT_MAX_ROWS:
                problem(line, None, f"at most {IMPORT_MAX_ROWS} rows per file")
                break
            if len(record) != len(header):
                problem(line, None, f"expected {len(header)} cells, found {len(record)}")
                continue
            cells = {name: cell.strip() for name, cell in zip(header, record, strict=True)}
            ok = True
            code = cells["credit_code"].upper()
            code_problem = credit_code_problem(code)
            if code_problem is not None:
                problem(line, "credit_code", code_problem)
                ok = False
            elif code in seen:
                problem(line, "credit_code", f"already on line {seen[code]}")
                ok = False
            else:
                seen[code] = line
            score = 0
            try:
                score = int(cells["score"])
                if not 0 <= score <= MAX_SCORE:
                    problem(line, "score", f"must be a whole number from 0 to {MAX_SCORE}")
                    ok = False
            except ValueError:
                problem(line, "score", "must be a whole number")
                ok = False
            if ok and cells.get("level"):
                given = cells["level"].replace("+", "_plus")
                expected = level_for(score)
                if given != expected.value:
                    problem(line, "level", f"{cells['level']} does not match score {score} (level {expected.value})")
                    ok = False
            evaluated_on = today
            try:
                evaluated_on = dt.date.fromisoformat(cells["evaluated_on"])
                if evaluated_on > today:
                    problem(line, "evaluated_on", "must not be in the future")
                    ok = False
            except ValueError:
                problem(line, "evaluated_on", "must be a date like 2025-06-30")
                ok = False
            if len(cells.get("reference_doc", "")) > 200:
                problem(line, "reference_doc", "at most 200 characters")
                ok = False
            if ok:
                rows.append(_ImportRow(line, code, score, evaluated_on, cells.get("reference_doc", "")))
    except csv.Error as exc:
        problem(reader.line_num, None, f"not CSV: {exc}")
    if problems:
        raise CsvRejected(problems)
    if not rows:
        raise CsvRejected([{"line": 2, "column": None, "message": "no rows"}])
    return rows


async def import_results(session: AsyncSession, cache: Cache, principal: Principal | None, raw: bytes) -> ImportResult:
    """Import an official evaluation result file: all rows or none. Each row becomes the agency's new baseline:
    the credit events recorded so far are part of that evaluation, later events count on top of it."""
    acting = authorize(principal, Action.IMPORT_RESULTS)
    rows = _parse_import(raw)
    agencies: dict[str, Agency] = {}
    codes = [row.credit_code for row in rows]
    for start in range(0, len(codes), 1000):
        for found in await repository.by_credit_codes(session, codes[start : start + 1000], for_update=True):
            agencies[found.credit_code] = found
    problems = []
    for row in rows:
        known = agencies.get(row.credit_code)
        if known is None:
            problems.append({"line": row.line, "column": "credit_code", "message": "no agency with this credit code"})
        elif known.evaluated_on is not None and row.evaluated_on < known.evaluated_on:
            problems.append(
                {
                    "line": row.line,
                    "column": "evaluated_on",
                    "message": f"older than the evaluation already recorded ({known.evaluated_on})",
                }
            )
    if problems:
        raise CsvRejected(problems)
    last_ids: dict[int, int] = {}
    ids = [agency.id for agency in agencies.values()]
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        result = await session.execute(
            select(CreditEvent.agency_id, func.max(CreditEvent.id))
            .where(CreditEvent.agency_id.in_(chunk))
            .group_by(CreditEvent.agency_id)
        )
        last_ids.update({agency_id: last for agency_id, last in result.all()})
    out: list[ImportRowOut] = []
    changed = 0
    for row in rows:
        agency = agencies[row.credit_code]
        previous_score, previous_level = agency.credit_score, agency.credit_level
        agency.credit_baseline = row.score
        agency.baseline_event_id = last_ids.get(agency.id, agency.baseline_event_id)
        agency.evaluated_on = row.evaluated_on
        note = f"official evaluation of {row.evaluated_on}" + (f" ({row.reference_doc})" if row.reference_doc else "")
        if await _apply_rating(session, cache, agency, row.score, cause="import", acting=acting, note=note):
            changed += 1
        out.append(
            ImportRowOut(
                line=row.line,
                agency_id=agency.id,
                credit_code=row.credit_code,
                score=agency.credit_score,
                level=CreditLevel(agency.credit_level),
                previous_score=previous_score,
                previous_level=CreditLevel(previous_level),
            )
        )
    await session.flush()
    _invalidate_search(session, cache)
    return ImportResult(imported=len(rows), changed=changed, rows=out)


# ---------------------------------------------------------------- follows


async def follow(session: AsyncSession, principal: Principal | None, agency_id: int) -> FollowOut:
    """Enterprise staff follow an agency (idempotent) to be told when its rating changes."""
    acting = authorize(principal, Action.FOLLOW)
    await _existing(session, agency_id)
    await repository.add_follow(session, acting.user_id, agency_id)
    return FollowOut(agency_id=agency_id, following=True, followers=await repository.follower_count(session, agency_id))


async def unfollow(session: AsyncSession, principal: Principal | None, agency_id: int) -> None:
    acting = authorize(principal, Action.FOLLOW)
    await _existing(session, agency_id)
    await repository.remove_follow(session, acting.user_id, agency_id)


async def my_follows(session: AsyncSession, principal: Principal | None) -> FollowsOut:
    acting = authorize(principal, Action.FOLLOW)
    ids = await repository.followed_ids(session, acting.user_id)
    return FollowsOut(items=_cards(await repository.cards_by_ids(session, ids)))


# ---------------------------------------------------------------- reviews


async def add_review(session: AsyncSession, principal: Principal | None, agency_id: int, body: ReviewIn) -> ReviewOut:
    """Enterprise staff review an agency after a voucher-paid service there was delivered: one per redemption."""
    from vouchers.service import delivered_redemption_for_review  # vouchers builds on agencies, not the reverse

    acting = authorize(principal, Action.REVIEW)
    await _existing(session, agency_id)
    if acting.enterprise_id is None or not await delivered_redemption_for_review(
        session, acting.enterprise_id, agency_id, body.redemption_id
    ):
        raise NoDeliveredService(
            "you can review an agency only for a delivered voucher service of your enterprise there",
            details=[{"field": "redemption_id", "message": "no delivered redemption of yours at this agency"}],
        )
    if await repository.review_for_redemption(session, body.redemption_id) is not None:
        raise AlreadyReviewed(f"redemption {body.redemption_id} has been reviewed already")
    review = Review(
        agency_id=agency_id,
        enterprise_id=acting.enterprise_id,
        user_id=acting.user_id,
        redemption_id=body.redemption_id,
        rating=body.rating,
        comment=body.comment,
        created_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(review)
            await session.flush()
    except IntegrityError:
        raise AlreadyReviewed(f"redemption {body.redemption_id} has been reviewed already") from None
    return _review_out(review)


def _review_out(review: Review) -> ReviewOut:
    return ReviewOut(
        id=review.id,
        agency_id=review.agency_id,
        rating=review.rating,
        comment=review.comment,
        created_at=review.created_at,
    )


async def list_reviews(session: AsyncSession, agency_id: int) -> ReviewsOut:
    await _existing(session, agency_id)
    reviews = await repository.reviews_of(session, agency_id)
    return ReviewsOut(summary=await review_summary(session, agency_id), items=[_review_out(r) for r in reviews])
