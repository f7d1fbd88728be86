"""Every refusal on the money path, asserted by status, error code and what it says — not by status alone.

Several guards have a second one behind them (the service checks a redemption's state; `transition` checks it again
from the state table): a test that asserts only the status passes with either, so it would not notice the first one
gone. Here each refusal is pinned to the guard that owns it, and nothing changes after it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import update

from core.auth import Role
from core.db import Database, utcnow
from tests.conftest import Account, AccountFactory
from tests.vouchers.builders import EVIDENCE, Client, issue, make_agency, make_enterprise, make_program
from tests.vouchers.conftest import World
from tests.vouchers.test_flow import assert_books_balance
from vouchers.models import Redemption, Voucher


async def redeem(client: Client, w: World, price_fen: int = 100_000, who: Account | None = None) -> Any:
    body = {"agency_id": w.agency_id, "service_code": "invention", "price_fen": price_fen}
    headers = (who or w.enterprise).headers
    return await client.post(f"/api/v1/vouchers/{w.voucher['id']}/redeem", json=body, headers=headers)


async def pending(client: Client, w: World) -> dict[str, Any]:
    response = await redeem(client, w)
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def post(client: Client, path: str, who: Account, body: dict[str, Any] | None = None) -> Any:
    return await client.post(path, json=body or {}, headers=who.headers)


async def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status == status, await response.text()
    error: dict[str, Any] = (await response.json())["error"]
    return error


async def voucher_now(client: Client, w: World) -> tuple[str, int, list[str]]:
    detail = await (await client.get(f"/api/v1/vouchers/{w.voucher['id']}", headers=w.official.headers)).json()
    return detail["state"], detail["balance_fen"], [r["state"] for r in detail["redemptions"]]


async def test_a_revoked_voucher_is_not_redeemed_and_the_refusal_says_why(
    client: Client, world: World, db: Database
) -> None:
    revoked = await post(
        client, f"/api/v1/vouchers/{world.voucher['id']}/revoke", world.official, {"reason": "left the region"}
    )
    assert revoked.status == 200, await revoked.text()
    error = await error_of(await redeem(client, world), 409)
    assert error["code"] == "illegal_transition"
    assert error["details"] == {
        "voucher_id": world.voucher["id"],
        "state": "revoked",
        "reason": "revoked: left the region",
    }
    assert "cannot be redeemed" in error["message"]
    assert await voucher_now(client, world) == ("revoked", 0, [])
    await assert_books_balance(db)


async def test_an_overdue_voucher_is_refused_as_expired(client: Client, world: World, db: Database) -> None:
    async with db.transaction() as session:
        past = utcnow() - dt.timedelta(minutes=1)
        await session.execute(update(Voucher).where(Voucher.id == world.voucher["id"]).values(expires_at=past))
    error = await error_of(await redeem(client, world), 409)
    assert error["code"] == "voucher_expired"
    assert error["details"]["state"] == "expired"
    state, balance, redemptions = await voucher_now(client, world)
    assert (state, balance, redemptions) == ("expired", 500_000, [])


async def test_a_programme_not_yet_open_is_refused_as_closed(
    client: Client, world: World, db: Database, make_account: AccountFactory
) -> None:
    later = utcnow() + dt.timedelta(days=3)
    program = await make_program(client, world.official.headers, valid_from=later.isoformat())
    (voucher,) = await issue(client, world.official.headers, program["id"], world.enterprise_id)
    body = {"agency_id": world.agency_id, "service_code": "invention", "price_fen": 100_000}
    response = await client.post(
        f"/api/v1/vouchers/{voucher['id']}/redeem", json=body, headers=world.enterprise.headers
    )
    error = await error_of(response, 409)
    assert error["code"] == "program_closed"
    assert error["details"]["program_id"] == program["id"]


async def test_confirming_twice_is_refused_by_the_confirm_guard(client: Client, world: World, db: Database) -> None:
    redemption = await pending(client, world)
    path = f"/api/v1/redemptions/{redemption['id']}/confirm"
    assert (await post(client, path, world.agency, EVIDENCE)).status == 200
    error = await error_of(await post(client, path, world.agency, EVIDENCE), 409)
    assert error["code"] == "illegal_transition"
    assert error["details"] == {"redemption_id": redemption["id"], "state": "delivered"}
    assert "only a pending one can be confirmed" in error["message"]


async def test_settling_a_pending_redemption_is_refused_by_the_settle_guard(client: Client, world: World) -> None:
    redemption = await pending(client, world)
    for decision in ({"decision": "approve", "reason": "ok"}, {"decision": "reject", "reason": "no"}):
        response = await post(client, f"/api/v1/redemptions/{redemption['id']}/settle", world.official, decision)
        error = await error_of(response, 409)
        assert error["code"] == "illegal_transition"
        assert error["details"] == {"redemption_id": redemption["id"], "state": "pending"}
        assert "only a delivered one can be settled" in error["message"]
    assert await voucher_now(client, world) == ("partially_redeemed", 440_000, ["pending"])


@pytest.mark.parametrize("stage", ["delivered", "settled", "rejected", "cancelled"])
async def test_only_a_pending_redemption_is_cancelled(client: Client, world: World, db: Database, stage: str) -> None:
    redemption = await pending(client, world)
    rid = redemption["id"]
    if stage != "cancelled":
        assert (await post(client, f"/api/v1/redemptions/{rid}/confirm", world.agency, EVIDENCE)).status == 200
    if stage in ("settled", "rejected"):
        decision = {"decision": "approve" if stage == "settled" else "reject", "reason": "checked"}
        assert (await post(client, f"/api/v1/redemptions/{rid}/settle", world.official, decision)).status == 200
    if stage == "cancelled":
        assert (await post(client, f"/api/v1/redemptions/{rid}/cancel", world.enterprise)).status == 200
    before = await voucher_now(client, world)
    for who, body in ((world.enterprise, {}), (world.official, {"reason": "too late"})):
        error = await error_of(await post(client, f"/api/v1/redemptions/{rid}/cancel", who, body), 409)
        assert error["code"] == "redemption_not_pending"
        assert error["details"] == {"redemption_id": rid, "state": stage}
    assert await voucher_now(client, world) == before
    await assert_books_balance(db)


async def test_another_enterprises_voucher_and_redemptions_are_refused_as_not_yours(
    client: Client, world: World, db: Database, make_account: AccountFactory
) -> None:
    redemption = await pending(client, world)
    other = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))
    error = await error_of(await redeem(client, world, who=other), 403)
    assert error["code"] == "not_your_voucher"
    error = await error_of(await post(client, f"/api/v1/redemptions/{redemption['id']}/cancel", other), 403)
    assert error["code"] == "not_your_voucher"
    assert await voucher_now(client, world) == ("partially_redeemed", 440_000, ["pending"])


async def test_another_agency_cannot_confirm_and_the_wrong_roles_are_forbidden(
    client: Client, world: World, db: Database, make_account: AccountFactory
) -> None:
    redemption = await pending(client, world)
    rid = redemption["id"]
    other = await make_account(Role.AGENCY, agency_id=await make_agency(db))
    error = await error_of(await post(client, f"/api/v1/redemptions/{rid}/confirm", other, EVIDENCE), 403)
    assert error["code"] == "not_your_agency"
    wrong_roles: list[tuple[Account, str, dict[str, Any]]] = [
        (world.official, f"/api/v1/vouchers/{world.voucher['id']}/redeem", {"agency_id": 1}),
        (world.agency, f"/api/v1/vouchers/{world.voucher['id']}/redeem", {"agency_id": 1}),
        (world.official, f"/api/v1/redemptions/{rid}/confirm", EVIDENCE),
        (world.enterprise, f"/api/v1/redemptions/{rid}/confirm", EVIDENCE),
        (world.agency, f"/api/v1/redemptions/{rid}/cancel", {}),
        (world.enterprise, f"/api/v1/redemptions/{rid}/settle", {"decision": "approve", "reason": "x"}),
        (world.agency, f"/api/v1/redemptions/{rid}/settle", {"decision": "approve", "reason": "x"}),
        (world.enterprise, f"/api/v1/vouchers/{world.voucher['id']}/revoke", {"reason": "x"}),
        (world.agency, f"/api/v1/vouchers/{world.voucher['id']}/revoke", {"reason": "x"}),
    ]
    for who, path, body in wrong_roles:
        error = await error_of(await post(client, path, who, body), 403)
        assert error["code"] == "forbidden", (who.role, path)
    assert await voucher_now(client, world) == ("partially_redeemed", 440_000, ["pending"])


async def test_an_official_cancelling_must_say_why(client: Client, world: World) -> None:
    redemption = await pending(client, world)
    error = await error_of(await post(client, f"/api/v1/redemptions/{redemption['id']}/cancel", world.official), 422)
    assert error["code"] == "validation_error"
    assert error["details"][0]["field"] == "reason"
    assert await voucher_now(client, world) == ("partially_redeemed", 440_000, ["pending"])


async def delivered(client: Client, w: World) -> dict[str, Any]:
    redemption = await pending(client, w)
    confirmed = await post(client, f"/api/v1/redemptions/{redemption['id']}/confirm", w.agency, EVIDENCE)
    assert confirmed.status == 200, await confirmed.text()
    return redemption


async def test_a_flagged_redemption_is_settled_only_with_a_decision_and_its_reason(
    client: Client, world: World, db: Database
) -> None:
    redemption = await delivered(client, world)  # confirmed within minutes: flagged
    rid = redemption["id"]
    flags = await (await client.get("/api/v1/voucher-flags", headers=world.official.headers)).json()
    assert [(f["kind"], f["redemption_id"], f["status"]) for f in flags] == [("fast_confirmation", rid, "open")]
    path = f"/api/v1/redemptions/{rid}/settle"

    error = await error_of(await post(client, path, world.official, {}), 409)
    assert error["code"] == "decision_required"
    assert error["message"] == (
        f"redemption {rid} is flagged; settle it with a decision (approve or reject) and a reason"
    )
    assert error["details"] == {"redemption_id": rid, "flags": flags}

    for decision in ("approve", "reject"):
        error = await error_of(await post(client, path, world.official, {"decision": decision}), 422)
        assert error["code"] == "validation_error"
        assert error["details"] == [
            {"field": "reason", "message": "a decision on a flagged redemption needs its reason"}
        ]

    assert await voucher_now(client, world) == ("partially_redeemed", 440_000, ["delivered"])
    after = await (await client.get("/api/v1/voucher-flags", headers=world.official.headers)).json()
    assert after == flags
    await assert_books_balance(db)


async def test_an_unflagged_redemption_is_approved_without_a_reason_but_not_rejected_without_one(
    client: Client, world: World, db: Database
) -> None:
    redemption = await pending(client, world)
    rid = redemption["id"]
    async with db.transaction() as session:  # made an hour ago: a confirmation now is not a fast one
        await session.execute(
            update(Redemption).where(Redemption.id == rid).values(created_at=utcnow() - dt.timedelta(hours=1))
        )
    confirmed = await post(client, f"/api/v1/redemptions/{rid}/confirm", world.agency, EVIDENCE)
    assert confirmed.status == 200, await confirmed.text()
    assert await (await client.get("/api/v1/voucher-flags", headers=world.official.headers)).json() == []
    path = f"/api/v1/redemptions/{rid}/settle"

    error = await error_of(await post(client, path, world.official, {"decision": "reject"}), 422)
    assert error["code"] == "validation_error"
    assert error["details"] == [{"field": "reason", "message": "a rejection needs its reason"}]
    assert await voucher_now(client, world) == ("partially_redeemed", 440_000, ["delivered"])

    settled = await post(client, path, world.official, {})  # no decision: approved
    assert settled.status == 200, await settled.text()
    body = await settled.json()
    assert (body["state"], body["decision_reason"]) == ("settled", "approved")
    assert body["flags"] == []
    assert await voucher_now(client, world) == ("partially_redeemed", 440_000, ["settled"])
    detail = await (await client.get(f"/api/v1/vouchers/{world.voucher['id']}", headers=world.official.headers)).json()
    audit = detail["history"][-1]
    assert (audit["action"], audit["redemption_id"], audit["reason"]) == ("settle", rid, "approved")
    await assert_books_balance(db)
