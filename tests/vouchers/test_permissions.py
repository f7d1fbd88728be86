"""The authorization matrix, generated from `vouchers.permissions`: every role outside an action's roles gets 403,
anonymous callers 401, and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest

from core.auth import Role
from tests.conftest import Account
from tests.vouchers.builders import EVIDENCE, Client, program_body
from tests.vouchers.conftest import World
from vouchers.permissions import PERMISSIONS, Action


def endpoints(w: World) -> dict[str, tuple[str, str, dict[str, Any] | None]]:
    """Each permission or transition, and a request that exercises it."""
    program, voucher = w.program["id"], w.voucher["id"]
    return {
        "program.create": ("POST", "/api/v1/voucher-programs", program_body()),
        "program.list_vouchers": ("GET", f"/api/v1/voucher-programs/{program}/vouchers", None),
        "program.report": ("GET", f"/api/v1/voucher-programs/{program}/report", None),
        "flags.list": ("GET", "/api/v1/voucher-flags", None),
        "voucher.mine": ("GET", "/api/v1/me/vouchers", None),
        Action.ISSUE.value: (
            "POST",
            f"/api/v1/voucher-programs/{program}/vouchers",
            {"enterprises": [{"enterprise_id": w.enterprise_id}]},
        ),
        Action.REDEEM.value: (
            "POST",
            f"/api/v1/vouchers/{voucher}/redeem",
            {"agency_id": w.agency_id, "service_code": "invention", "price_fen": 100_000},
        ),
        Action.REVOKE.value: ("POST", f"/api/v1/vouchers/{voucher}/revoke", {"reason": "matrix"}),
        Action.CONFIRM.value: ("POST", "/api/v1/redemptions/1/confirm", EVIDENCE),
        Action.SETTLE.value: ("POST", "/api/v1/redemptions/1/settle", {"decision": "approve", "reason": "ok"}),
        Action.CANCEL.value: ("POST", "/api/v1/redemptions/1/cancel", {"reason": "matrix"}),
        "program.applications": (
            "PUT",
            f"/api/v1/voucher-programs/{program}/applications",
            {"open_at": "2026-01-01T00:00:00+00:00"},
        ),
        "application.programs": ("GET", "/api/v1/me/voucher-programs", None),
        "application.submit": ("POST", f"/api/v1/voucher-programs/{program}/applications", {}),
        "application.read": ("GET", "/api/v1/voucher-applications", None),
        "application.decide": (
            "POST",
            "/api/v1/voucher-applications/decisions",
            {"application_ids": [1], "decision": "approve"},
        ),
    }


def allowed(name: str) -> frozenset[Role]:
    return PERMISSIONS.roles(Action(name))


CASES = [
    "program.create",
    "program.list_vouchers",
    "program.report",
    "flags.list",
    "voucher.mine",
    "issue",
    "redeem",
    "revoke",
    "confirm",
    "settle",
    "cancel",
    "program.applications",
    "application.programs",
    "application.submit",
    "application.read",
    "application.decide",
]


@pytest.mark.parametrize("name", CASES)
async def test_roles_outside_the_table_are_refused(client: Client, world: World, name: str) -> None:
    method, path, body = endpoints(world)[name]
    accounts: dict[Role, Account] = {
        Role.OFFICIAL: world.official,
        Role.ENTERPRISE: world.enterprise,
        Role.AGENCY: world.agency,
    }
    before = await (await client.get(f"/api/v1/vouchers/{world.voucher['id']}", headers=world.official.headers)).json()
    anonymous = await client.request(method, path, json=body)
    assert anonymous.status == 401, (name, await anonymous.text())
    for role, account in accounts.items():
        if role in allowed(name):
            continue
        response = await client.request(method, path, json=body, headers=account.headers)
        assert response.status == 403, (name, role, await response.text())
    after = await (await client.get(f"/api/v1/vouchers/{world.voucher['id']}", headers=world.official.headers)).json()
    assert after == before
