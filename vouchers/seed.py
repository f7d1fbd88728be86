"""Demo enterprises, the `enterprise_demo` account, a Hangzhou voucher program and one voucher, and a programme open
for applications with some applicants (two waiting for review, one approved). Idempotent: rows are found by their
natural keys (credit code, username, program name) and left alone when present."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import User
from accounts.schemas import NewUser
from accounts.service import create_user, principal_for
from agencies.catalogue import ServiceCode
from core.auth import Principal
from core.credit_code import make_credit_code
from enterprises.catalogue import Qualification
from enterprises.models import Enterprise
from vouchers import service
from vouchers.models import Voucher, VoucherApplication, VoucherProgram
from vouchers.schemas import (
    ApplicationDocument,
    ApplicationIn,
    ApplicationReview,
    ApplicationSettingsIn,
    DecisionIn,
    IssueIn,
    IssueItem,
    ProgramIn,
)

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
APPLICATIONS_PROGRAM_NAME = "杭州市专利优先审查服务券（2026年度开放申领）"
APPLICATION_DOCUMENTS = ["营业执照", "专精特新企业认定证书"]

# Enterprises that applied to the open programme, with their staff's user name and what happened to the application.
APPLICANTS = (
    ("杭州数澜生物医药有限公司", "91330110MA2J00004", "330110", "applicant_demo1", "submitted"),
    ("杭州钱塘精密传感科技有限公司", "91330114MA2J00005", "330114", "applicant_demo2", "submitted"),
    ("杭州拱宸工业机器人有限公司", "91330105MA2J00006", "330105", "applicant_demo3", "approved"),
)


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
    lines.extend(await _seed_applications(session, official, password))
    return lines


async def _seed_applications(session: AsyncSession, official: Principal, password: str) -> list[str]:
    """A programme open for applications (an official reviews them): two applicants waiting, one approved — and
    `enterprise_demo`'s little giant free to apply in the phone view."""
    from vouchers import applications

    program = await session.scalar(select(VoucherProgram).where(VoucherProgram.name == APPLICATIONS_PROGRAM_NAME))
    if program is None:
        created = await service.create_program(
            session,
            official,
            ProgramIn(
                name=APPLICATIONS_PROGRAM_NAME,
                description="面向杭州市专精特新中小企业开放申领：发明专利申请及优先审查请求服务费用补助 60%，"
                "每家企业限领一张，主管部门审核后发放。",
                region_code="330100",
                budget_fen=50_000_000,
                face_value_fen=300_000,
                share_bp=6000,
                per_enterprise_year_cap_fen=300_000,
                services=[ServiceCode.INVENTION, ServiceCode.PRIORITY_EXAM_ASSIST],
                min_qualification=Qualification.PROVINCIAL_SPECIALIZED,
                valid_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                valid_until=dt.datetime(2027, 12, 31, 16, tzinfo=dt.UTC),
                applications=ApplicationSettingsIn(
                    open_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                    documents=APPLICATION_DOCUMENTS,
                    review=ApplicationReview.OFFICIAL,
                ),
            ),
        )
        program_id = created.id
    else:
        program_id = program.id
    lines = [f"programme {program_id}: {APPLICATIONS_PROGRAM_NAME} (open for applications)"]
    for n, (name, code, region, username, outcome) in enumerate(APPLICANTS, start=4):
        credit_code = make_credit_code(code)
        enterprise = await session.scalar(select(Enterprise).where(Enterprise.credit_code == credit_code))
        if enterprise is None:
            enterprise = Enterprise(
                name=name,
                credit_code=credit_code,
                region_code=region,
                industry="高端装备" if n % 2 else "生物医药",
                qualification=Qualification.PROVINCIAL_SPECIALIZED.value,
                certificate_no=f"ZJ-ZJTX-2025-{2000 + n}",
                qualification_expires_on=dt.date(2028, 3, 31),
            )
            session.add(enterprise)
            await session.flush()
        user = await session.scalar(select(User).where(User.username == username))
        if user is None:
            user = await create_user(
                session,
                NewUser(role="enterprise", username=username, password=password, enterprise_id=enterprise.id),
            )
        exists = await session.scalar(
            select(VoucherApplication.id).where(
                VoucherApplication.program_id == program_id, VoucherApplication.enterprise_id == enterprise.id
            )
        )
        if exists is None:
            documents = [ApplicationDocument(name=d, reference=f"{d}（扫描件）{code}") for d in APPLICATION_DOCUMENTS]
            submitted = await applications.submit(
                session,
                principal_for(user),
                program_id,
                ApplicationIn(documents=documents, note="申请用于发明专利优先审查"),
            )
            exists = submitted.application.id
            if outcome == "approved":
                await applications.decide(
                    session, official, exists, DecisionIn(decision="approve", reason="材料齐全，资质有效")
                )
        lines.append(f"{username} / {password} — staff of {name}, application {exists} ({outcome})")
    return lines
