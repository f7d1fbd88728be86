"""Creating an account (`create-user`, the seeders, an administrator's new official): each role belongs to exactly
the record its role names — an agency, an enterprise, a region — and a refusal names the field and why, changing
nothing; what is created is what was asked, with the defaults written down (display name, a national official)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from accounts import service
from accounts.models import User
from accounts.schemas import NewUser
from core.auth import NATIONWIDE, Role
from core.db import Database
from core.errors import AppError
from tests.agencies.builders import make_agency, make_enterprise

PASSWORD = "long-enough-1"


async def users(db: Database) -> int:
    async with db.transaction(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def refusal(db: Database, **fields: Any) -> AppError:
    before = await users(db)
    with pytest.raises(AppError) as refused:
        async with db.transaction() as session:
            await service.create_user(session, NewUser(username="newcomer", password=PASSWORD, **fields))
    assert await users(db) == before
    return refused.value


async def test_each_role_is_refused_a_record_its_role_does_not_name(db: Database) -> None:
    agency = await make_agency(db)
    enterprise = await make_enterprise(db)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"role": Role.AGENCY}, "agency_id", "agency staff must belong to an agency"),
        ({"role": Role.ENTERPRISE}, "enterprise_id", "enterprise staff must belong to an enterprise"),
        ({"role": Role.OFFICIAL, "agency_id": agency}, "agency_id", "only agency staff belong to an agency"),
        (
            {"role": Role.AGENCY, "agency_id": agency, "enterprise_id": enterprise},
            "enterprise_id",
            "only enterprise staff belong to an enterprise",
        ),
        (
            {"role": Role.ENTERPRISE, "enterprise_id": enterprise, "region_code": "330106"},
            "region_code",
            "only officials belong to a region",
        ),
        (
            {"role": Role.AGENCY, "agency_id": agency, "region_code": NATIONWIDE},
            "region_code",
            "only officials belong to a region",
        ),
        ({"role": Role.OFFICIAL, "region_code": "999999"}, "region_code", "999999 is not a known region code"),
        ({"role": Role.AGENCY, "agency_id": agency + 1000}, "agency_id", "no such record"),
        ({"role": Role.ENTERPRISE, "enterprise_id": enterprise + 1000}, "enterprise_id", "no such record"),
    ]
    for fields, field, message in cases:
        refused = await refusal(db, **fields)
        assert (refused.status, refused.code) == (422, "validation_error"), fields
        assert refused.details == [{"field": field, "message": message}], fields
        assert refused.message == f"{field}: {message}", fields


async def test_a_taken_user_name_is_refused_naming_it(db: Database) -> None:
    async with db.transaction() as session:
        await service.create_user(session, NewUser(role=Role.OFFICIAL, username="newcomer", password=PASSWORD))
    refused = await refusal(db, role=Role.OFFICIAL)
    assert (refused.status, refused.code, refused.message) == (409, "username_taken", "username 'newcomer' is taken")


async def test_an_account_is_created_as_asked_with_its_defaults(db: Database) -> None:
    agency = await make_agency(db)
    enterprise = await make_enterprise(db)
    asked = [
        NewUser(role=Role.OFFICIAL, username="national", password=PASSWORD),
        NewUser(role=Role.OFFICIAL, username="district", password=PASSWORD, region_code="330106", is_admin=True),
        NewUser(role=Role.OFFICIAL, username="nationwide", password=PASSWORD, region_code=NATIONWIDE),
        NewUser(role=Role.AGENCY, username="clerk", password=PASSWORD, agency_id=agency, display_name="代理人"),
        NewUser(role=Role.ENTERPRISE, username="staff", password=PASSWORD, enterprise_id=enterprise),
    ]
    async with db.transaction() as session:
        for new in asked:
            await service.create_user(session, new)
    async with db.transaction(write=False) as session:
        made = {
            user.username: (
                user.role,
                user.display_name,
                user.agency_id,
                user.enterprise_id,
                user.region_code,
                user.is_admin,
                user.is_active,
            )
            for user in await session.scalars(select(User))
        }
    assert made == {
        "national": ("official", "national", None, None, NATIONWIDE, False, True),
        "district": ("official", "district", None, None, "330106", True, True),
        "nationwide": ("official", "nationwide", None, None, NATIONWIDE, False, True),
        "clerk": ("agency", "代理人", agency, None, None, False, True),
        "staff": ("enterprise", "staff", None, enterprise, None, False, True),
    }
