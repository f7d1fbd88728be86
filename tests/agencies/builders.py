"""Agencies for tests, written straight to the database (the API is what the tests exercise)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from agencies.models import Agency, AgencyField, AgencyService, RatingHistory
from agencies.search import card_columns, search_text_for
from core.credit_code import make_credit_code
from core.db import Database

_serial = itertools.count(1)


def credit_code(n: int) -> str:
    return make_credit_code(f"91330100MA{n:07d}")


async def make_agency(
    db: Database,
    *,
    name_zh: str | None = None,
    name_en: str | None = None,
    short_name: str | None = None,
    region_code: str = "330106",
    kind: str = "patent",
    services: Sequence[tuple[str, int, int]] = (("invention", 300_000, 600_000),),
    fields: Sequence[str] = ("next_gen_it",),
    score: int = 95,
    level: str | None = None,
    accepts_vouchers: bool = True,
    patent_attorneys: int = 10,
    trademark_agents: int = 0,
) -> int:
    from agencies.credit import level_for

    n = next(_serial)
    name = name_zh or f"测试{n}号专利代理事务所（普通合伙）"
    agency = Agency(
        name_zh=name,
        name_en=name_en,
        short_name=short_name,
        credit_code=credit_code(n),
        licence_no=f"33{n:03d}",
        kind=kind,
        region_code=region_code,
        founded_year=2010,
        patent_attorneys=patent_attorneys,
        trademark_agents=trademark_agents,
        accepts_vouchers=accepts_vouchers,
        credit_score=score,
        credit_level=level or level_for(score).value,
        credit_baseline=score,
        search_text=search_text_for(name, name_en, short_name),
        **card_columns(list(services), list(fields)),
    )
    async with db.transaction() as session:
        session.add(agency)
        await session.flush()
        for code, low, high in services:
            session.add(AgencyService(agency_id=agency.id, service_code=code, price_min_fen=low, price_max_fen=high))
        for field in fields:
            session.add(AgencyField(agency_id=agency.id, field_code=field))
        session.add(RatingHistory(agency_id=agency.id, score=score, level=agency.credit_level, cause="initial"))
        return agency.id


async def make_enterprise(db: Database, name: str = "杭州示例科技有限公司") -> int:
    from enterprises.models import Enterprise

    n = next(_serial)
    async with db.transaction() as session:
        enterprise = Enterprise(name=name, credit_code=make_credit_code(f"91330100MB{n:07d}"), region_code="330106")
        session.add(enterprise)
        await session.flush()
        return enterprise.id
