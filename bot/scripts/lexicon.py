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

# ---------------------------------------------------------------- region (GB/T 2260)
# canonical code -> surface forms (Chinese short/long names, pinyin / English)
REGIONS: dict[str, list[str]] = {
    "110000": ["北京", "北京市", "beijing", "帝都"],
    "120000": ["天津", "天津市", "tianjin"],
    "130000": ["河北", "河北省", "hebei"],
    "130100": ["石家庄", "石家庄市", "shijiazhuang"],
    "140000": ["山西", "山西省", "shanxi"],
    "140100": ["太原", "太原市", "taiyuan"],
    "150000": ["内蒙古", "内蒙古自治区", "inner mongolia"],
    "150100": ["呼和浩特", "呼和浩特市", "hohhot"],
    "210000": ["辽宁", "辽宁省", "liaoning"],
    "210100": ["沈阳", "沈阳市", "shenyang"],
    "210200": ["大连", "大连市", "dalian"],
    "220000": ["吉林省", "jilin"],
    "220100": ["长春", "长春市", "changchun"],
    "230000": ["黑龙江", "黑龙江省", "heilongjiang"],
    "230100": ["哈尔滨", "哈尔滨市", "harbin"],
    "310000": ["上海", "上海市", "shanghai", "魔都", "沪"],
    "320000": ["江苏", "江苏省", "jiangsu", "苏"],
    "320100": ["南京", "南京市", "nanjing"],
    "320200": ["无锡", "无锡市", "wuxi"],
    "320400": ["常州", "常州市", "changzhou"],
    "320500": ["苏州", "苏州市", "suzhou"],
    "320600": ["南通", "南通市", "nantong"],
    "330000": ["浙江", "浙江省", "zhejiang", "浙"],
    "330100": ["杭州", "杭州市", "hangzhou", "杭城"],
    "330200": ["宁波", "宁波市", "ningbo"],
    "330300": ["温州", "温州市", "wenzhou"],
    "330400": ["嘉兴", "嘉兴市", "jiaxing"],
    "330600": ["绍兴", "绍兴市", "shaoxing"],
    "330700": ["金华", "金华市", "jinhua", "义乌"],
    "331000": ["台州", "台州市", "taizhou"],
    "340000": ["安徽", "安徽省", "anhui"],
    "340100": ["合肥", "合肥市", "hefei"],
    "350000": ["福建", "福建省", "fujian"],
    "350100": ["福州", "福州市", "fuzhou"],
    "350200": ["厦门", "厦门市", "xiamen"],
    "350500": ["泉州", "泉州市", "quanzhou"],
    "360000": ["江西", "江西省", "jiangxi"],
    "360100": ["南昌", "南昌市", "nanchang"],
    "370000": ["山东", "山东省", "shandong", "鲁"],
    "370100": ["济南", "济南市", "jinan"],
    "370200": ["青岛", "青岛市", "qingdao"],
    "370600": ["烟台", "烟台市", "yantai"],
    "370700": ["潍坊", "潍坊市", "weifang"],
    "410000": ["河南", "河南省", "henan"],
    "410100": ["郑州", "郑州市", "zhengzhou"],
    "410300": ["洛阳", "洛阳市", "luoyang"],
    "420000": ["湖北", "湖北省", "hubei"],
    "420100": ["武汉", "武汉市", "wuhan"],
    "430000": ["湖南", "湖南省", "hunan"],
    "430100": ["长沙", "长沙市", "changsha"],
    "440000": ["广东", "广东省", "guangdong", "粤"],
    "440100": ["广州", "广州市", "guangzhou"],
    "440300": ["深圳", "深圳市", "shenzhen"],
    "440400": ["珠海", "珠海市", "zhuhai"],
    "440600": ["佛山", "佛山市", "foshan"],
    "441900": ["东莞", "东莞市", "dongguan"],
    "442000": ["中山", "中山市", "zhongshan"],
    "450000": ["广西", "广西壮族自治区", "guangxi"],
    "450100": ["南宁", "南宁市", "nanning"],
    "460000": ["海南", "海南省", "hainan"],
    "460100": ["海口", "海口市", "haikou"],
    "500000": ["重庆", "重庆市", "chongqing"],
    "510000": ["四川", "四川省", "sichuan"],
    "510100": ["成都", "成都市", "chengdu"],
    "520000": ["贵州", "贵州省", "guizhou"],
    "520100": ["贵阳", "贵阳市", "guiyang"],
    "530000": ["云南", "云南省", "yunnan"],
    "530100": ["昆明", "昆明市", "kunming"],
    "540000": ["西藏", "西藏自治区", "tibet", "xizang"],
    "610000": ["陕西", "陕西省", "shaanxi"],
    "610100": ["西安", "西安市", "xian", "xi'an"],
    "620000": ["甘肃", "甘肃省", "gansu"],
    "620100": ["兰州", "兰州市", "lanzhou"],
    "620700": ["张掖", "张掖市", "zhangye"],
    "630000": ["青海", "青海省", "qinghai"],
    "640000": ["宁夏", "宁夏回族自治区", "ningxia"],
    "650000": ["新疆", "新疆维吾尔自治区", "xinjiang"],
    "650100": ["乌鲁木齐", "乌鲁木齐市", "urumqi"],
}

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
    "A_plus": ["A+", "A+级", "a+", "a+级", "A加", "A plus", "a plus"],
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
        "good credit",
        "top rated",
        "reliable",
    ],
    "B": ["B级", "B", "b级"],
    "C": ["C级", "C", "c级"],
    "D": ["D级", "D", "d级", "信用差", "信用差的", "失信"],
}

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
