"""The fixed catalogues agencies are described with: services offered and technical fields.

Codes are stable identifiers (used in the API, the database, the assistant's entities and voucher programmes);
labels are what people read.
"""

from __future__ import annotations

import enum
from typing import NamedTuple


class Label(NamedTuple):
    zh: str
    en: str


class ServiceCode(enum.StrEnum):
    INVENTION = "invention"
    UTILITY_MODEL = "utility_model"
    DESIGN = "design"
    TRADEMARK_REGISTRATION = "trademark_registration"
    PCT_FOREIGN = "pct_foreign"
    PRIORITY_EXAM_ASSIST = "priority_exam_assist"
    REEXAMINATION_INVALIDATION = "reexamination_invalidation"
    LITIGATION_SUPPORT = "litigation_support"
    PATENT_NAVIGATION = "patent_navigation"
    PLEDGE_VALUATION = "pledge_valuation"


SERVICES: dict[ServiceCode, Label] = {
    ServiceCode.INVENTION: Label("发明专利申请", "Invention patent filing"),
    ServiceCode.UTILITY_MODEL: Label("实用新型专利申请", "Utility model filing"),
    ServiceCode.DESIGN: Label("外观设计专利申请", "Design patent filing"),
    ServiceCode.TRADEMARK_REGISTRATION: Label("商标注册申请", "Trademark registration"),
    ServiceCode.PCT_FOREIGN: Label("PCT及国外申请", "PCT / foreign filing"),
    ServiceCode.PRIORITY_EXAM_ASSIST: Label("优先审查请求协助", "Priority examination request assistance"),
    ServiceCode.REEXAMINATION_INVALIDATION: Label("复审与无效", "Reexamination and invalidation"),
    ServiceCode.LITIGATION_SUPPORT: Label("诉讼支持", "Litigation support"),
    ServiceCode.PATENT_NAVIGATION: Label("专利导航", "Patent navigation"),
    ServiceCode.PLEDGE_VALUATION: Label("质押融资评估", "Pledge-financing valuation"),
}

# Services only a patent agency offers; a trademark-only agency offers TRADEMARK_REGISTRATION (and litigation).
PATENT_SERVICES = frozenset(SERVICES) - {ServiceCode.TRADEMARK_REGISTRATION}


class FieldCode(enum.StrEnum):
    """Technical fields: the national key industries of 《专利优先审查管理办法》 Art. 3 plus broad classic fields."""

    ENERGY_ENVIRONMENT = "energy_environment"
    NEXT_GEN_IT = "next_gen_it"
    BIOTECH_MEDICINE = "biotech_medicine"
    HIGH_END_EQUIPMENT = "high_end_equipment"
    NEW_ENERGY = "new_energy"
    NEW_MATERIALS = "new_materials"
    NEW_ENERGY_VEHICLES = "new_energy_vehicles"
    SMART_MANUFACTURING = "smart_manufacturing"
    DIGITAL_ECONOMY = "digital_economy"
    CHEMICALS = "chemicals"
    MECHANICAL = "mechanical"
    ELECTRICAL = "electrical"
    OTHER = "other"


FIELDS: dict[FieldCode, Label] = {
    FieldCode.ENERGY_ENVIRONMENT: Label("节能环保", "Energy saving and environmental protection"),
    FieldCode.NEXT_GEN_IT: Label("新一代信息技术", "New-generation information technology"),
    FieldCode.BIOTECH_MEDICINE: Label("生物医药", "Biotechnology and medicine"),
    FieldCode.HIGH_END_EQUIPMENT: Label("高端装备制造", "High-end equipment manufacturing"),
    FieldCode.NEW_ENERGY: Label("新能源", "New energy"),
    FieldCode.NEW_MATERIALS: Label("新材料", "New materials"),
    FieldCode.NEW_ENERGY_VEHICLES: Label("新能源汽车", "New-energy vehicles"),
    FieldCode.SMART_MANUFACTURING: Label("智能制造", "Intelligent manufacturing"),
    FieldCode.DIGITAL_ECONOMY: Label("互联网、大数据、云计算", "Internet, big data, cloud computing"),
    FieldCode.CHEMICALS: Label("化学化工", "Chemistry and chemical engineering"),
    FieldCode.MECHANICAL: Label("机械", "Mechanical engineering"),
    FieldCode.ELECTRICAL: Label("电学", "Electrical engineering"),
    FieldCode.OTHER: Label("其他", "Other"),
}


class AgencyKind(enum.StrEnum):
    PATENT = "patent"
    TRADEMARK = "trademark"
    BOTH = "both"


class CreditLevel(enum.StrEnum):
    A_PLUS = "A_plus"
    A = "A"
    B = "B"
    C = "C"
    D = "D"


# Best first; `min_rating=B` means B or better.
LEVEL_ORDER: tuple[CreditLevel, ...] = (
    CreditLevel.A_PLUS,
    CreditLevel.A,
    CreditLevel.B,
    CreditLevel.C,
    CreditLevel.D,
)


def levels_at_least(level: CreditLevel) -> list[CreditLevel]:
    return list(LEVEL_ORDER[: LEVEL_ORDER.index(level) + 1])


# Bit positions for the search columns `services_mask` / `fields_mask` (one bit per code, in declaration order).
# Appending a code is safe; reordering or removing one needs a data migration.
SERVICE_BITS: dict[ServiceCode, int] = {code: 1 << i for i, code in enumerate(ServiceCode)}
FIELD_BITS: dict[FieldCode, int] = {code: 1 << i for i, code in enumerate(FieldCode)}


def fields_from_mask(mask: int) -> list[FieldCode]:
    return [code for code, bit in FIELD_BITS.items() if mask & bit]
