"""Cancelling a redemption the agency has not confirmed: who may, when, where the money goes, what the books say."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from aiohttp import ClientResponse
from sqlalchemy import func, select, update

from core.auth import Role
from core.db import Database, utcnow
from core.events import EventBus, VoucherStateChanged
from core.settings import Settings
from tests.conftest import Account, AccountFactory
from tests.vouchers.builders import EVIDENCE, Client, make_enterprise
from tests.vouchers.conftest import World
from vouchers import redemptions
from vouchers.commands import check
from vouchers.ledger import check_ledger
from vouchers.models import Redemption, Voucher, VoucherAudit, VoucherProgram


async def redeem(client: Client, w: World, price_fen: int) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/vouchers/{w.voucher['id']}/redeem",
        json={"agency_id": w.agency_id, "service_code": "invention", "price_fen": price_fen},
        headers=w.enterprise.headers,
    )
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def cancel(client: Client, redemption_id: int, who: Account | None, body: Any = None) -> ClientResponse:
    return await client.post(
        f"/api/v1/redemptions/{redemption_id}/cancel",
        json={} if body is None else body,
        headers=None if who is None else who.headers,
    )


async def voucher_row(db: Database, voucher_id: int) -> tuple[str, int]:
    async with db.transaction(write=False) as session:
        voucher = await session.get(Voucher, voucher_id)
        assert voucher is not None
        return voucher.state, voucher.balance_fen


async def committed(db: Database, program_id: int) -> int:
    async with db.transaction(write=False) as session:
        program = await session.get(VoucherProgram, program_id)
        assert program is not None
        return program.committed_fen


async def history(client: Client, w: World) -> list[tuple[Any, ...]]:
    detail = await (await client.get(f"/api/v1/vouchers/{w.voucher['id']}", headers=w.official.headers)).json()
    return [
        (
            h["action"],
            h["from_state"],
            h["to_state"],
            h["redemption_to"],
            h["balance_delta_fen"],
            h["program_delta_fen"],
        )
        for h in detail["history"]
    ]


async def report(client: Client, w: World) -> dict[str, Any]:
    response = await client.get(f"/api/v1/voucher-programs/{w.program['id']}/report", headers=w.official.headers)
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def assert_books_balance(db: Database) -> None:
    async with db.transaction(write=False) as session:
        assert await check_ledger(session) == []


def identity_holds(totals: dict[str, Any]) -> bool:
    return bool(
        totals["issued_fen"]
        == totals["redeemed_fen"]
        + totals["rejected_fen"]
        + totals["revoked_returned_fen"]
        + totals["expired_fen"]
        + totals["outstanding_fen"]
    )


async def overdue(db: Database, voucher_id: int) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(Voucher).where(Voucher.id == voucher_id).values(expires_at=utcnow() - dt.timedelta(seconds=1))
        )


# ---------------------------------------------------------------- the enterprise cancels


async def test_enterprise_cancels_its_pending_redemption_and_the_voucher_is_whole_again(
    client: Client, world: World, db: Database
) -> None:
    r = await redeem(client, world, 400_000)  # the voucher pays 240 000
    budget_before = await committed(db, world.program["id"])
    response = await cancel(client, r["id"], world.enterprise, {"reason": "wrong agency chosen"})
    assert response.status == 200, await response.text()
    body = await response.json()
    assert (body["state"], body["cancel_reason"], body["voucher_balance_fen"]) == (
        "cancelled",
        "wrong agency chosen",
        500_000,
    )
    assert body["voucher_state"] == "issued"  # nothing else was ever spent from it
    assert body["cancelled_at"] is not None
    assert await voucher_row(db, world.voucher["id"]) == ("issued", 500_000)
    assert await committed(db, world.program["id"]) == budget_before  # the voucher holds it, not the budget
    assert await history(client, world) == [
        ("issue", None, "issued", None, 500_000, 500_000),
        ("redeem", "issued", "partially_redeemed", "pending", -240_000, 0),
        ("cancel", "partially_redeemed", "issued", "cancelled", 240_000, 0),
    ]
    async with db.transaction(write=False) as session:
        row = (
            await session.execute(
                select(
                    VoucherAudit.actor_role, VoucherAudit.actor_user_id, VoucherAudit.reason, VoucherAudit.amount_fen
                ).where(VoucherAudit.action == "cancel")
            )
        ).one()
    assert tuple(row) == (
        "enterprise",
        world.enterprise.user_id,
        "cancelled by the enterprise: wrong agency chosen",
        240_000,
    )

    # The money can be spent again, in full.
    again = await redeem(client, world, 800_000)
    assert (again["amount_fen"], again["voucher_balance_fen"]) == (480_000, 20_000)
    await assert_books_balance(db)


async def test_a_reason_is_optional_for_the_enterprise(client: Client, world: World, db: Database) -> None:
    r = await redeem(client, world, 100_000)
    response = await cancel(client, r["id"], world.enterprise)
    assert response.status == 200, await response.text()
    assert (await response.json())["cancel_reason"] == ""
    assert (await history(client, world))[-1][0] == "cancel"
    async with db.transaction(write=False) as session:
        reason = (
            await session.execute(select(VoucherAudit.reason).where(VoucherAudit.action == "cancel"))
        ).scalar_one()
    assert reason == "cancelled by the enterprise: no reason given"
    await assert_books_balance(db)


async def test_the_cancel_is_audited_at_the_moment_the_redemption_records_as_cancelled(
    client: Client, world: World, db: Database
) -> None:
    r = await redeem(client, world, 100_000)
    response = await cancel(client, r["id"], world.enterprise, {"reason": "wrong service"})
    assert response.status == 200, await response.text()
    async with db.transaction(write=False) as session:
        audited_at = (
            await session.execute(select(VoucherAudit.created_at).where(VoucherAudit.action == "cancel"))
        ).scalar_one()
        stored = await session.get(Redemption, r["id"])
        assert stored is not None
        assert stored.cancelled_at is not None
        assert audited_at == stored.cancelled_at


async def test_a_fully_used_voucher_becomes_spendable_again(client: Client, world: World, db: Database) -> None:
    first = await redeem(client, world, 800_000)  # 480 000
    second = await redeem(client, world, 100_000)  # the last 20 000
    assert second["voucher_state"] == "redeemed"
    response = await cancel(client, first["id"], world.enterprise)
    assert response.status == 200
    assert await voucher_row(db, world.voucher["id"]) == ("partially_redeemed", 480_000)
    mine = await (await client.get("/api/v1/me/vouchers", headers=world.enterprise.headers)).json()
    assert (mine[0]["state"], mine[0]["spendable"]) == ("partially_redeemed", True)
    await assert_books_balance(db)


async def test_cancelling_publishes_the_voucher_state_change(client: Client, world: World, event_bus: EventBus) -> None:
    first = await redeem(client, world, 800_000)  # 480 000
    rest = await redeem(client, world, 100_000)  # the last 20 000
    assert rest["voucher_state"] == "redeemed"
    seen: list[tuple[str, str, int]] = []

    async def listener(_session: Any, event: VoucherStateChanged) -> None:
        seen.append((event.old_state, event.new_state, event.balance_fen))

    event_bus.subscribe(VoucherStateChanged, listener)  # the app's own bus: gone with the app
    assert (await cancel(client, first["id"], world.enterprise)).status == 200
    assert seen == [("redeemed", "partially_redeemed", 480_000)]


# ---------------------------------------------------------------- who may


async def test_anonymous_is_401_agencies_and_other_enterprises_403_and_nothing_changes(
    client: Client, world: World, db: Database, make_account: AccountFactory
) -> None:
    r = await redeem(client, world, 100_000)
    other = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))
    assert (await cancel(client, r["id"], None)).status == 401
    own_agency = await cancel(client, r["id"], world.agency, {"reason": "we never started"})
    assert own_agency.status == 403
    assert (await own_agency.json())["error"]["code"] == "forbidden"
    stranger = await cancel(client, r["id"], other)
    assert stranger.status == 403
    refused = (await stranger.json())["error"]
    assert (refused["code"], refused["message"]) == (
        "not_your_voucher",
        "this redemption was made by another enterprise",
    )
    assert await voucher_row(db, world.voucher["id"]) == ("partially_redeemed", 440_000)
    assert [h[0] for h in await history(client, world)] == ["issue", "redeem"]


async def test_an_unknown_redemption_is_404(client: Client, world: World) -> None:
    response = await cancel(client, 987_654, world.enterprise)
    assert response.status == 404
    assert "987654" in (await response.json())["error"]["message"]
    assert (await cancel(client, 987_654, world.official, {"reason": "duplicate entry"})).status == 404


@pytest.mark.parametrize(
    ("who", "body", "field"),
    [
        ("official", {}, "reason"),  # officials must say why
        ("official", {"reason": None}, "reason"),
        ("enterprise", {"reason": "x"}, "reason"),  # too short to be a reason
        ("enterprise", {"reason": 12}, "reason"),
        ("enterprise", {"why": "wrong agency"}, "why"),
    ],
)
async def test_bad_input_is_422_naming_the_field_and_changes_nothing(
    client: Client, world: World, db: Database, who: str, body: dict[str, Any], field: str
) -> None:
    r = await redeem(client, world, 100_000)
    response = await cancel(client, r["id"], world.official if who == "official" else world.enterprise, body)
    assert response.status == 422, await response.text()
    assert (await response.json())["error"]["details"][0]["field"] == field
    assert await voucher_row(db, world.voucher["id"]) == ("partially_redeemed", 440_000)
    assert [h[0] for h in await history(client, world)] == ["issue", "redeem"]


@pytest.mark.parametrize("body", [{}, {"reason": None}])
async def test_an_official_must_say_why_a_redemption_is_cancelled(
    client: Client, world: World, db: Database, body: dict[str, Any]
) -> None:
    r = await redeem(client, world, 100_000)
    response = await cancel(client, r["id"], world.official, body)
    assert response.status == 422, await response.text()
    error = (await response.json())["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == [
        {"field": "reason", "message": "an official cancelling a redemption must give the reason"}
    ]
    assert await voucher_row(db, world.voucher["id"]) == ("partially_redeemed", 440_000)
    assert [h[0] for h in await history(client, world)] == ["issue", "redeem"]


async def test_a_body_that_is_not_a_json_object_is_refused(client: Client, world: World) -> None:
    r = await redeem(client, world, 100_000)
    response = await client.post(
        f"/api/v1/redemptions/{r['id']}/cancel",
        data=b"[]",
        headers={**world.enterprise.headers, "Content-Type": "application/json"},
    )
    assert response.status == 422
    assert (await response.json())["error"]["details"][0]["field"] == "body"


async def test_an_official_cancels_with_a_reason(client: Client, world: World, db: Database) -> None:
    r = await redeem(client, world, 100_000)
    response = await cancel(client, r["id"], world.official, {"reason": "agency suspended by the IP office"})
    assert response.status == 200, await response.text()
    assert (await response.json())["state"] == "cancelled"
    async with db.transaction(write=False) as session:
        row = (
            await session.execute(
                select(VoucherAudit.actor_role, VoucherAudit.reason).where(VoucherAudit.action == "cancel")
            )
        ).one()
        stored = await session.get(Redemption, r["id"])
        assert stored is not None
        assert (stored.cancelled_by, stored.cancel_reason) == (
            world.official.user_id,
            "agency suspended by the IP office",
        )
    assert tuple(row) == ("official", "cancelled by an official: agency suspended by the IP office")
    await assert_books_balance(db)


# ---------------------------------------------------------------- only while pending


async def test_a_confirmed_redemption_cannot_be_cancelled(client: Client, world: World, db: Database) -> None:
    r = await redeem(client, world, 100_000)
    confirmed = await client.post(f"/api/v1/redemptions/{r['id']}/confirm", json=EVIDENCE, headers=world.agency.headers)
    assert confirmed.status == 200
    for who, body in ((world.enterprise, {}), (world.official, {"reason": "too late anyway"})):
        response = await cancel(client, r["id"], who, body)
        assert response.status == 409
        error = (await response.json())["error"]
        assert error["code"] == "redemption_not_pending"
        assert "is delivered" in error["message"]
        assert error["message"] == (
            f"redemption {r['id']} is delivered; only a pending one (not yet confirmed by the agency) can be cancelled"
        )
        assert error["details"] == {"redemption_id": r["id"], "state": "delivered"}
    assert await voucher_row(db, world.voucher["id"]) == ("partially_redeemed", 440_000)


@pytest.mark.parametrize("decision", ["approve", "reject"])
async def test_a_decided_redemption_cannot_be_cancelled(client: Client, world: World, decision: str) -> None:
    r = await redeem(client, world, 100_000)
    await client.post(f"/api/v1/redemptions/{r['id']}/confirm", json=EVIDENCE, headers=world.agency.headers)
    settled = await client.post(
        f"/api/v1/redemptions/{r['id']}/settle",
        json={"decision": decision, "reason": "checked the invoice"},
        headers=world.official.headers,
    )
    assert settled.status == 200
    response = await cancel(client, r["id"], world.enterprise)
    assert response.status == 409
    expected = "settled" if decision == "approve" else "rejected"
    assert (await response.json())["error"]["details"]["state"] == expected


async def test_cancelling_twice_is_409_and_the_money_comes_back_once(
    client: Client, world: World, db: Database
) -> None:
    r = await redeem(client, world, 100_000)
    assert (await cancel(client, r["id"], world.enterprise)).status == 200
    again = await cancel(client, r["id"], world.enterprise)
    assert again.status == 409
    assert (await again.json())["error"]["details"]["state"] == "cancelled"
    assert await voucher_row(db, world.voucher["id"]) == ("issued", 500_000)
    # …and the agency can no longer confirm it.
    late = await client.post(f"/api/v1/redemptions/{r['id']}/confirm", json=EVIDENCE, headers=world.agency.headers)
    assert late.status == 409
    assert (await late.json())["error"]["details"]["state"] == "cancelled"
    await assert_books_balance(db)


# ---------------------------------------------------------------- expired and revoked vouchers


async def test_on_an_expired_voucher_the_amount_lapses_with_the_balance(
    client: Client, world: World, db: Database
) -> None:
    r = await redeem(client, world, 100_000)  # 60 000; 440 000 left
    await overdue(db, world.voucher["id"])
    budget_before = await committed(db, world.program["id"])
    response = await cancel(client, r["id"], world.enterprise)
    assert response.status == 200, await response.text()
    assert (await response.json())["voucher_state"] == "expired"
    assert await voucher_row(db, world.voucher["id"]) == ("expired", 500_000)
    assert await committed(db, world.program["id"]) == budget_before  # lapsed money stays committed
    assert [h[:3] for h in await history(client, world)] == [
        ("issue", None, "issued"),
        ("redeem", "issued", "partially_redeemed"),
        ("expire", "partially_redeemed", "expired"),
        ("cancel", "expired", "expired"),
    ]
    mine = await (await client.get("/api/v1/me/vouchers", headers=world.enterprise.headers)).json()
    assert (mine[0]["spendable"], mine[0]["state_reason"].endswith("the unspent 500000 fen lapsed")) == (False, True)
    totals = (await report(client, world))["totals"]
    assert (totals["expired_fen"], totals["cancelled_fen"], totals["redeemed_fen"]) == (500_000, 60_000, 0)
    assert identity_holds(totals)
    await assert_books_balance(db)


async def test_a_fully_used_voucher_past_its_expiry_expires_when_the_money_comes_back(
    client: Client, world: World, db: Database
) -> None:
    first = await redeem(client, world, 800_000)  # 480 000
    await redeem(client, world, 100_000)  # 20 000: redeemed, nothing left to lapse
    await overdue(db, world.voucher["id"])
    assert await voucher_row(db, world.voucher["id"]) == ("redeemed", 0)
    response = await cancel(client, first["id"], world.enterprise)
    assert response.status == 200, await response.text()
    assert await voucher_row(db, world.voucher["id"]) == ("expired", 480_000)
    assert (await history(client, world))[-1][:3] == ("cancel", "redeemed", "expired")
    spend = await client.post(
        f"/api/v1/vouchers/{world.voucher['id']}/redeem",
        json={"agency_id": world.agency_id, "service_code": "invention", "price_fen": 100_000},
        headers=world.enterprise.headers,
    )
    assert spend.status == 409
    assert (await spend.json())["error"]["details"]["state"] == "expired"
    assert identity_holds((await report(client, world))["totals"])
    await assert_books_balance(db)


async def test_the_amount_back_on_the_voucher_is_named_as_its_state_reason(
    client: Client, world: World, db: Database
) -> None:
    r = await redeem(client, world, 100_000)  # 60 000
    response = await cancel(client, r["id"], world.enterprise)
    assert response.status == 200, await response.text()
    async with db.transaction(write=False) as session:
        voucher = await session.get(Voucher, world.voucher["id"])
        assert voucher is not None
    assert (voucher.state, voucher.balance_fen, voucher.state_reason) == (
        "issued",
        500_000,
        f"redemption {r['id']} cancelled: 60000 fen back on the voucher",
    )


async def test_a_fully_used_voucher_expires_when_the_money_comes_back_at_the_very_moment_of_its_expiry(
    client: Client, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await redeem(client, world, 800_000)  # 480 000
    await redeem(client, world, 100_000)  # 20 000: redeemed, nothing left to lapse
    expires = dt.datetime.fromisoformat(world.voucher["expires_at"])
    monkeypatch.setattr(redemptions, "utcnow", lambda: expires)
    response = await cancel(client, first["id"], world.enterprise)
    assert response.status == 200, await response.text()
    assert await voucher_row(db, world.voucher["id"]) == ("expired", 480_000)
    assert (await history(client, world))[-1][:3] == ("cancel", "redeemed", "expired")
    await assert_books_balance(db)


async def test_on_a_revoked_voucher_the_amount_returns_to_the_budget(
    client: Client, world: World, db: Database
) -> None:
    r = await redeem(client, world, 100_000)  # 60 000
    revoked = await client.post(
        f"/api/v1/vouchers/{world.voucher['id']}/revoke", json={"reason": "moved away"}, headers=world.official.headers
    )
    assert revoked.status == 200
    assert await committed(db, world.program["id"]) == 60_000
    response = await cancel(client, r["id"], world.enterprise, {"reason": "the agency never started"})
    assert response.status == 200, await response.text()
    assert await voucher_row(db, world.voucher["id"]) == ("revoked", 0)
    assert await committed(db, world.program["id"]) == 0
    assert (await history(client, world))[-1] == ("cancel", "revoked", "revoked", "cancelled", 0, -60_000)
    totals = (await report(client, world))["totals"]
    assert (totals["revoked_returned_fen"], totals["remaining_budget_fen"]) == (500_000, 10_000_000)
    assert identity_holds(totals)
    await assert_books_balance(db)


# ---------------------------------------------------------------- reports and the ledger check


async def test_reports_count_cancelled_redemptions_apart_from_spending(
    client: Client, world: World, db: Database
) -> None:
    kept = await redeem(client, world, 100_000)  # 60 000, stays pending
    dropped = await redeem(client, world, 200_000)  # 120 000, cancelled
    assert (await cancel(client, dropped["id"], world.enterprise)).status == 200
    totals = (await report(client, world))["totals"]
    assert (totals["redemptions"], totals["redeemed_fen"], totals["pending_fen"]) == (1, 60_000, 60_000)
    assert (totals["cancelled"], totals["cancelled_fen"]) == (1, 120_000)
    assert totals["outstanding_fen"] == 440_000
    assert identity_holds(totals)
    by_agency = (await report(client, world))["by_agency"]
    assert [(a["redemptions"], a["redeemed_fen"], a["cancelled"], a["cancelled_fen"]) for a in by_agency] == [
        (1, 60_000, 1, 120_000)
    ]

    csv_text = await (
        await client.get(f"/api/v1/voucher-programs/{world.program['id']}/report.csv", headers=world.official.headers)
    ).text()
    header, *rows = [line.split(",") for line in csv_text.splitlines()]
    lines = {(row[0], row[1]): dict(zip(header, row, strict=True)) for row in rows}
    programme = lines[("programme", str(world.program["id"]))]
    agency = lines[("agency", str(world.agency_id))]
    service = lines[("service", "invention")]
    for line in (programme, agency, service):
        assert (line["redemptions"], line["redeemed_fen"], line["cancelled"], line["cancelled_fen"]) == (
            "1",
            "60000",
            "1",
            "120000",
        )
    assert programme["outstanding_fen"] == "440000"
    assert kept["state"] == "pending"
    await assert_books_balance(db)


async def test_vouchers_check_balances_after_every_kind_of_cancel(
    client: Client, world: World, db: Database, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = await redeem(client, world, 100_000)
    assert (await cancel(client, plain["id"], world.enterprise)).status == 200
    late = await redeem(client, world, 100_000)
    revoke = await client.post(
        f"/api/v1/vouchers/{world.voucher['id']}/revoke", json={"reason": "moved away"}, headers=world.official.headers
    )
    assert revoke.status == 200
    assert (await cancel(client, late["id"], world.official, {"reason": "voucher revoked"})).status == 200
    assert await check(settings) == 0
    assert "2 redemptions, 6 audit rows: 0 differences" in capsys.readouterr().out

    # The check does look at cancelled redemptions: count one as spent again and the books no longer balance.
    async with db.transaction() as session:
        await session.execute(update(Redemption).where(Redemption.id == plain["id"]).values(state="pending"))
    assert await check(settings) == 1
    out = capsys.readouterr().out
    assert f"redemption {plain['id']}: state stored pending, audit says cancelled" in out
    assert f"voucher {world.voucher['id']}: face_minus_redemptions stored 0, audit says -60000" in out
    async with db.transaction(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(VoucherAudit)) == 6
