"""Demo data of onboarding (`python server.py seed`, after the agencies and vouchers seeds): officials with their
regions, administrators, a staff binding waiting for approval, an enterprise registered by its staff waiting for
verification, and an open invitation to the demo agency — so each onboarding screen has something to show.
Idempotent: what exists is left as it is."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from accounts.audit import AuditAction
from accounts.invitations import hash_of_code
from accounts.models import AgencyInvitation, EnterpriseMembership, User
from accounts.schemas import NewUser
from accounts.service import create_user, principal_for
from core.auth import Role
from core.credit_code import make_credit_code
from core.db import utcnow
from enterprises import service as enterprises

# Printed by the seed, so the invitation can be accepted in the console's join page.
DEMO_INVITATION_CODE = "demo-invite-agency-2026"
REGIONAL_OFFICIALS = (
    ("official_zj", "330000", True, "浙江省知识产权局（管理员）"),
    ("official_hz", "330100", False, "杭州市市场监管局知识产权处"),
    ("official_nb", "330200", False, "宁波市市场监管局知识产权处"),
)
APPLICANT = ("applicant_demo", "陈静", "13800571234")
REGISTRANT = ("registrant_demo", "刘洋", "13900571234")
REGISTERED_ENTERPRISE = {
    "name": "杭州数衡科技有限公司",
    "credit_code": make_credit_code("91330106MA2J00009"),
    "region_code": "330106",
    "industry": "software",
}


async def _user(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(User.username == username))


async def seed_onboarding(session: AsyncSession, password: str, enterprise_id: int) -> list[str]:
    """`enterprise_id`: the demo enterprise whose staff (`enterprise_demo`) administers it. Returns lines to print."""
    lines: list[str] = []
    await session.execute(
        update(User).where(User.username.in_(("official_demo", "enterprise_demo", "agency_demo"))).values(is_admin=True)
    )
    for username, region, admin, name in REGIONAL_OFFICIALS:
        if await _user(session, username) is None:
            await create_user(
                session,
                NewUser(
                    role=Role.OFFICIAL,
                    username=username,
                    password=password,
                    display_name=name,
                    region_code=region,
                    is_admin=admin,
                ),
            )
        lines.append(f"{username} / {password} — official of {region}" + (", administrator" if admin else ""))
    official = principal_for(await _must(session, "official_demo"))
    enterprise = await enterprises.get_enterprise_summary(session, enterprise_id)
    assert enterprise is not None

    username, person, phone = APPLICANT
    applicant = await _user(session, username)
    if applicant is None:
        applicant = await _bare_enterprise_user(session, username, password, person, phone)
        session.add(
            EnterpriseMembership(
                user_id=applicant.id, enterprise_id=enterprise_id, person_name=person, phone=phone, reason=""
            )
        )
        await session.flush()
        await audit.record(
            session,
            AuditAction.BINDING_REQUESTED,
            actor=principal_for(applicant),
            region_code=enterprise.region_code,
            subject_user_id=applicant.id,
            enterprise_id=enterprise_id,
            note=f"{person} {phone}",
        )
    lines.append(f"{username} / {password} — waiting for enterprise_demo (or an official) to approve the binding")

    username, person, phone = REGISTRANT
    if await _user(session, username) is None:
        registrant = await _bare_enterprise_user(session, username, password, person, phone)
        registered = await enterprises.enterprise_by_credit_code(session, REGISTERED_ENTERPRISE["credit_code"])
        if registered is None:
            registered = await enterprises.register_pending(
                session, registered_by=registrant.id, **REGISTERED_ENTERPRISE
            )
        session.add(
            EnterpriseMembership(
                user_id=registrant.id,
                enterprise_id=registered.id,
                person_name=person,
                phone=phone,
                registered_enterprise=True,
                reason="",
            )
        )
        await session.flush()
        for action in (AuditAction.ENTERPRISE_REGISTERED, AuditAction.BINDING_REQUESTED):
            await audit.record(
                session,
                action,
                actor=principal_for(registrant),
                region_code=registered.region_code,
                subject_user_id=registrant.id,
                enterprise_id=registered.id,
                note=registered.name if action is AuditAction.ENTERPRISE_REGISTERED else f"{person} {phone}",
            )
    lines.append(f"{username} / {password} — registered {REGISTERED_ENTERPRISE['name']}, waiting for verification")

    agency_staff = await _must(session, "agency_demo")
    assert agency_staff.agency_id is not None
    code_hash = hash_of_code(DEMO_INVITATION_CODE)
    if await session.scalar(select(AgencyInvitation.id).where(AgencyInvitation.code_hash == code_hash)) is None:
        now = utcnow()
        session.add(
            AgencyInvitation(
                agency_id=agency_staff.agency_id,
                code_hash=code_hash,
                invitee_name="新入职代理师",
                created_by=official.user_id,
                created_at=now,
                expires_at=now + dt.timedelta(days=30),
            )
        )
        await session.flush()
        await audit.record(
            session,
            AuditAction.INVITATION_CREATED,
            actor=official,
            region_code="330106",
            agency_id=agency_staff.agency_id,
            note="demo invitation, valid 30 days",
        )
    lines.append(
        f"invitation to agency {agency_staff.agency_id}: code {DEMO_INVITATION_CODE} "
        f"(/console/join?code={DEMO_INVITATION_CODE})"
    )
    return lines


async def _must(session: AsyncSession, username: str) -> User:
    user = await _user(session, username)
    if user is None:
        raise LookupError(f"seed the agencies and vouchers first: no {username}")
    return user


async def _bare_enterprise_user(session: AsyncSession, username: str, password: str, person: str, phone: str) -> User:
    """An enterprise-role account bound to no enterprise yet (as a mini-program user is, with a password here)."""
    from accounts.passwords import hash_password

    user = User(
        username=username,
        password_hash=await hash_password(password),
        role=Role.ENTERPRISE.value,
        display_name=person,
        phone=phone,
    )
    session.add(user)
    await session.flush()
    return user
