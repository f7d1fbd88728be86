"""Demo enterprises, the `enterprise_demo` account, a Hangzhou voucher program and one voucher. Idempotent:
rows are found by their natural keys (credit code, username, program name) and left alone when present."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import User
from accounts.schemas import NewUser
from accounts.service import create_user, principal_for
from agencies.catalogue import ServiceCode
from core.credit_code import make_credit_code
from enterprises.catalogue import Qualification
from enterprises.models import Enterprise
from vouchers import service
from vouchers.models import Voucher, VoucherProgram
from vouchers.schemas import IssueIn, IssueItem, ProgramIn

DEMO_ENTERPRISES = (
    {
        "name": "杭州云栖智能装备有限公司",
        "credit_code": make_credit_code("91330106MA2J00001"),
        "region_code": "330106",
        "industry": "智能制造",
        "qualification": Qualification.NATIONAL_LITTLE_GIANT.value,
        "certificate_no": "GXB-XJR-2024-0331",
        "qualification_expires_on": dt.date(2027, 6, 30),
        "legal_representative": "陈志远",
        "address": "杭州市西湖区云栖小镇创业路 8 号",
        "phone": "0571-86001234",
    },
    {
        "name": "宁波甬江新材料股份有限公司",
        "credit_code": make_credit_code("91330201MA2J00002"),
        "region_code": "330201",
        "industry": "新材料",
        "qualification": Qualification.PROVINCIAL_SPECIALIZED.value,
        "certificate_no": "ZJ-ZJTX-2025-1187",
        "qualification_expires_on": dt.date(2028, 3, 31),
        "legal_representative": "林海",
        "address": "宁波市海曙区甬江大道 100 号",
        "phone": "0574-87005678",
    },
    {
        "name": "杭州初芽软件有限公司",
        "credit_code": make_credit_code("91330108MA2J00003"),
        "region_code": "330108",
        "industry": "软件和信息技术服务",
        "qualification": Qualification.NONE.value,
        "certificate_no": None,
        "qualification_expires_on": None,
        "legal_representative": "周晓",
        "address": "杭州市滨江区江南大道 588 号",
        "phone": "0571-87009999",
    },
)

DEMO_PROGRAM_NAME = "杭州市知识产权服务券（2026—2027年度）"


async def _official(session: AsyncSession, password: str, lines: list[str]) -> User:
    """`official_demo` (the agencies seed makes it too; whichever runs first creates it)."""
    user = await session.scalar(select(User).where(User.username == "official_demo"))
    if user is None:
        user = await create_user(
            session,
            NewUser(role="official", username="official_demo", password=password, display_name="official_demo"),
        )
        lines.append(f"official_demo / {password} — official: programmes, issuing, settlement, reports")
    return user


async def seed_vouchers(session: AsyncSession, password: str) -> list[str]:
    """Returns the lines to print (accounts and what was created)."""
    lines: list[str] = []
    ids: list[int] = []
    for data in DEMO_ENTERPRISES:
        enterprise = await session.scalar(select(Enterprise).where(Enterprise.credit_code == data["credit_code"]))
        if enterprise is None:
            enterprise = Enterprise(**data)
            session.add(enterprise)
            await session.flush()
        ids.append(enterprise.id)
    little_giant = ids[0]

    if await session.scalar(select(User.id).where(User.username == "enterprise_demo")) is None:
        await create_user(
            session,
            NewUser(
                role="enterprise",
                username="enterprise_demo",
                password=password,
                display_name="云栖智能 IP 专员",
                enterprise_id=little_giant,
            ),
        )
    lines.append(f"enterprise_demo / {password} — staff of enterprise {little_giant} ({DEMO_ENTERPRISES[0]['name']})")

    official = principal_for(await _official(session, password, lines))
    program = await session.scalar(select(VoucherProgram).where(VoucherProgram.name == DEMO_PROGRAM_NAME))
    if program is None:
        created = await service.create_program(
            session,
            official,
            ProgramIn(
                name=DEMO_PROGRAM_NAME,
                description="对杭州市专精特新中小企业的发明、实用新型专利申请及优先审查请求服务给予 60% 的费用补助。",
                region_code="330100",
                budget_fen=200_000_000,
                face_value_fen=500_000,
                share_bp=6000,
                per_enterprise_year_cap_fen=1_000_000,
                services=[ServiceCode.INVENTION, ServiceCode.UTILITY_MODEL, ServiceCode.PRIORITY_EXAM_ASSIST],
                min_qualification=Qualification.PROVINCIAL_SPECIALIZED,
                valid_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                valid_until=dt.datetime(2027, 12, 31, 16, tzinfo=dt.UTC),  # 2028-01-01 00:00 Beijing time
            ),
        )
        program_id = created.id
    else:
        program_id = program.id
    lines.append(f"programme {program_id}: {DEMO_PROGRAM_NAME}")

    held = await session.scalar(
        select(Voucher.id).where(Voucher.program_id == program_id, Voucher.enterprise_id == little_giant)
    )
    if held is None:
        issued = await service.issue_vouchers(
            session, official, program_id, IssueIn(enterprises=[IssueItem(enterprise_id=little_giant)])
        )
        held = issued.issued[0].id
    lines.append(f"voucher {held}: 5000.00 yuan for enterprise {little_giant}")
    return lines
