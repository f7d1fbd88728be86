"""The assistant's everyday vocabulary: what people type for a service, a technical field or a credit level, mapped
to the catalogue codes. One source for both halves: `bot/scripts/lexicon.py` writes the NLU synonyms, lookup tables
and Jieba dictionaries from these tables (regions come from `core/regions.py`), and the actions read a message's
text with the matchers below when the model tagged nothing — so "杭州有哪些信用A级的代理机构可以做发明专利" is a search
for Hangzhou, level A or better, invention filings, whatever the model's entities say.

Pure Python, no dependencies: the lexicon script runs it with the Rasa venv's Python.
"""

from __future__ import annotations

import re

SERVICE_TYPES: dict[str, list[str]] = {
    "invention": [
        "发明",
        "发明专利",
        "发明申请",
        "发明专利申请",
        "invention",
        "invention patent",
        "invention patents",
        "inventions",
    ],
    "utility_model": [
        "实用新型",
        "实用新型专利",
        "实用新型申请",
        "新型专利",
        "实用",
        "utility model",
        "utility models",
        "utility model patent",
    ],
    "design": [
        "外观",
        "外观设计",
        "外观专利",
        "外观设计专利",
        "外观设计申请",
        "design",
        "design patent",
        "design patents",
        "industrial design",
    ],
    "trademark_registration": [
        "商标",
        "商标注册",
        "注册商标",
        "商标申请",
        "trademark",
        "trademarks",
        "trademark registration",
        "trade mark",
        "注册个商标",
        "申请商标",
        "品牌注册",
    ],
    "pct_foreign": [
        "PCT",
        "pct",
        "PCT申请",
        "海外申请",
        "国外申请",
        "海外专利",
        "国际申请",
        "涉外专利",
        "foreign filing",
        "international filing",
        "overseas filing",
    ],
    "priority_exam_assist": ["代办优先审查", "优先审查代办", "优审代办", "priority exam filing"],
    "reexamination_invalidation": [
        "复审",
        "无效",
        "无效宣告",
        "复审无效",
        "专利无效",
        "invalidation",
        "reexamination",
        "re-examination",
    ],
    "litigation_support": ["诉讼", "侵权诉讼", "专利诉讼", "打官司", "litigation", "lawsuit"],
    "patent_navigation": ["专利导航", "导航分析", "patent navigation", "patent landscaping"],
    "pledge_valuation": ["质押评估", "专利评估", "价值评估", "评估", "valuation", "patent valuation"],
}

TECHNICAL_FIELDS: dict[str, list[str]] = {
    "energy_environment": [
        "节能环保",
        "环保",
        "节能",
        "污水处理",
        "环保设备",
        "energy saving",
        "environmental protection",
        "environmental",
    ],
    "next_gen_it": [
        "新一代信息技术",
        "信息技术",
        "芯片",
        "集成电路",
        "半导体",
        "人工智能",
        "通信",
        "5G",
        "AI",
        "ai",
        "semiconductor",
        "semiconductors",
        "chips",
        "chip",
        "artificial intelligence",
        "telecom",
    ],
    "biotech_medicine": [
        "生物医药",
        "生物",
        "医药",
        "医疗器械",
        "生物技术",
        "制药",
        "医疗",
        "疫苗",
        "中药",
        "biotech",
        "pharma",
        "medical devices",
        "medical device",
        "biomedicine",
    ],
    "high_end_equipment": [
        "高端装备",
        "高端装备制造",
        "装备制造",
        "航空航天",
        "数控机床",
        "high-end equipment",
        "aerospace",
    ],
    "new_energy": [
        "新能源",
        "光伏",
        "风电",
        "储能",
        "锂电",
        "锂电池",
        "氢能",
        "电池",
        "充电桩",
        "new energy",
        "solar",
        "batteries",
        "battery",
        "energy storage",
    ],
    "new_materials": [
        "新材料",
        "石墨烯",
        "复合材料",
        "高分子材料",
        "纳米材料",
        "新型材料",
        "new materials",
        "new material",
        "graphene",
        "composites",
    ],
    "new_energy_vehicles": [
        "新能源汽车",
        "新能源车",
        "电动车",
        "电动汽车",
        "汽车电子",
        "new energy vehicles",
        "electric vehicles",
        "EV",
        "ev",
    ],
    "smart_manufacturing": [
        "智能制造",
        "工业机器人",
        "机器人",
        "自动化",
        "智能装备",
        "smart manufacturing",
        "robotics",
        "automation",
        "robots",
    ],
    "digital_economy": [
        "互联网",
        "大数据",
        "云计算",
        "软件",
        "数字经济",
        "电商",
        "工业软件",
        "APP",
        "小程序",
        "SaaS",
        "saas",
        "internet",
        "big data",
        "cloud computing",
        "cloud",
        "software",
    ],
    "chemicals": ["化工", "化学", "精细化工", "涂料", "chemicals", "chemical", "chemistry"],
    "mechanical": ["机械", "五金", "模具", "机械加工", "mechanical", "machinery"],
    "electrical": ["电气", "电子", "电器", "家电", "电路", "electrical", "electronics"],
    "other": ["纺织", "服装", "食品", "农业", "家具", "textiles", "food"],
}

