"""Demo agencies: deterministic, idempotent, valid, and their search columns agree with their services."""

from __future__ import annotations

import json

from sqlalchemy import select

from agencies.credit import level_for
from agencies.models import Agency, AgencyField, AgencyService
from agencies.search import card_columns
from agencies.seed import DEMO_AGENCY, seed_agencies, seed_agency_accounts
from core.credit_code import credit_code_problem
from core.db import Database
from core.regions import is_valid_code


async def test_seeding_twice_adds_nothing_and_grows_by_the_same_agencies(db: Database) -> None:
    async with db.transaction() as session:
        first = await seed_agencies(session, 30)
    async with db.transaction() as session:
        again = await seed_agencies(session, 30)
        more = await seed_agencies(session, 40)
        names = list((await session.scalars(select(Agency.name_zh).order_by(Agency.id))).all())
    assert (first.created, again.created, again.existing, more.created) == (30, 0, 30, 10)
    assert names[0] == DEMO_AGENCY["name_zh"]
    assert len(names) == 40


async def test_demo_agencies_are_valid_and_consistent(db: Database) -> None:
    async with db.transaction() as session:
        report = await seed_agencies(session, 60)
        accounts = await seed_agency_accounts(session, report.demo_agency_id, "demo-pass-2026")
        agencies = list((await session.scalars(select(Agency))).all())
        services = (await session.execute(select(AgencyService))).scalars().all()
        fields = (await session.execute(select(AgencyField))).scalars().all()
    assert [line.split(" / ")[0] for line in accounts] == ["official_demo", "agency_demo"]
    by_agency: dict[int, list[tuple[str, int, int]]] = {}
    for s in services:
        by_agency.setdefault(s.agency_id, []).append((s.service_code, s.price_min_fen, s.price_max_fen))
        assert 0 < s.price_min_fen <= s.price_max_fen
    field_codes: dict[int, list[str]] = {}
    for f in fields:
        field_codes.setdefault(f.agency_id, []).append(f.field_code)
    for agency in agencies:
        assert credit_code_problem(agency.credit_code) is None
        assert is_valid_code(agency.region_code)
        assert level_for(agency.credit_score).value == agency.credit_level
        expected = card_columns(by_agency.get(agency.id, []), field_codes.get(agency.id, []))
        assert agency.services_mask == expected["services_mask"]
        assert agency.fields_mask == expected["fields_mask"]
        assert json.loads(agency.services_json) == json.loads(expected["services_json"])
    demo = next(a for a in agencies if a.id == report.demo_agency_id)
    assert demo.region_code.startswith("3301") and demo.accepts_vouchers
    assert {"invention", "utility_model", "priority_exam_assist"} <= {code for code, _, _ in by_agency[demo.id]}
