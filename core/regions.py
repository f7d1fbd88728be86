"""China's administrative regions (GB/T 2260): the 31 provinces, all 333 prefecture-level divisions, and the
main districts of the four municipalities.

Data: `core/data/regions.json` (code, full name, short name, province abbreviation, pinyin, English name, level,
and the colloquial names people type: 甬 for 宁波, 蓉 for 成都, 鹏城 for 深圳, 魔都 for 上海). The division list is
the Ministry of Civil Affairs' 2023 county-and-above list (https://www.mca.gov.cn/mzsj/xzqh/2023/202301xzqh.html).
Lookup accepts what people type: a six-digit code, a full or short Chinese name (浙江省 / 浙江 / 浙, 杭州市 / 杭州 /
杭), pinyin (zhejiang, hangzhou) or the English name (Inner Mongolia, Xi'an), case and spaces ignored. `find_in_text`
finds the region a whole sentence names ("杭州有哪些A级代理机构", "甬的代理所"). When a short
name or pinyin names several regions (吉林 the province and the city; 朝阳 in Liaoning and Beijing) the wider one
wins: province, then city, then district.

A region's sub-regions share its code prefix: a province xx0000 covers every code starting with xx, a city xxxx00
every code starting with xxxx. `code_range()` gives the half-open range a filter compares with, which any B-tree
index serves without LIKE (whose index use depends on the collation on PostgreSQL).
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "regions.json"
_LEVEL_RANK = {"province": 0, "city": 1, "district": 2}
_CODE = re.compile(r"^[0-9]{6}$")  # ASCII: `\d` also matches other scripts' digits


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str  # full name: 杭州市
    short: str  # 杭州
    pinyin: str  # hangzhou
    en: str  # Hangzhou
    level: str  # province / city / district
    abbr: str | None = None  # provinces only: 浙
    aliases: tuple[str, ...] = ()  # colloquial: 甬, 鹏城, 魔都

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"

    @property
    def prefix(self) -> str:
        """The code prefix shared by this region and everything inside it."""
        if self.level == "province":
            return self.code[:2]
        if self.level == "city":
            return self.code[:4]
        return self.code

    def code_range(self) -> tuple[str, str]:
        """Half-open [low, high) range of six-digit codes inside this region."""
        return code_range(self.prefix)

    def contains(self, code: str) -> bool:
        return code.startswith(self.prefix)


def prefix_of(code: str) -> str:
    """The code prefix a region filter matches: a province (xx0000) its cities, a city (xxxx00) its districts."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def enclosing_codes(code: str) -> list[str]:
    """A region and the regions containing it: 330106 → 330100, 330106, 330000 (sorted)."""
    return sorted({code, code[:4] + "00", code[:2] + "0000"})


def code_range(prefix: str) -> tuple[str, str]:
    """`"33"` -> `("33", "34")`: every code starting with the prefix sorts in between."""
    return prefix, str(int(prefix) + 1).zfill(len(prefix))


def _norm(text: str) -> str:
    return re.sub(r"[\s'’·\-_.]", "", text).lower()


@dataclass(frozen=True, slots=True)
class _Index:
    by_code: dict[str, Region]
    by_key: dict[str, Region]
    # Chinese names for matching inside a sentence, longest first (full names, short names, aliases).
    names: tuple[tuple[str, Region], ...]


@cache
def _index() -> _Index:
    rows = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    regions = [
        Region(
            code=r["code"],
            name=r["name"],
            short=r["short"],
            pinyin=r["pinyin"],
            en=r["en"],
            level=r["level"],
            abbr=r.get("abbr"),
            aliases=tuple(r.get("aliases", ())),
        )
        for r in rows
    ]
    by_code = {r.code: r for r in regions}
    by_key: dict[str, Region] = {}
    # Wider regions first, so they keep an ambiguous key (setdefault never overwrites).
    for region in sorted(regions, key=lambda r: (_LEVEL_RANK[r.level], r.code)):
        keys = [region.name, region.short, region.pinyin, region.en]
        if region.abbr:
            keys.append(region.abbr)
        keys.extend(region.aliases)
        for key in keys:
            by_key.setdefault(_norm(key), region)
    # 山西 and 陕西 share the pinyin "shanxi"; the official romanisation of 陕西 is Shaanxi.
    by_key["shanxi"] = by_code["140000"]
    names: dict[str, Region] = {}
    for region in sorted(regions, key=lambda r: (_LEVEL_RANK[r.level], r.code)):
        for name in (region.name, region.short, region.abbr or "", *region.aliases):
            if name and not name.isascii():
                names.setdefault(name, region)
    ordered = tuple(sorted(names.items(), key=lambda item: -len(item[0])))
    return _Index(by_code=by_code, by_key=by_key, names=ordered)