RATING_LEVELS: dict[str, list[str]] = {
    "A_plus": ["A+", "A+级", "a+", "a+级", "A加", "A plus", "a plus", "最高级", "最好的"],
    "A": [
        "A级",
        "A",
        "a级",
        "信用好",
        "信用好的",
        "信用最好",
        "信用高",
        "信用高的",
        "靠谱",
        "靠谱的",
        "信誉好",
        "信誉好的",
        "口碑好",
        "口碑好的",
        "正规",
        "正规的",
        "A类",
        "good credit",
        "top rated",
        "reliable",
        "trustworthy",
        "reputable",
        "A-rated",
        "A rated",
    ],
    "B": ["B级", "B", "b级"],
    "C": ["C级", "C", "c级"],
    "D": ["D级", "D", "d级", "信用差", "信用差的", "失信"],
}


# "Accepts vouchers" as a search filter: 收服务券的 / 能用券的 / 可以用创新券 / accepts vouchers.
_VOUCHER_FILTER = re.compile(
    r"(收|接受|能用|可用|可以用|支持|认)[^，,。？?]{0,4}(服务券|创新券|券)|(服务券|创新券|券)[^，,。？?]{0,3}(能用|可用|可以用)|"
    r"accept\w*\s+(service\s+|innovation\s+)?vouchers?|vouchers?\s+(accepted|ok)|take\s+vouchers?|"
    r"(use|using|with)\s+(my\s+|a\s+|our\s+)?vouchers?",
    re.IGNORECASE,
)
_RATING_PATTERN = re.compile(r"(?<![A-Za-z0-9])([ABCDabcd])\s*(\+|＋|加)?\s*(级|类|等)", re.IGNORECASE)
_A_PLUS_PATTERN = re.compile(r"(?<![A-Za-z0-9])A\s*(\+|＋)(?![A-Za-z0-9])|\bA plus\b", re.IGNORECASE)


def _find(table: dict[str, list[str]], text: str) -> str | None:
    """The code whose longest surface form occurs in the text (Chinese anywhere, Latin as whole words)."""
    found = match_in(table, text)
    return found[0] if found else None


def match_in(table: dict[str, list[str]], text: str) -> tuple[str, str] | None:
    """(code, the surface form that matched) of the longest form of `table` in the text, as `_find` reads it."""
    lowered = text.lower()
    best: tuple[str, str] | None = None
    for code, forms in table.items():
        for form in forms:
            f = form.lower()
            if f.isascii():
                if len(f) < 2 or not re.search(rf"(?<![a-z0-9]){re.escape(f)}(?![a-z0-9])", lowered):
                    continue
            elif f not in lowered:
                continue
            if best is None or len(f) > len(best[1]):
                best = (code, form)
    return best


def service_in(text: str) -> str | None:
    """The service a message asks for: 发明 / 做商标 / PCT → invention / trademark_registration / pct_foreign."""
    return _find(SERVICE_TYPES, text)


def field_in(text: str) -> str | None:
    """The technical field a message names in everyday words: 做锂电池的 → new_energy, 工业软件 → digital_economy."""
    return _find(TECHNICAL_FIELDS, text)


def rating_in(text: str) -> str | None:
    """The credit level a message asks for, read as "at least": A级 / A+ / 信用好 / 靠谱 → A_plus or A …"""
    if _A_PLUS_PATTERN.search(text):
        return "A_plus"
    match = _RATING_PATTERN.search(text)
    if match:
        letter = match.group(1).upper()
        return "A_plus" if letter == "A" and match.group(2) else letter
    forms = {code: [f for f in forms if len(f) > 1] for code, forms in RATING_LEVELS.items()}
    return _find(forms, text)


def wants_voucher_agencies(text: str) -> bool:
    """Does the message ask for agencies that accept service vouchers (收服务券的, 能用券的, accepts vouchers)?"""
    return bool(_VOUCHER_FILTER.search(text))


def canonical(table: dict[str, list[str]], value: str | None) -> str | None:
    """A code for an entity value that may be a code already or a surface form the synonyms missed."""
    if not value:
        return None
    if value in table:
        return value
    lowered = value.strip().lower()
    for code, forms in table.items():
        if lowered in (f.lower() for f in forms):
            return code
    return None
