"""Enterprise qualifications under the 2022 MIIT interim measures (优质中小企业梯度培育管理暂行办法), lowest first."""

from __future__ import annotations

import enum


class Qualification(enum.StrEnum):
    NONE = "none"
    PROVINCIAL_SPECIALIZED = "provincial_specialized"  # 省级专精特新中小企业
    NATIONAL_LITTLE_GIANT = "national_little_giant"  # 国家级专精特新"小巨人"企业


QUALIFICATION_RANK: dict[Qualification, int] = {
    Qualification.NONE: 0,
    Qualification.PROVINCIAL_SPECIALIZED: 1,
    Qualification.NATIONAL_LITTLE_GIANT: 2,
}

QUALIFICATION_LABELS: dict[Qualification, tuple[str, str]] = {
    Qualification.NONE: ("无", "None"),
    Qualification.PROVINCIAL_SPECIALIZED: ("省级专精特新中小企业", "Provincial specialized-innovative SME"),
    Qualification.NATIONAL_LITTLE_GIANT: ('国家级专精特新"小巨人"企业', 'National "little giant" enterprise'),
}


def at_least(held: Qualification, needed: Qualification) -> bool:
    return QUALIFICATION_RANK[held] >= QUALIFICATION_RANK[needed]