def get(code: str) -> Region | None:
    """The region with exactly this code."""
    return _index().by_code.get(code)


def lookup(text: str) -> Region | None:
    """The region a person meant: a code, a Chinese name (full or short), pinyin or English."""
    text = text.strip()
    if not text:
        return None
    if _CODE.match(text):
        known = get(text)
        if known is not None:
            return known
        # A district or county code we do not list: fall back to its city, then its province.
        return get(text[:4] + "00") or get(text[:2] + "0000")
    return _index().by_key.get(_norm(text))


# One-character names that are also common parts of other words (京东, 资深, 津贴, 新能源, 云计算, 青年, 宁可 …):
# counted only where a place name stands — at the start of the message or after 在/去/来/到, and not followed by
# another character of a word (a particle, punctuation, a region word or the end may follow).
_AMBIGUOUS_ONE_CHAR = frozenset("京深津苏新云青宁黑吉甘藏蒙辽川贵秦申锡陇晋")
_PLACE_BEFORE = frozenset("在去来到")
_AFTER_PLACE = frozenset("的地这那里区市省及和与、，,。？?！! ")


def _cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def find_in_text(text: str) -> Region | None:
    """The region a sentence names, by its longest Chinese name in the text (杭州市 before 杭州 before 杭); then
    pinyin or English words ("agencies in Hangzhou"). None when it names none."""
    if not text:
        return None
    for name, region in _index().names:
        start = text.find(name)
        while start != -1:
            if len(name) > 1 or _standalone(text, start, name):
                return region
            start = text.find(name, start + 1)
    words = re.findall(r"[A-Za-z][A-Za-z'’]*", text)
    # Two-word names first (Inner Mongolia), then single words longer than three letters (not "in", "and").
    candidates = [f"{a} {b}" for a, b in itertools.pairwise(words)] + [w for w in words if len(w) > 3]
    for candidate in candidates:
        found = _index().by_key.get(_norm(candidate))
        if found is not None:
            return found
    return None


def _standalone(text: str, start: int, name: str) -> bool:
    """A one-character name used as a place, not as part of a word."""
    if name not in _AMBIGUOUS_ONE_CHAR:
        before = text[start - 1] if start > 0 else ""
        after = text[start + 1] if start + 1 < len(text) else ""
        # 杭, 甬, 沪, 浙 …: rarely anything else, but still not inside a run of other region characters.
        return not (_cjk(before) and before not in _PLACE_BEFORE and _cjk(after) and after not in _AFTER_PLACE)
    before = text[start - 1] if start > 0 else ""
    after = text[start + 1] if start + 1 < len(text) else ""
    before_ok = not before or not _cjk(before) or before in _PLACE_BEFORE
    after_ok = not after or after in _AFTER_PLACE or not _cjk(after)
    return before_ok and after_ok


def is_valid_code(code: str) -> bool:
    """A six-digit code whose province is known (agencies may sit in districts we do not list by name)."""
    return bool(_CODE.match(code)) and get(code[:2] + "0000") is not None


def display_name(code: str) -> str:
    """`330106` -> `浙江省杭州市` as far as we know the parts; the code itself when nothing is known."""
    parts: list[str] = []
    province = get(code[:2] + "0000")
    if province is not None:
        parts.append(province.name)
    city = get(code[:4] + "00")
    if city is not None and city.code != province_code_of(code):
        parts.append(city.name)
    exact = get(code)
    if exact is not None and exact.level == "district":
        parts.append(exact.name)
    return "".join(parts) or code


def province_code_of(code: str) -> str:
    return code[:2] + "0000"


def provinces() -> list[Region]:
    return [r for r in _index().by_code.values() if r.level == "province"]


def cities_of(province_code: str) -> list[Region]:
    prefix = province_code[:2]
    return [r for r in _index().by_code.values() if r.level == "city" and r.code.startswith(prefix)]


def all_regions() -> list[Region]:
    return list(_index().by_code.values())
