from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from core.auth import Role
from core.db import Database
from tests.conftest import Account, AccountFactory
from tests.vouchers.builders import Client, issue, make_agency, make_enterprise, make_program


@dataclass
class World:
    """An official, an enterprise with its staff, a participating agency with its staff, a programme, a voucher."""

    official: Account
    enterprise_id: int
    enterprise: Account
    agency_id: int
    agency: Account
    program: dict[str, Any]
    voucher: dict[str, Any]


@pytest.fixture
async def world(client: Client, db: Database, make_account: AccountFactory) -> World:
    official = await make_account(Role.OFFICIAL)
    enterprise_id = await make_enterprise(db)
    agency_id = await make_agency(db)
    program = await make_program(client, official.headers)
    (voucher,) = await issue(client, official.headers, program["id"], enterprise_id)
    return World(
        official=official,
        enterprise_id=enterprise_id,
        enterprise=await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id),
        agency_id=agency_id,
        agency=await make_account(Role.AGENCY, agency_id=agency_id),
        program=program,
        voucher=voucher,
    )
