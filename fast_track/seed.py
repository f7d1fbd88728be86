"""The protection centres the planner starts with: real centres from sourced lists (FAST_TRACK_NOTES §1b).

`scope_confirmed` is True only where the centre's approved fields are stated in a source we read; the area served
is taken as the centre's city or province (Quanzhou's rules say so for Quanzhou; elsewhere it is assumed), and
fields marked unconfirmed are left empty or as reported. Officials correct rows in the console; `seed_centres`
adds only the names not yet in the table, so their edits survive a re-seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fast_track.models import ProtectionCentre

PATENTS = ("invention", "utility_model", "design")
DESIGNS = ("design",)


@dataclass(frozen=True, slots=True)
class SeedCentre:
    name: str
    name_en: str
    seat: str
    serves: tuple[str, ...]
    fields: tuple[str, ...]
    words: tuple[str, ...]
    source: str
    confirmed: bool = True
    types: tuple[str, ...] = PATENTS
    kind: str = "protection"
    record_url: str | None = None


CENTRES: tuple[SeedCentre, ...] = (
    SeedCentre(
        "中国（北京）知识产权保护中心",
        "China (Beijing) IPPC",
        "110000",
        ("110000",),
        ("next_gen_it", "high_end_equipment"),
        ("信息技术", "高端装备"),
        "S18 (Mondaq, c. 2023; Xinhua 2018-01-26)",
    ),
    SeedCentre(
        "中国（广东）知识产权保护中心",
        "China (Guangdong) IPPC",
        "440100",
        ("440000",),
        ("next_gen_it", "biotech_medicine"),
        ("信息技术", "生物"),
        "S16 (Huangpu / China Daily, 2019-05-01); area assumed the province",
    ),
    SeedCentre(
        "中国（深圳）知识产权保护中心",
        "China (Shenzhen) IPPC",
        "440300",
        ("440300",),
        ("new_energy", "digital_economy"),
        ("新能源", "锂电", "电池", "互联网"),
        "S17 (CNIPA English, undated)",
    ),
    SeedCentre(
        "上海市知识产权保护中心",
        "Shanghai IP Protection Center",
        "310104",
        ("310000",),
        ("new_materials", "energy_environment"),
        ("新材料", "节能环保"),
        "S19 (SHINE, 2023-03-16): 115 IPC groups, 3 Locarno classes",
    ),
    SeedCentre(
        "中国（浦东）知识产权保护中心",
        "China (Pudong) IPPC",
        "310115",
        ("310115",),
        ("high_end_equipment", "biotech_medicine"),
        ("高端装备", "生物医药"),
        "S20 (2017-07-31)",
    ),
    SeedCentre(
        "中国（苏州）知识产权保护中心",
        "China (Suzhou) IPPC",
        "320500",
        ("320500",),
        ("new_materials", "biotech_medicine", "smart_manufacturing", "next_gen_it"),
        ("新材料", "生物制品", "数字智能制造", "电子信息"),
        "S23, S24 (fields widened with CNIPA approval)",
    ),
    SeedCentre(
        "中国（泰州）知识产权保护中心",
        "China (Taizhou) IPPC",
        "321200",
        ("321200",),
        ("high_end_equipment", "biotech_medicine"),
        ("装备制造", "医药"),
        "S11 (Mondaq, 2022-01-24)",
    ),
    SeedCentre(
        "中国（大连）知识产权保护中心",
        "China (Dalian) IPPC",
        "210200",
        ("210200",),
        ("new_energy", "high_end_equipment"),
        ("新能源", "高端装备"),
        "S11 (Mondaq, 2022-01-24)",
    ),
    SeedCentre(
        "中国（洛阳）知识产权保护中心",
        "China (Luoyang) IPPC",
        "410300",
        ("410300",),
        ("high_end_equipment", "new_materials"),
        ("装备制造", "新材料"),
        "S11 (Mondaq, 2022-01-24)",
    ),
    SeedCentre(
        "中国（沈阳）知识产权保护中心",
        "China (Shenyang) IPPC",
        "210100",
        ("210100",),
        ("high_end_equipment",),
        ("高端装备",),
        "S10 (CNIPA English, 2021-05-20)",
    ),
    SeedCentre(
        "中国（黑龙江）知识产权保护中心",
        "China (Heilongjiang) IPPC",
        "230100",
        ("230000",),
        ("high_end_equipment", "biotech_medicine"),
        ("装备制造", "生物"),
        "S10 (CNIPA English, 2021-05-20)",
    ),
    SeedCentre(
        "中国（辽宁）知识产权保护中心",
        "China (Liaoning) IPPC",
        "210100",
        ("210000",),
        ("new_materials", "next_gen_it"),
        ("新材料", "信息技术"),
        "S10: centre-to-field matching inferred from the order of the list",
        confirmed=False,
    ),
    SeedCentre(
        "中国（吉林）知识产权保护中心",
        "China (Jilin) IPPC",
        "220100",
        ("220000",),
        ("high_end_equipment", "biotech_medicine"),
        ("高端装备", "生物医药"),
        "S10: centre-to-field matching inferred from the order of the list",
        confirmed=False,
    ),
    SeedCentre(
        "中国（长春）知识产权保护中心",
        "China (Changchun) IPPC",
        "220100",
        ("220100",),
        ("next_gen_it",),
        ("信息技术", "现代农业", "农业", "agriculture"),
        "S10: centre-to-field matching inferred from the order of the list",
        confirmed=False,
    ),
    SeedCentre(
        "中国（重庆）知识产权保护中心",
        "China (Chongqing) IPPC",
        "500000",
        ("500000",),
        ("next_gen_it", "biotech_medicine"),
        ("信息技术", "生物"),
        "S5 (Xinhua, 2024-04-15)",
    ),
    SeedCentre(
        "中国（海口）知识产权保护中心",
        "Haikou IPPC (Hainan)",
        "460100",
        ("460100",),
        ("high_end_equipment", "biotech_medicine"),
        ("装备制造", "生物医药"),
        "S6 (Xinhua, 2024-08-09); the centre's exact name is unconfirmed",
        confirmed=False,
    ),
    SeedCentre(
        "中国（绍兴）知识产权保护中心",
        "China (Shaoxing) IPPC",
        "330600",
        ("330600",),
        ("high_end_equipment", "chemicals"),
        ("高端装备", "绿色化工", "化工"),
        "S7 (Xinhua, 2024-11-18)",
    ),
    SeedCentre(
        "中国（宁夏）知识产权保护中心",
        "China (Ningxia) IPPC",
        "640100",
        ("640000",),
        ("new_materials", "high_end_equipment"),
        ("新材料", "高端装备"),
        "S8 (People's Daily, 2024-12-03)",
    ),
    SeedCentre(
        "中国（内蒙古）知识产权保护中心",
        "China (Inner Mongolia) IPPC",
        "150100",
        ("150000",),
        ("biotech_medicine", "new_materials"),
        ("生物", "新材料"),
        "S12 (gov.cn, 2021-06-08)",
    ),
    SeedCentre(
        "中国（甘肃）知识产权保护中心",
        "China (Gansu) IPPC",
        "620100",
        ("620000",),
        ("high_end_equipment", "smart_manufacturing", "energy_environment"),
        ("先进制造", "节能环保"),
        "S13 (2020-09-10)",
    ),
    SeedCentre(
        "中国（昆明）知识产权保护中心",
        "China (Kunming) IPPC",
        "530100",
        ("530100",),
        ("biotech_medicine", "smart_manufacturing"),
        ("生物制品", "智能制造"),
        "S13 (2020-09-10)",
    ),
    SeedCentre(
        "中国（福建）知识产权保护中心",
        "China (Fujian) IPPC",
        "350100",
        ("350000",),
        ("high_end_equipment", "next_gen_it"),
        ("机械装备", "信息技术"),
        "S14 (gov.cn, 2021-01-11)",
    ),
    SeedCentre(
        "中国（四川）知识产权保护中心",
        "China (Sichuan) IPPC",
        "510100",
        ("510000",),
        ("next_gen_it", "high_end_equipment"),
        ("信息技术", "装备制造"),
        "S25 (78 IPC + 25 Locarno classes; 85 IPC + 28 Locarno); seat in Chengdu assumed",
    ),
    SeedCentre(
        "中国（成都）知识产权保护中心",
        "China (Chengdu) IPPC",
        "510100",
        ("510100",),
        ("biotech_medicine", "new_materials"),
        ("生物", "新材料"),
        "S15 (2021-07-13)",
    ),
    SeedCentre(
        "中国（赣州）知识产权保护中心",
        "China (Ganzhou) IPPC",
        "360700",
        ("360700",),
        ("new_materials", "high_end_equipment"),
        ("新型功能材料", "稀土", "装备制造"),
        "S15 (2021-07-13)",
    ),
    SeedCentre(
        "中国（景德镇）知识产权保护中心",
        "China (Jingdezhen) IPPC",
        "360200",
        ("360200",),
        ("new_materials", "high_end_equipment"),
        ("陶瓷", "陶瓷材料", "航空", "高端装备"),
        "S9 (2023-12-07)",
    ),
    SeedCentre(
        "中国（宁波）知识产权保护中心",
        "China (Ningbo) IPPC",
        "330200",
        ("330200",),
        (),
        (),
        "S26 (2025 rules): fields not in the parts read",
        confirmed=False,
    ),
    SeedCentre(
        "中国（泉州）知识产权保护中心",
        "China (Quanzhou) IPPC",
        "350500",
        ("350500",),
        (),
        (),
        "S27 (2025 rules: Quanzhou's area only); fields not in the parts read",
        confirmed=False,
    ),
    SeedCentre(
        "中国（南京）知识产权保护中心",
        "China (Nanjing) IPPC",
        "320100",
        ("320100",),
        ("biotech_medicine",),
        ("生物医药",),
        "S37 (a pre-exam briefing for biomedicine firms); full field list not read",
        confirmed=False,
    ),
    SeedCentre(
        "中国（浙江）知识产权保护中心",
        "China (Zhejiang) IPPC",
        "330100",
        ("330000",),
        (),
        (),
        "S32 (2025 notice); fields not confirmed",
        confirmed=False,
        record_url="https://zjippc.org.cn/",
    ),
    SeedCentre(
        "中国（杭州）知识产权保护中心",
        "China (Hangzhou) IPPC",
        "330100",
        ("330100",),
        (),
        (),
        "S33 (Hangzhou pre-exam standard, 2024); fields not confirmed (equipment + new materials unverified)",
        confirmed=False,
    ),
    # Fast rights-protection centres: county-level clusters, chiefly design patents (S29, S30, S31).
    SeedCentre(
        "临海快速维权中心",
        "Linhai fast rights-protection centre",
        "331082",
        ("331082",),
        (),
        ("时尚休闲", "休闲用品", "户外用品", "leisure"),
        "S29 (2024-10-18)",
        types=DESIGNS,
        kind="fast_rights",
    ),
    SeedCentre(
        "余姚快速维权中心",
        "Yuyao fast rights-protection centre",
        "330281",
        ("330281",),
        (),
        ("塑料", "塑料制品", "plastic"),
        "S29 (2024-10-18)",
        types=DESIGNS,
        kind="fast_rights",
    ),
    SeedCentre(
        "深圳福田快速维权中心",
        "Shenzhen Futian fast rights-protection centre",
        "440304",
        ("440304",),
        (),
        ("时尚", "服装", "fashion"),
        "S30 (Xinhua, 2025-05-11)",
        types=DESIGNS,
        kind="fast_rights",
    ),
    SeedCentre(
        "中山（灯饰）快速维权中心",
        "Zhongshan (lighting) fast rights-protection centre",
        "442000",
        ("442000",),
        (),
        ("灯饰", "灯具", "照明", "lighting", "lamp"),
        "S31 (c. 2015)",
        types=DESIGNS,
        kind="fast_rights",
    ),
    SeedCentre(
        "南通（家纺）快速维权中心",
        "Nantong (home textiles) fast rights-protection centre",
        "320600",
        ("320600",),
        (),
        ("家纺", "家用纺织", "床品", "home textile"),
        "S31 (c. 2015)",
        types=DESIGNS,
        kind="fast_rights",
    ),
    SeedCentre(
        "北京朝阳（设计服务）快速维权中心",
        "Beijing Chaoyang (design services) fast rights-protection centre",
        "110105",
        ("110105",),
        (),
        ("设计服务", "design service"),
        "S31 (c. 2015)",
        types=DESIGNS,
        kind="fast_rights",
    ),
    SeedCentre(
        "杭州（制笔）快速维权中心",
        "Hangzhou (pens) fast rights-protection centre",
        "330100",
        ("330100",),
        (),
        ("制笔", "笔", "pen"),
        "S31 (c. 2015); its county is not stated",
        confirmed=False,
        types=DESIGNS,
        kind="fast_rights",
    ),
    SeedCentre(
        "东莞（家具）快速维权中心",
        "Dongguan (furniture) fast rights-protection centre",
        "441900",
        ("441900",),
        (),
        ("家具", "furniture"),
        "S31 (c. 2015)",
        types=DESIGNS,
        kind="fast_rights",
    ),
    SeedCentre(
        "顺德（家电）快速维权中心",
        "Shunde (consumer electronics) fast rights-protection centre",
        "440606",
        ("440606",),
        (),
        ("家电", "小家电", "电器", "appliance"),
        "S31 (c. 2015)",
        types=DESIGNS,
        kind="fast_rights",
    ),
)


def _row(c: SeedCentre) -> ProtectionCentre:
    return ProtectionCentre(
        name=c.name,
        name_en=c.name_en,
        kind=c.kind,
        seat_region=c.seat,
        region_codes=json.dumps(sorted(c.serves)),
        fields=json.dumps(list(c.fields)),
        ipc_classes="[]",
        words=json.dumps(list(c.words), ensure_ascii=False),
        application_types=json.dumps(list(c.types)),
        contact="",
        record_url=c.record_url,
        scope_confirmed=c.confirmed,
        source=f"FAST_TRACK_NOTES {c.source}",
    )


async def seed_centres(session: AsyncSession) -> int:
    """Add the seed centres not yet in the table (by name); how many were added."""
    existing = set((await session.scalars(select(ProtectionCentre.name))).all())
    added = [_row(c) for c in CENTRES if c.name not in existing]
    session.add_all(added)
    await session.flush()
    return len(added)
