"""Rules at the edges: bad input changes nothing, eligibility, caps, expiry by time, flags."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select, update

from core.auth import Role
from core.db import Database, utcnow
from core.events import EventBus, VoucherStateChanged
from tests.conftest import AccountFactory
from tests.vouchers.builders import EVIDENCE, Client, issue, make_agency, make_enterprise, make_program, program_body
from tests.vouchers.conftest import World
from vouchers.ledger import check_ledger
from vouchers.models import Redemption, Voucher, VoucherAudit, VoucherFlag
from vouchers.routes import FLAG_WORKER
from vouchers.service import vouchers_expiring_between


async def counts(db: Database) -> tuple[int, int, int]:
    async with db.transaction(write=False) as session:
        vouchers = await session.scalar(select(func.count()).select_from(Voucher))
        redemptions = await session.scalar(select(func.count()).select_from(Redemption))
        audit = await session.scalar(select(func.count()).select_from(VoucherAudit))
    return int(vouchers or 0), int(redemptions or 0), int(audit or 0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price_fen": -100}, "price_fen"),
        ({"price_fen": 0}, "price_fen"),
        ({"price_fen": 1000.5}, "price_fen"),
        ({"price_fen": 1000.0}, "price_fen"),
        ({"price_fen": "1000"}, "price_fen"),
        ({"service_code": "teleportation"}, "service_code"),
        ({"service_code": "design"}, "service_code"),  # a real service, not covered by the programme
        ({"agency_id": 999_999}, "agency_id"),
        ({"price_fen": 900_000}, "price_fen"),  # above the agency's listed maximum
        ({"extra": 1}, "extra"),
    ],
)
async def test_bad_redemptions_are_422_naming_the_field_and_change_nothing(
    client: Client, world: World, db: Database, change: dict[str, Any], field: str
) -> None:
    before = await counts(db)
    body = {"agency_id": world.agency_id, "service_code": "invention", "price_fen": 100_000, **change}
    response = await client.post(
        f"/api/v1/vouchers/{world.voucher['id']}/redeem", json=body, headers=world.enterprise.headers
    )
    assert response.status == 422, await response.text()
    error = (await response.json())["error"]
    assert error["details"][0]["field"] == field
    assert "Traceback" not in error["message"]
    assert await counts(db) == before


async def test_agency_that_does_not_participate_is_refused(client: Client, world: World, db: Database) -> None:
    elsewhere = await make_agency(db, region_code="110105")  # Beijing
    no_vouchers = await make_agency(db, accepts_vouchers=False)
    for agency_id, words in ((elsewhere, "outside"), (no_vouchers, "does not accept")):
        response = await client.post(
            f"/api/v1/vouchers/{world.voucher['id']}/redeem",
            json={"agency_id": agency_id, "service_code": "invention", "price_fen": 100_000},
            headers=world.enterprise.headers,
        )
        assert response.status == 422
        error = (await response.json())["error"]
        assert error["code"] == "agency_not_participating"
        assert words in error["message"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"budget_fen": -1}, "budget_fen"),
        ({"budget_fen": 100.5}, "budget_fen"),
        ({"share_bp": 10001}, "share_bp"),
        ({"services": ["invention", "teleportation"]}, "services.1"),
        ({"services": []}, "services"),
        ({"valid_from": "2020-01-01T00:00:00+00:00", "valid_until": "2020-12-31T00:00:00+00:00"}, "valid_until"),
        ({"valid_from": "2026-01-01T00:00:00"}, "valid_from"),  # no time zone
        ({"face_value_fen": 20_000_000}, "body"),
    ],
)
async def test_bad_programmes_are_422(
    client: Client, make_account: AccountFactory, change: dict[str, Any], field: str
) -> None:
    official = await make_account(Role.OFFICIAL)
    response = await client.post("/api/v1/voucher-programs", json=program_body(**change), headers=official.headers)
    assert response.status == 422, await response.text()
    assert (await response.json())["error"]["details"][0]["field"] == field
    assert await (await client.get("/api/v1/voucher-programs?open_only=false")).json() == []


async def test_only_officials_create_programmes(client: Client, world: World) -> None:
    response = await client.post("/api/v1/voucher-programs", json=program_body(), headers=world.enterprise.headers)
    assert response.status == 403
    assert (await client.post("/api/v1/voucher-programs", json=program_body())).status == 401


async def test_issuing_checks_eligibility_for_every_row_and_issues_nothing_on_any_failure(
    client: Client, world: World, db: Database
) -> None:
    unqualified = await make_enterprise(db, qualification="none")
    lapsed = await make_enterprise(db, expires_on=utcnow().date() - dt.timedelta(days=1))
    outside = await make_enterprise(db, region_code="110105")
    before = await counts(db)
    response = await client.post(
        f"/api/v1/voucher-programs/{world.program['id']}/vouchers",
        json={
            "enterprises": [
                {"enterprise_id": world.enterprise_id},
                {"enterprise_id": unqualified},
                {"enterprise_id": lapsed},
                {"enterprise_id": outside},
                {"enterprise_id": 424242},
                {"enterprise_id": world.enterprise_id, "face_value_fen": 600_000},
            ]
        },
        headers=world.official.headers,
    )
    assert response.status == 422
    details = (await response.json())["error"]["details"]
    assert [d["field"] for d in details] == [
        "enterprises.1.enterprise_id",
        "enterprises.2.enterprise_id",
        "enterprises.3.enterprise_id",
        "enterprises.4.enterprise_id",
        "enterprises.5.face_value_fen",
    ]
    assert "needs provincial_specialized" in details[0]["message"]
    assert "outside" in details[2]["message"]
    # Every row that cannot have its voucher, each with why (a lapsed qualification counts as none today).
    unqualified_why = "enterprise qualification is none; needs provincial_specialized"
    assert [d["message"] for d in details] == [
        unqualified_why,
        unqualified_why,
        "enterprise is in region 110105, outside 330100",
        "no such enterprise",
        "above the programme's face value of 500000 fen",
    ]
    error = (await response.json())["error"]
    assert error["code"] == "not_eligible"
    assert error["message"] == f"enterprises.1.enterprise_id: {unqualified_why}; nothing was issued"
    assert await counts(db) == before


async def test_csv_batch_issues_every_row_or_reports_line_and_column(
    client: Client, world: World, db: Database
) -> None:
    from enterprises.models import Enterprise

    second = await make_enterprise(db)
    async with db.transaction(write=False) as session:
        codes = dict((await session.execute(select(Enterprise.id, Enterprise.credit_code))).all())
    url = f"/api/v1/voucher-programs/{world.program['id']}/vouchers"
    headers = {**world.official.headers, "Content-Type": "text/csv"}
    before = await counts(db)
    bad = f"credit_code,face_value_fen\n{codes[second]},abc\n91330106XXXXXXXXXX,100000\n{codes[second]},-5\n"
    response = await client.post(url, data=bad.encode(), headers=headers)
    assert response.status == 422
    details = (await response.json())["error"]["details"]
    assert [(d["line"], d["column"]) for d in details] == [(2, "face_value_fen"), (4, "face_value_fen")]
    unknown = await client.post(url, data=b"credit_code\n91330106MA0000000X\n", headers=headers)
    assert unknown.status == 422
    assert (await unknown.json())["error"]["details"][0] == {
        "line": 2,
        "column": "credit_code",
        "message": "no such enterprise",
    }
    ragged = await client.post(url, data=f"credit_code\n{codes[second]},1,2\n".encode(), headers=headers)
    assert (await ragged.json())["error"]["details"][0]["line"] == 2
    header = await client.post(url, data=b"name\nACME\n", headers=headers)
    assert (await header.json())["error"]["details"][0]["line"] == 1
    assert await counts(db) == before

    good = f"credit_code,face_value_fen\n{codes[second]},200000\n\n{codes[world.enterprise_id]},\n"
    response = await client.post(url, data=good.encode(), headers=headers)
    assert response.status == 201, await response.text()
    body = await response.json()
    assert [v["face_value_fen"] for v in body["issued"]] == [200_000, 500_000]
    assert body["remaining_budget_fen"] == 10_000_000 - 500_000 - 700_000


async def test_budget_and_yearly_cap_refuse_with_409_and_issue_nothing(
    client: Client, world: World, db: Database
) -> None:
    small = await make_program(
        client, world.official.headers, budget_fen=1_000_000, per_enterprise_year_cap_fen=500_000
    )
    other = await make_enterprise(db)
    url = f"/api/v1/voucher-programs/{small['id']}/vouchers"
    capped = await client.post(
        url,
        json={"enterprises": [{"enterprise_id": other}, {"enterprise_id": other}]},
        headers=world.official.headers,
    )
    assert capped.status == 409
    assert (await capped.json())["error"]["code"] == "enterprise_cap_exceeded"
    await issue(client, world.official.headers, small["id"], other)
    third = await make_enterprise(db)
    fourth = await make_enterprise(db)
    over = await client.post(
        url,
        json={"enterprises": [{"enterprise_id": third}, {"enterprise_id": fourth}]},
        headers=world.official.headers,
    )
    assert over.status == 409
    error = (await over.json())["error"]
    assert error["code"] == "budget_exceeded"
    assert error["details"] == {"requested_fen": 1_000_000, "remaining_fen": 500_000, "budget_fen": 1_000_000}


async def test_expired_programme_issues_nothing(client: Client, world: World, db: Database) -> None:
    from vouchers.models import VoucherProgram

    ended = utcnow() - dt.timedelta(days=1)
    async with db.transaction() as session:
        await session.execute(
            update(VoucherProgram)
            .where(VoucherProgram.id == world.program["id"])
            .values(valid_from=utcnow() - dt.timedelta(days=400), valid_until=ended)
        )
    before = await counts(db)
    response = await client.post(
        f"/api/v1/voucher-programs/{world.program['id']}/vouchers",
        json={"enterprises": [{"enterprise_id": world.enterprise_id}]},
        headers=world.official.headers,
    )
    assert response.status == 409
    error = (await response.json())["error"]
    assert error["code"] == "program_closed"
    assert error["message"] == (
        f"programme {world.program['id']} ended at {ended.isoformat()}; no more vouchers can be issued"
    )
    assert error["details"] == {"program_id": world.program["id"], "valid_until": ended.isoformat()}
    assert await counts(db) == before


async def test_a_voucher_past_its_expiry_is_expired_on_read_and_the_first_write_records_it(
    client: Client, world: World, db: Database
) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(Voucher)
            .where(Voucher.id == world.voucher["id"])
            .values(expires_at=utcnow() - dt.timedelta(seconds=1))
        )
    (mine,) = await (await client.get("/api/v1/me/vouchers", headers=world.enterprise.headers)).json()
    assert (mine["state"], mine["spendable"], mine["usable_at"]) == ("expired", False, [])
    assert "lapsed" in mine["state_reason"]

    response = await client.post(
        f"/api/v1/vouchers/{world.voucher['id']}/redeem",
        json={"agency_id": world.agency_id, "service_code": "invention", "price_fen": 100_000},
        headers=world.enterprise.headers,
    )
    assert response.status == 409
    error = (await response.json())["error"]
    assert (error["code"], error["details"]["state"]) == ("voucher_expired", "expired")
    async with db.transaction(write=False) as session:
        voucher = await session.get(Voucher, world.voucher["id"])
        assert voucher is not None
        assert (voucher.state, voucher.balance_fen) == ("expired", 500_000)
        actions = (
            await session.execute(
                select(VoucherAudit.action, VoucherAudit.actor_role).where(VoucherAudit.voucher_id == voucher.id)
            )
        ).all()
        assert [tuple(a) for a in actions] == [("issue", "official"), ("expire", "system")]
        assert await check_ledger(session) == []
    report = await (
        await client.get(f"/api/v1/voucher-programs/{world.program['id']}/report", headers=world.official.headers)
    ).json()
    assert (report["totals"]["vouchers_expired"], report["totals"]["expired_fen"]) == (1, 500_000)


async def test_expiring_vouchers_are_found_for_reminders(client: Client, world: World, db: Database) -> None:
    expires = dt.datetime.fromisoformat(world.voucher["expires_at"])
    async with db.transaction(write=False) as session:
        found = await vouchers_expiring_between(session, expires - dt.timedelta(days=1), expires + dt.timedelta(days=1))
        none = await vouchers_expiring_between(session, utcnow(), utcnow() + dt.timedelta(days=1))
    assert [(v.voucher_id, v.enterprise_id, v.balance_fen) for v in found] == [
        (world.voucher["id"], world.enterprise_id, 500_000)
    ]
    assert none == []


async def test_related_parties_and_repeated_maximum_redemptions_are_flagged_never_blocked(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    agency_id = await make_agency(db, contact_name="王小明", address="杭州市西湖区文三路 1 号", phone="0571-88880000")
    related = await make_enterprise(db, legal_representative="王小明", phone="+86 571 8888 0000")
    program = await make_program(client, official.headers)
    vouchers = await issue(client, official.headers, program["id"], related, related, related, face_value_fen=100_000)
    staff = await make_account(Role.ENTERPRISE, enterprise_id=related)
    for voucher in vouchers:
        response = await client.post(
            f"/api/v1/vouchers/{voucher['id']}/redeem",
            json={"agency_id": agency_id, "service_code": "invention", "price_fen": 800_000},  # the listed maximum
            headers=staff.headers,
        )
        assert response.status == 201  # never blocked
    await client.app[FLAG_WORKER].drain()  # flags are raised after the redemption commits, by the worker
    flags = await (await client.get("/api/v1/voucher-flags", headers=official.headers)).json()
    kinds = sorted(f["kind"] for f in flags)
    assert kinds == ["max_amount_repeated", "related_party", "related_party", "related_party"]
    related_flag = next(f for f in flags if f["kind"] == "related_party")
    assert related_flag["evidence"]["shared"] == {"person": "王小明", "phone": "0571-88880000"}
    assert (await client.get("/api/v1/voucher-flags", headers=staff.headers)).status == 403
    async with db.transaction(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(VoucherFlag)) == 4


async def test_voucher_state_changes_are_published(client: Client, world: World, event_bus: EventBus) -> None:
    seen: list[tuple[str, str]] = []

    async def listener(_session: Any, event: VoucherStateChanged) -> None:
        seen.append((event.old_state, event.new_state))

    event_bus.subscribe(VoucherStateChanged, listener)  # the app's own bus: gone with the app
    await client.post(
        f"/api/v1/vouchers/{world.voucher['id']}/revoke", json={"reason": "test"}, headers=world.official.headers
    )
    assert seen == [("issued", "revoked")]


async def test_agency_lists_only_its_own_redemptions(client: Client, world: World, db: Database) -> None:
    response = await client.post(
        f"/api/v1/vouchers/{world.voucher['id']}/redeem",
        json={"agency_id": world.agency_id, "service_code": "invention", "price_fen": 100_000},
        headers=world.enterprise.headers,
    )
    rid = (await response.json())["id"]
    assert [r["id"] for r in await (await client.get("/api/v1/redemptions", headers=world.agency.headers)).json()] == [
        rid
    ]
    confirm = await client.post(f"/api/v1/redemptions/{rid}/confirm", json=EVIDENCE, headers=world.agency.headers)
    assert confirm.status == 200
    twice = await client.post(f"/api/v1/redemptions/{rid}/confirm", json=EVIDENCE, headers=world.agency.headers)
    assert twice.status == 409
    assert (await twice.json())["error"]["details"]["state"] == "delivered"


async def test_revoking_an_overdue_voucher_is_409_and_records_the_expiry(
    client: Client, world: World, db: Database
) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(Voucher).where(Voucher.id == world.voucher["id"]).values(expires_at=utcnow() - dt.timedelta(days=1))
        )
    response = await client.post(
        f"/api/v1/vouchers/{world.voucher['id']}/revoke", json={"reason": "too late"}, headers=world.official.headers
    )
    assert response.status == 409
    assert (await response.json())["error"]["details"]["state"] == "expired"
    detail = await (await client.get(f"/api/v1/vouchers/{world.voucher['id']}", headers=world.official.headers)).json()
    assert [h["action"] for h in detail["history"]] == ["issue", "expire"]
    assert detail["state"] == "expired"


async def test_report_csv_path_and_official_only(client: Client, world: World) -> None:
    url = f"/api/v1/voucher-programs/{world.program['id']}/report.csv"
    response = await client.get(url, headers=world.official.headers)
    assert response.status == 200
    assert "attachment" in response.headers["Content-Disposition"]
    header, programme, *_ = (await response.text()).splitlines()
    assert dict(zip(header.split(","), programme.split(","), strict=True))["issued_fen"] == "500000"
    assert (await client.get(url, headers=world.enterprise.headers)).status == 403
