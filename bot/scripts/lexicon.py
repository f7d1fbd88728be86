"""Single source of the assistant's entity vocabulary.

Writes, from the tables below:
  * bot/jieba_dict/*.txt          -- Jieba user dictionaries (one word a line), so that
                                     entity values and domain terms stay single tokens;
  * nlu_data/nlu/lexicon.yml      -- entity synonyms (surface form -> canonical value),
                                     lookup tables and regexes for the RegexFeaturizer.

Run with any Python 3:  python bot/scripts/lexicon.py   (the outputs are committed;
`make -f mk/rasa.mk rasa-lexicon-check` fails when they are out of date).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------- vocabulary
# Services, fields and credit levels live in bot/vocabulary.py (the actions read text with the same tables); regions
# in core/data/regions.json through core/regions.py: all 31 provinces and 333 prefecture-level divisions with their
# full, short and colloquial names (杭州市 / 杭州 / 杭, 宁波 / 甬), pinyin and English.
sys.path.insert(0, str(ROOT))
from bot.vocabulary import RATING_LEVELS, SERVICE_TYPES, TECHNICAL_FIELDS  # noqa: E402
from core import regions as _regions  # noqa: E402

# One-character names that are also parts of common words stay out of the NLU vocabulary (the backend still
# reads them in context, core.regions.find_in_text): 新 in 新能源, 云 in 云计算, 京 in 京东 …
_RISKY_ONE_CHAR = set("京深津苏新云青宁黑吉甘藏蒙辽川贵秦申锡陇晋")
# Names shared with the made-up agency names below or read as other words: left to the backend.
_REGION_SKIP = {"长安", "江城", "泉城", "山城", "首都"}


def _region_table() -> dict[str, list[str]]:
    """code -> surface forms, wider regions first so an ambiguous form (吉林, 海南) goes to the province."""
    table: dict[str, list[str]] = {}
    seen: set[str] = set()
    order = {"province": 0, "city": 1}
    for region in sorted(
        (r for r in _regions.all_regions() if r.level in order), key=lambda r: (order[r.level], r.code)
    ):
        forms = [region.short, region.name, region.pinyin, region.en.lower()]
        if region.abbr and region.abbr not in _RISKY_ONE_CHAR:
            forms.append(region.abbr)
        forms += [a for a in region.aliases if a not in _RISKY_ONE_CHAR]
        kept = []
        for form in dict.fromkeys(f for f in forms if f and f not in _REGION_SKIP):
            key = form.lower()
            if key in seen:
                continue
            seen.add(key)
            kept.append(form)
        table[region.code] = kept
    table["610000"].append("shaanxi")
    table["610100"].append("xi'an")
    return table


REGIONS: dict[str, list[str]] = _region_table()

# agency names: made-up but realistic, full and short forms.  They are only tagged as
# agency_name; the backend matches them tolerantly against the live directory.
AGENCY_NAMES: list[str] = [
    "杭州求是专利事务所",
    "求是专利",
    "求是",
    "北京集慧知识产权代理有限公司",
    "集慧知识产权",
    "集慧",
    "上海华诚专利代理有限公司",
    "华诚专利",
    "华诚",
    "深圳鹏飞知识产权代理有限公司",
    "鹏飞知识产权",
    "鹏飞",
    "广州三环专利商标代理有限公司",
    "三环专利",
    "三环",
    "南京经纬专利商标代理有限公司",
    "经纬专利",
    "经纬",
    "苏州创元专利商标事务所",
    "创元专利",
    "创元",
    "成都天府专利代理有限公司",
    "天府专利",
    "天府",
    "武汉江城知识产权代理有限公司",
    "江城知识产权",
    "江城",
    "西安长安专利事务所",
    "长安专利",
    "济南泉城专利商标事务所",
    "泉城专利",
    "泉城",
    "合肥科大专利代理有限公司",
    "科大专利",
    "浙江千岛湖知识产权代理有限公司",
    "千岛湖知识产权",
    "千岛湖",
    "宁波甬信专利代理事务所",
    "甬信专利",
    "甬信",
    "北京中关村知识产权代理有限公司",
    "中关村知识产权",
    "杭州西湖专利代理有限公司",
    "西湖专利",
    "上海东方知识产权代理有限公司",
    "东方知识产权",
    "深圳前海专利商标事务所",
    "前海专利",
    "Huacheng IP",
    "Qiushi Patent",
    "Sanhuan IP",
    "Jinghui IP",
    "Pengfei IP",
]

# Entity words get a high explicit frequency so that Jieba prefers them over its own
# compounds (商标代理 -> 商标/代理, 能源行业 -> 新能源/行业, 诚信 in 华诚信用 -> 华诚/信用).
# A real word still beats "high-frequency single char + rest", since a split path pays
# two probabilities.
ENTITY_FREQ = 20000

# other domain terms kept whole by Jieba (no frequency: Jieba suggests one that keeps the
# word whole).  No compound that swallows an entity value (商标快审, 专利优先审查 ...).
DOMAIN_TERMS: list[str] = [
    "优先审查",
    "优审",
    "优先审查请求书",
    "推荐意见",
    "审查意见通知书",
    "第一次审查意见",
    "一通",
    "审查意见",
    "结案",
    "授权",
    "专利权",
    "专利权人",
    "专利申请",
    "快速审查",
    "专利审查高速路",
    "PPH",
    "集中审查",
    "快速预审",
    "保护中心",
    "知识产权保护中心",
    "预审",
    "备案",
    "开放许可",
    "专利开放许可",
    "许可费",
    "质押融资",
    "质押",
    "知识产权保险",
    "专利保险",
    "专利执行保险",
    "侵权责任险",
    "保险补贴",
    "专利导航",
    "维权",
    "维权援助",
    "侵权",
    "行政裁决",
    "海外维权",
    "代理机构",
    "代理所",
    "专利代理",
    "事务所",
    "知识产权代理",
    "信用评价",
    "信用等级",
    "信用评级",
    "扣分",
    "加分",
    "信用修复",
    "专精特新",
    "小巨人",
    "创新型中小企业",
    "服务券",
    "创新券",
    "券",
    "兑付",
    "结算",
    "核销",
    "代理费",
    "官费",
    "包授权",
    "专利代理师",
    "中小企业",
    "国知局",
    "知识产权局",
    "国家知识产权局",
    "工信部",
    "若干措施",
    "38号文",
    "实审",
    "实质审查",
    "专利评价报告",
    "专利权评价报告",
    "审查周期",
    "加急",
    "加快",
    "下证",
]


# Jieba's own compounds that swallow an entity value: given frequency 0 so that they
# split (商标代理 -> 商标/代理): a zero frequency removes a word from Jieba's DAG.
SPLIT_COMPOUNDS: list[str] = ["商标代理", "能源行业", "机械类", "发明人", "外观设计师"]


def _yaml_list(items: list[str], indent: str = "      ") -> str:
    return "\n".join(f"{indent}- {s}" for s in items)


def render_lexicon_yml() -> str:
    out = [
        "# GENERATED by bot/scripts/lexicon.py -- edit the tables there, then re-run it.",
        'version: "3.1"',
        "nlu:",
    ]
    for table in (REGIONS, SERVICE_TYPES, TECHNICAL_FIELDS, RATING_LEVELS):
        for canonical, forms in table.items():
            syns = [f for f in dict.fromkeys(f.lower() for f in forms) if f != canonical.lower()]
            out.append(f'- synonym: "{canonical}"')
            out.append("  examples: |")
            out.append(_yaml_list(syns, "    "))
    lookups = {
        "region": [f for forms in REGIONS.values() for f in forms if not f.isascii() and len(f) > 1],
        "agency_name": [a for a in AGENCY_NAMES if len(a) > 2],
        "technical_field": [f for forms in TECHNICAL_FIELDS.values() for f in forms if not f.isascii() and len(f) > 1],
    }
    for name, items in lookups.items():
        out.append(f"- lookup: {name}")
        out.append("  examples: |")
        out.append(_yaml_list(list(dict.fromkeys(items)), "    "))
    out.append("- regex: rating_level")
    out.append("  examples: |")
    out.append("    - [ABCDabcd]\\+?级")
    out.append("    - 信用[好差]")
    return "\n".join(out) + "\n"


def render_jieba() -> dict[str, list[str]]:
    def words(table: dict[str, list[str]] | list[str], freq: int | None = ENTITY_FREQ) -> list[str]:
        flat = [w for ws in table.values() for w in ws] if isinstance(table, dict) else table
        # Jieba dictionary lines are "word [freq] [tag]": no spaces inside a word, and
        # single Latin letters are left to Jieba's own rules.  Compounds ending in 申请
        # ("发明申请") stay out, so that "发明" keeps its own token before "申请".
        keep = sorted(
            {
                w
                for w in flat
                if " " not in w and not (w.isascii() and len(w) < 2) and not (w.endswith("申请") and len(w) > 2)
            }
        )
        return [f"{w} {freq}" if freq else w for w in keep]

    return {
        "regions.txt": words(REGIONS),
        "service_types.txt": words(SERVICE_TYPES),
        "technical_fields.txt": words(TECHNICAL_FIELDS),
        "rating_levels.txt": words(RATING_LEVELS),
        "agency_names.txt": words(AGENCY_NAMES),
        "domain_terms.txt": words(DOMAIN_TERMS, None),
        "split_compounds.txt": [f"{w} 0" for w in sorted(SPLIT_COMPOUNDS)],
    }


def main(check: bool = False) -> int:
    targets = {ROOT / "nlu_data/nlu/lexicon.yml": render_lexicon_yml()}
    for fname, ws in render_jieba().items():
        targets[ROOT / "bot/jieba_dict" / fname] = "\n".join(ws) + "\n"
    stale = []
    for path, text in targets.items():
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        print("out of date (run python bot/scripts/lexicon.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(check="--check" in sys.argv))
