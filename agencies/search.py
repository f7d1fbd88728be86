"""Searching agencies: the columns a search reads, the cached search itself, and dropping cached results.

Every write of an agency's names, services, fields or rating keeps its search columns in step (`search_text_for`,
`card_columns`) and calls `invalidate_search`, which bumps the cache namespace only after the commit, so a
concurrent reader cannot cache the old rows under the new cache version.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pypinyin import Style, lazy_pinyin, pinyin
from sqlalchemy.ext.asyncio import AsyncSession

from agencies import repository
from agencies.catalogue import FIELD_BITS, SERVICE_BITS, FieldCode, ServiceCode, levels_at_least
from agencies.models import Agency
from agencies.schemas import SearchQuery
from agencies.serialisers import card_dicts
from core import regions
from core.cache import Cache, bump_after_commit
from core.errors import field_error

# Cached search results live under this namespace; bumping its version after a write makes them all unreachable.
SEARCH_NAMESPACE = "agencies"

# ---------------------------------------------------------------- the columns a search reads


def search_text_for(name_zh: str, name_en: str | None, short_name: str | None) -> str:
    """What `q` is matched against: names, abbreviation, their pinyin and the abbreviation's initials, lower-cased."""
    parts = [name_zh, short_name or "", (name_en or "").lower()]
    for chinese in (name_zh, short_name):
        if chinese:
            parts.append("".join(lazy_pinyin(chinese)))
    if short_name:
        parts.append("".join(lazy_pinyin(short_name, style=Style.FIRST_LETTER)))
    return " ".join(p for p in parts if p).lower()


def card_columns(services: Sequence[tuple[str, int, int]], fields: Sequence[str]) -> dict[str, Any]:
    """The search columns derived from an agency's services and fields; every write of either sets them."""
    ordered = sorted(services)
    return {
        "services_mask": sum(SERVICE_BITS[ServiceCode(code)] for code, _, _ in ordered),
        "fields_mask": sum(FIELD_BITS[FieldCode(code)] for code in set(fields)),
        "min_price_fen": min((low for _, low, _ in ordered), default=None),
        "services_json": json.dumps([[code, low, high] for code, low, high in ordered], separators=(",", ":")),
    }


def set_card_columns(agency: Agency, services: Sequence[tuple[str, int, int]], fields: Sequence[str]) -> None:
    for name, value in card_columns(services, fields).items():
        setattr(agency, name, value)


def invalidate_search(session: AsyncSession, cache: Cache) -> None:
    """Once per unit of work: after the commit, every cached search result becomes unreachable."""
    bump_after_commit(session, cache, SEARCH_NAMESPACE)


# ---------------------------------------------------------------- the query's terms

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
