"""The whole life of a voucher through the API: directory, issue, redeem, confirm, settle, report, ledger."""

from __future__ import annotations

from typing import Any

from accounts.service import find_or_create_wechat_user, issue_token
from core.auth import Role
from core.db import Database
from core.settings import Settings
from tests.conftest import Account, AccountFactory
from tests.security.conftest import unbound_agency_staff
from tests.support.world import Who
from tests.vouchers.builders import EVIDENCE, Client, make_agency, make_enterprise
from tests.vouchers.conftest import World
from vouchers.ledger import check_ledger
from vouchers.models import Redemption


async def redeem(client: Client, w: World, price_fen: int = 500_000, **extra: Any) -> Any:
    body = {"agency_id": w.agency_id, "service_code": "invention", "price_fen": price_fen, **extra}
    return await client.post(f"/api/v1/vouchers/{w.voucher['id']}/redeem", json=body, headers=w.enterprise.headers)


async def assert_books_balance(db: Database) -> None:
    async with db.transaction(write=False) as session:
        assert await check_ledger(session) == []


async def test_directory_is_public_and_says_what_where_and_how_much(client: Client, world: World) -> None:
    response = await client.get("/api/v1/voucher-programs")
    assert response.status == 200
    (program,) = await response.json()
    assert program["id"] == world.program["id"]
    assert [s["code"] for s in program["services"]] == ["invention", "priority_exam_assist", "utility_model"]
    assert program["share_bp"] == 6000
    assert program["eligibility"]["min_qualification"] == "provincial_specialized"
    assert program["remaining_budget_fen"] == 10_000_000 - 500_000
    assert [a["id"] for a in program["participating_agencies"]] == [world.agency_id]
    # Only the covered services an agency offers are listed, with their prices.
    assert {s["code"] for s in program["participating_agencies"][0]["services"]} == {"invention", "utility_model"}


async def test_directory_filters_agencies_by_rating(client: Client, world: World, db: Database) -> None:
    better = await make_agency(db, level="A_plus", score=105)
    response = await client.get(f"/api/v1/voucher-programs/{world.program['id']}?min_rating=A_plus")
    assert [a["id"] for a in (await response.json())["participating_agencies"]] == [better]


async def test_enterprise_sees_its_voucher_with_balance_expiry_and_where_usable(client: Client, world: World) -> None:
    response = await client.get("/api/v1/me/vouchers", headers=world.enterprise.headers)
    assert response.status == 200
    (voucher,) = await response.json()
    assert voucher["balance_fen"] == 500_000
    assert voucher["state"] == "issued"
    assert voucher["spendable"] is True
    assert voucher["expires_at"]
    assert [a["id"] for a in voucher["usable_at"]] == [world.agency_id]


async def test_full_cycle_redeem_confirm_settle_and_report(client: Client, world: World, db: Database) -> None:
    response = await redeem(client, world, price_fen=400_000)
    assert response.status == 201, await response.text()
    redemption = await response.json()
    # The voucher pays 60 % of the price; the enterprise pays the rest.
    assert redemption["amount_fen"] == 240_000
    assert redemption["enterprise_share_fen"] == 160_000
    assert redemption["voucher_balance_fen"] == 260_000
    assert redemption["voucher_state"] == "partially_redeemed"
    assert redemption["state"] == "pending"

    pending = await client.get("/api/v1/redemptions?state=pending", headers=world.agency.headers)
    assert [r["id"] for r in await pending.json()] == [redemption["id"]]

    confirmed = await client.post(
        f"/api/v1/redemptions/{redemption['id']}/confirm", json=EVIDENCE, headers=world.agency.headers
    )
    assert confirmed.status == 200, await confirmed.text()
    assert (await confirmed.json())["state"] == "delivered"

    # Confirmed within minutes of the redemption: flagged, so settling needs an explicit decision.
    flags = await (await client.get("/api/v1/voucher-flags", headers=world.official.headers)).json()
    assert [(f["kind"], f["redemption_id"]) for f in flags] == [("fast_confirmation", redemption["id"])]
    assert flags[0]["evidence"]["threshold_seconds"] == 600
    blind = await client.post(f"/api/v1/redemptions/{redemption['id']}/settle", json={}, headers=world.official.headers)
    assert blind.status == 409
    assert (await blind.json())["error"]["code"] == "decision_required"

    settled = await client.post(
        f"/api/v1/redemptions/{redemption['id']}/settle",
        json={"decision": "approve", "reason": "contract and filing receipt checked"},
        headers=world.official.headers,
    )
    assert settled.status == 200, await settled.text()
    body = await settled.json()
    assert body["state"] == "settled"
    assert body["flags"][0]["status"] == "approved"

    report = await (
        await client.get(f"/api/v1/voucher-programs/{world.program['id']}/report", headers=world.official.headers)
    ).json()
    totals = report["totals"]
    assert totals["issued_fen"] == 500_000
    assert totals["redeemed_fen"] == totals["settled_fen"] == 240_000
    assert totals["outstanding_fen"] == 260_000
    assert totals["remaining_budget_fen"] == 9_500_000
    assert report["by_agency"][0]["key"] == str(world.agency_id)
    assert report["by_service"][0]["key"] == "invention"

    csv_response = await client.get(
        f"/api/v1/voucher-programs/{world.program['id']}/report?format=csv", headers=world.official.headers
    )
    assert csv_response.status == 200
    assert csv_response.content_type == "text/csv"
    lines = (await csv_response.text()).splitlines()
    assert lines[0].startswith("section,key,name,redemptions,redeemed_fen")
    assert lines[1].startswith(f"programme,{world.program['id']},")
    assert any(line.startswith(f"agency,{world.agency_id},") for line in lines)
    assert any(line.startswith("service,invention,") for line in lines)

    detail = await (
        await client.get(f"/api/v1/vouchers/{world.voucher['id']}", headers=world.enterprise.headers)
    ).json()
    assert [(h["action"], h["from_state"], h["to_state"], h["balance_after_fen"]) for h in detail["history"]] == [
        ("issue", None, "issued", 500_000),
        ("redeem", "issued", "partially_redeemed", 260_000),
        ("confirm", "partially_redeemed", "partially_redeemed", 260_000),
        ("settle", "partially_redeemed", "partially_redeemed", 260_000),
    ]
    assert detail["redemptions"][0]["flags"] == []  # flags are for officials only
    await assert_books_balance(db)


async def test_spending_the_whole_balance_moves_the_voucher_through_redeemed_delivered_settled(
    client: Client, world: World, db: Database
) -> None:
    # 60 % of 800 000 is 480 000 but the voucher holds 500 000 … then the rest is capped by the balance.
    first = await (await redeem(client, world, price_fen=800_000)).json()
    second = await (await redeem(client, world, price_fen=100_000)).json()
    assert (first["amount_fen"], second["amount_fen"]) == (480_000, 20_000)
    assert second["enterprise_share_fen"] == 80_000
    assert second["voucher_state"] == "redeemed"
    states = []
    for r in (first, second):
        await client.post(f"/api/v1/redemptions/{r['id']}/confirm", json=EVIDENCE, headers=world.agency.headers)
        states.append(
            (
                await (
                    await client.get(f"/api/v1/vouchers/{world.voucher['id']}", headers=world.official.headers)
                ).json()
            )["state"]
        )
    assert states == ["redeemed", "delivered"]
    answers = []
    for r in (first, second):
        response = await client.post(
            f"/api/v1/redemptions/{r['id']}/settle",
            json={"decision": "approve", "reason": "ok"},
            headers=world.official.headers,
        )
        assert response.status == 200
        answers.append(await response.json())
    # Each answer carries the voucher as it is after that settlement: settled once both are decided.
    assert [(a["voucher_state"], a["voucher_balance_fen"]) for a in answers] == [("delivered", 0), ("settled", 0)]
    voucher = await (await client.get(f"/api/v1/vouchers/{world.voucher['id']}", headers=world.official.headers)).json()
    assert (voucher["state"], voucher["balance_fen"]) == ("settled", 0)
    assert voucher["state_reason"] == "every redemption decided"
    again = await redeem(client, world, price_fen=100_000)
    assert again.status == 409
    assert (await again.json())["error"]["details"]["state"] == "settled"
    await assert_books_balance(db)


async def test_rejected_redemption_returns_its_money_to_the_budget(client: Client, world: World, db: Database) -> None:
    r = await (await redeem(client, world, price_fen=500_000)).json()
    await client.post(f"/api/v1/redemptions/{r['id']}/confirm", json=EVIDENCE, headers=world.agency.headers)
    no_reason = await client.post(
        f"/api/v1/redemptions/{r['id']}/settle", json={"decision": "reject"}, headers=world.official.headers
    )
    assert no_reason.status == 422
    rejected = await client.post(
        f"/api/v1/redemptions/{r['id']}/settle",
        json={"decision": "reject", "reason": "invoice does not match the contract"},
        headers=world.official.headers,
    )
    assert rejected.status == 200
    body = await rejected.json()
    assert (body["state"], body["decision_reason"]) == ("rejected", "invoice does not match the contract")
    # Confirmed within minutes, so flagged: the rejection decides the flag as rejected, with its reason.
    assert [(f["kind"], f["status"], f["resolved_by"], f["resolution_reason"]) for f in body["flags"]] == [
        ("fast_confirmation", "rejected", world.official.user_id, "invoice does not match the contract")
    ]
    program = await (await client.get(f"/api/v1/voucher-programs/{world.program['id']}")).json()
    assert program["remaining_budget_fen"] == 10_000_000 - 500_000 + 300_000
    detail = await (await client.get(f"/api/v1/vouchers/{world.voucher['id']}", headers=world.official.headers)).json()
    audit = detail["history"][-1]
    assert (audit["action"], audit["redemption_from"], audit["redemption_to"]) == ("reject", "delivered", "rejected")
    assert (audit["amount_fen"], audit["program_delta_fen"], audit["reason"]) == (
        300_000,
        -300_000,
        "invoice does not match the contract",
    )
    await assert_books_balance(db)


async def test_revoke_returns_the_unspent_balance_and_is_final(client: Client, world: World, db: Database) -> None:
    await redeem(client, world, price_fen=100_000)  # 60 000 spent
    response = await client.post(
        f"/api/v1/vouchers/{world.voucher['id']}/revoke",
        json={"reason": "enterprise moved out of the region"},
        headers=world.official.headers,
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert (body["state"], body["balance_fen"]) == ("revoked", 0)
    assert "moved out" in body["state_reason"]
    program = await (await client.get(f"/api/v1/voucher-programs/{world.program['id']}")).json()
    assert program["remaining_budget_fen"] == 10_000_000 - 60_000
    again = await client.post(
        f"/api/v1/vouchers/{world.voucher['id']}/revoke", json={"reason": "twice"}, headers=world.official.headers
    )
    assert again.status == 409
    assert (await again.json())["error"]["details"]["state"] == "revoked"
    spend = await redeem(client, world, price_fen=100_000)
    assert spend.status == 409
    assert (await spend.json())["error"]["details"]["state"] == "revoked"
    await assert_books_balance(db)


async def test_only_the_holder_redeems_and_only_that_agency_confirms(
    client: Client, world: World, db: Database, make_account: AccountFactory
) -> None:
    other_enterprise = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))
    stolen = await client.post(
        f"/api/v1/vouchers/{world.voucher['id']}/redeem",
        json={"agency_id": world.agency_id, "service_code": "invention", "price_fen": 100_000},
        headers=other_enterprise.headers,
    )
    assert stolen.status == 403
    assert (await stolen.json())["error"]["code"] == "not_your_voucher"

    r = await (await redeem(client, world, price_fen=100_000)).json()
    other_agency = await make_account(Role.AGENCY, agency_id=await make_agency(db))
    foreign = await client.post(f"/api/v1/redemptions/{r['id']}/confirm", json=EVIDENCE, headers=other_agency.headers)
    assert foreign.status == 403
    refused = (await foreign.json())["error"]
    assert (refused["code"], refused["message"]) == ("not_your_agency", "this redemption was made at another agency")
    as_enterprise = await client.post(
        f"/api/v1/redemptions/{r['id']}/confirm", json=EVIDENCE, headers=world.enterprise.headers
    )
    assert as_enterprise.status == 403
    anonymous = await client.post(f"/api/v1/redemptions/{r['id']}/confirm", json=EVIDENCE)
    assert anonymous.status == 401
    settle_pending = await client.post(
        f"/api/v1/redemptions/{r['id']}/settle",
        json={"decision": "approve", "reason": "x1"},
        headers=world.official.headers,
    )
    assert settle_pending.status == 409
    assert (await settle_pending.json())["error"]["details"]["state"] == "pending"
    await assert_books_balance(db)


async def test_confirmation_needs_proof_of_the_enterprise_share(client: Client, world: World) -> None:
    r = await (await redeem(client, world, price_fen=100_000)).json()
    evidence = {k: v for k, v in EVIDENCE.items() if k != "payment_proof"}
    response = await client.post(f"/api/v1/redemptions/{r['id']}/confirm", json=evidence, headers=world.agency.headers)
    assert response.status == 422
    assert (await response.json())["error"]["details"][0]["field"] == "payment_proof"


async def test_proof_is_needed_from_one_fen_of_the_enterprises_own_share_and_not_when_it_pays_nothing(
    client: Client, world: World, db: Database, make_account: AccountFactory
) -> None:
    from tests.vouchers.builders import issue, make_enterprise, make_program

    without_proof = {k: v for k, v in EVIDENCE.items() if k != "payment_proof"}
    # 60 % of 2 fen is 1.2: the voucher pays 1 fen, the enterprise 1 fen of its own, which needs proof.
    one_fen = await (await redeem(client, world, price_fen=2)).json()
    assert (one_fen["amount_fen"], one_fen["enterprise_share_fen"]) == (1, 1)
    response = await client.post(
        f"/api/v1/redemptions/{one_fen['id']}/confirm", json=without_proof, headers=world.agency.headers
    )
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == [
        {"field": "payment_proof", "message": "the enterprise's own share of 1 fen needs proof"}
    ]
    # A programme paying the whole price: the enterprise pays nothing of its own, so there is nothing to prove.
    whole = await make_program(client, world.official.headers, name="杭州市知识产权服务券 全额", share_bp=10_000)
    enterprise_id = await make_enterprise(db)
    (voucher,) = await issue(client, world.official.headers, whole["id"], enterprise_id)
    staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id)
    body = {"agency_id": world.agency_id, "service_code": "invention", "price_fen": 100_000}
    made = await client.post(f"/api/v1/vouchers/{voucher['id']}/redeem", json=body, headers=staff.headers)
    assert made.status == 201, await made.text()
    paid_in_full = await made.json()
    assert (paid_in_full["amount_fen"], paid_in_full["enterprise_share_fen"]) == (100_000, 0)
    confirmed = await client.post(
        f"/api/v1/redemptions/{paid_in_full['id']}/confirm", json=without_proof, headers=world.agency.headers
    )
    assert confirmed.status == 200, await confirmed.text()
    assert (await confirmed.json())["state"] == "delivered"
    await assert_books_balance(db)


async def test_a_confirmation_keeps_its_evidence_who_confirmed_and_when_and_audits_the_amount_delivered(
    client: Client, world: World, db: Database
) -> None:
    r = await (await redeem(client, world, price_fen=400_000)).json()
    response = await client.post(f"/api/v1/redemptions/{r['id']}/confirm", json=EVIDENCE, headers=world.agency.headers)
    assert response.status == 200, await response.text()
    confirmed = await response.json()
    assert confirmed["state"] == "delivered"
    assert {k: confirmed[k] for k in EVIDENCE} == EVIDENCE
    assert (confirmed["amount_fen"], confirmed["voucher_balance_fen"]) == (240_000, 260_000)
    async with db.transaction(write=False) as session:
        stored = await session.get(Redemption, r["id"])
        assert stored is not None
        assert stored.confirmed_by == world.agency.user_id

    detail = await (await client.get(f"/api/v1/vouchers/{world.voucher['id']}", headers=world.official.headers)).json()
    audit = detail["history"][-1]
    assert (audit["action"], audit["redemption_id"], audit["redemption_from"], audit["redemption_to"]) == (
        "confirm",
        r["id"],
        "pending",
        "delivered",
    )
    assert (audit["amount_fen"], audit["balance_delta_fen"], audit["balance_after_fen"]) == (240_000, 0, 260_000)
    assert (audit["actor_user_id"], audit["actor_role"]) == (world.agency.user_id, "agency")
    assert audit["reason"] == "delivered: contract HT-2026-001, invoice FP-33000001, deliverable CN202611250001.2"
    # The audit row is written at the very moment the redemption records as its confirmation.
    assert audit["at"] == confirmed["confirmed_at"]
    # Only part of the voucher is spent: it stays partially redeemed, its state reason the redemption's.
    assert detail["state"] == "partially_redeemed"
    assert detail["state_reason"] == f"last used: 240000 fen of a 400000 fen invention at agency {world.agency_id}"


async def test_a_voucher_spent_whole_by_one_redemption_is_delivered_once_the_agency_confirms_it(
    client: Client, world: World, db: Database, make_account: AccountFactory
) -> None:
    from tests.vouchers.builders import issue, make_enterprise

    enterprise_id = await make_enterprise(db)
    (voucher,) = await issue(client, world.official.headers, world.program["id"], enterprise_id, face_value_fen=300_000)
    staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id)
    # 60 % of 500 000 is the voucher's whole 300 000: this one redemption spends it all.
    body = {"agency_id": world.agency_id, "service_code": "invention", "price_fen": 500_000}
    made = await client.post(f"/api/v1/vouchers/{voucher['id']}/redeem", json=body, headers=staff.headers)
    assert made.status == 201, await made.text()
    r = await made.json()
    assert (r["amount_fen"], r["voucher_balance_fen"], r["voucher_state"]) == (300_000, 0, "redeemed")
    response = await client.post(f"/api/v1/redemptions/{r['id']}/confirm", json=EVIDENCE, headers=world.agency.headers)
    assert response.status == 200, await response.text()
    confirmed = await response.json()
    assert (confirmed["state"], confirmed["voucher_state"], confirmed["voucher_balance_fen"]) == (
        "delivered",
        "delivered",
        0,
    )
    detail = await (await client.get(f"/api/v1/vouchers/{voucher['id']}", headers=world.official.headers)).json()
    assert (detail["state"], detail["state_reason"]) == ("delivered", "service delivered, awaiting settlement")
    assert [(h["action"], h["from_state"], h["to_state"]) for h in detail["history"][-1:]] == [
        ("confirm", "redeemed", "delivered")
    ]
    await assert_books_balance(db)


async def test_the_redemption_list_filters_by_programme_and_state_and_keeps_to_its_limit(
    client: Client, world: World
) -> None:
    first = await (await redeem(client, world, price_fen=100_000)).json()
    second = await (await redeem(client, world, price_fen=100_000)).json()
    confirmed = await client.post(
        f"/api/v1/redemptions/{first['id']}/confirm", json=EVIDENCE, headers=world.agency.headers
    )
    assert confirmed.status == 200, await confirmed.text()
    program = world.program["id"]

    async def listed(query: str) -> list[int]:
        response = await client.get(f"/api/v1/redemptions?{query}", headers=world.official.headers)
        assert response.status == 200, await response.text()
        return [r["id"] for r in await response.json()]

    assert await listed("") == [second["id"], first["id"]]  # newest first
    assert await listed("state=pending") == [second["id"]]
    assert await listed("state=delivered") == [first["id"]]
    assert await listed(f"program_id={program}") == [second["id"], first["id"]]
    assert await listed(f"program_id={program + 1}") == []
    assert await listed("limit=1") == [second["id"]]


async def test_the_flag_list_filters_by_programme_and_status(client: Client, world: World) -> None:
    redemption = await (await redeem(client, world, price_fen=100_000)).json()
    confirmed = await client.post(
        f"/api/v1/redemptions/{redemption['id']}/confirm", json=EVIDENCE, headers=world.agency.headers
    )
    assert confirmed.status == 200, await confirmed.text()  # within minutes: flagged
    program = world.program["id"]

    async def listed(query: str) -> list[tuple[str, str]]:
        response = await client.get(f"/api/v1/voucher-flags?{query}", headers=world.official.headers)
        assert response.status == 200, await response.text()
        return [(f["kind"], f["status"]) for f in await response.json()]

    assert await listed("") == [("fast_confirmation", "open")]  # open ones by default
    assert await listed(f"program_id={program}") == [("fast_confirmation", "open")]
    assert await listed(f"program_id={program + 1}") == []
    assert await listed("status=approved") == []
    settled = await client.post(
        f"/api/v1/redemptions/{redemption['id']}/settle",
        json={"decision": "approve", "reason": "checked"},
        headers=world.official.headers,
    )
    assert settled.status == 200, await settled.text()
    assert await listed("") == []
    assert await listed("status=approved") == [("fast_confirmation", "approved")]


async def test_a_settlement_keeps_who_decided_and_when_resolves_the_flags_with_it_and_audits_the_decision(
    client: Client, world: World, db: Database
) -> None:
    from sqlalchemy import select

    from vouchers.models import VoucherFlag

    r = await (await redeem(client, world, price_fen=400_000)).json()
    response = await client.post(f"/api/v1/redemptions/{r['id']}/confirm", json=EVIDENCE, headers=world.agency.headers)
    assert response.status == 200, await response.text()  # within minutes: flagged
    reason = "contract and filing receipt checked"
    response = await client.post(
        f"/api/v1/redemptions/{r['id']}/settle",
        json={"decision": "approve", "reason": reason},
        headers=world.official.headers,
    )
    assert response.status == 200, await response.text()
    settled = await response.json()
    assert (settled["state"], settled["decision_reason"]) == ("settled", reason)
    assert settled["settled_at"] is not None
    # The answer carries the voucher as it is now: only part of it was spent.
    assert (settled["voucher_state"], settled["voucher_balance_fen"]) == ("partially_redeemed", 260_000)
    assert [(f["kind"], f["status"], f["resolved_by"], f["resolution_reason"]) for f in settled["flags"]] == [
        ("fast_confirmation", "approved", world.official.user_id, reason)
    ]
    async with db.transaction(write=False) as session:
        stored = await session.get(Redemption, r["id"])
        assert stored is not None
        assert stored.settled_by == world.official.user_id
        (flag,) = (await session.scalars(select(VoucherFlag).where(VoucherFlag.redemption_id == r["id"]))).all()
        # The flag is resolved at the very moment the redemption records as its settlement.
        assert flag.resolved_at is not None and flag.resolved_at == stored.settled_at

    detail = await (await client.get(f"/api/v1/vouchers/{world.voucher['id']}", headers=world.official.headers)).json()
    audit = detail["history"][-1]
    assert (audit["action"], audit["redemption_id"], audit["redemption_from"], audit["redemption_to"]) == (
        "settle",
        r["id"],
        "delivered",
        "settled",
    )
    assert (audit["amount_fen"], audit["balance_delta_fen"], audit["program_delta_fen"]) == (240_000, 0, 0)
    assert (audit["actor_user_id"], audit["actor_role"], audit["reason"]) == (
        world.official.user_id,
        "official",
        reason,
    )
    assert audit["at"] == settled["settled_at"]
    # The voucher is still partially redeemed: its state reason stays the last redemption's, not "every … decided".
    assert (detail["state"], detail["state_reason"]) == (
        "partially_redeemed",
        f"last used: 240000 fen of a 400000 fen invention at agency {world.agency_id}",
    )
    await assert_books_balance(db)


async def unbound_callers(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory
) -> tuple[Account, Who]:
    """Enterprise staff of no enterprise (a mini-program user not yet bound) and agency staff of no agency (a
    principal only the token cache can hold, as in tests/security)."""
    async with db.transaction() as session:
        user, _ = await find_or_create_wechat_user(session, openid="o-flow-unbound", unionid=None)
        enterprise = Account(user.id, "wx", "", Role.ENTERPRISE, (await issue_token(session, settings, user)).token)
    agency = await make_account(Role.AGENCY, agency_id=await make_agency(db))
    who = Who(agency.user_id, agency.username, agency.password, agency.token, Role.AGENCY)
    return enterprise, await unbound_agency_staff(client.app, who)


async def test_only_officials_see_a_redemptions_flags_in_the_list_and_the_detail(
    client: Client, world: World, db: Database, settings: Settings, make_account: AccountFactory
) -> None:
    flagged = await (await redeem(client, world, price_fen=100_000)).json()
    unflagged = await (await redeem(client, world, price_fen=100_000)).json()
    confirmed = await client.post(
        f"/api/v1/redemptions/{flagged['id']}/confirm", json=EVIDENCE, headers=world.agency.headers
    )
    assert confirmed.status == 200, await confirmed.text()  # within minutes: flagged
    flags = await (await client.get("/api/v1/voucher-flags", headers=world.official.headers)).json()
    assert [(f["kind"], f["redemption_id"]) for f in flags] == [("fast_confirmation", flagged["id"])]
    flag_id = flags[0]["id"]
    bound_elsewhere = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))
    unbound_enterprise, unbound_agency = await unbound_callers(client, db, settings, make_account)

    async def listed(headers: dict[str, str]) -> list[tuple[int, list[int]]]:
        response = await client.get("/api/v1/redemptions", headers=headers)
        assert response.status == 200, await response.text()
        return [(r["id"], [f["id"] for f in r["flags"]]) for r in await response.json()]

    async def shown(headers: dict[str, str]) -> list[int]:
        response = await client.get(f"/api/v1/redemptions/{flagged['id']}", headers=headers)
        assert response.status == 200, await response.text()
        body = await response.json()
        assert body["id"] == flagged["id"]
        return [f["id"] for f in body["flags"]]

    # The official sees each redemption with its own flags; its enterprise and agency see both, without them.
    assert await listed(world.official.headers) == [(unflagged["id"], []), (flagged["id"], [flag_id])]
    assert await listed(world.agency.headers) == [(unflagged["id"], []), (flagged["id"], [])]
    assert await listed(world.enterprise.headers) == [(unflagged["id"], []), (flagged["id"], [])]
    # Another enterprise, and staff of no enterprise or agency, see none.
    assert await listed(bound_elsewhere.headers) == []
    assert await listed(unbound_enterprise.headers) == []
    assert await listed(unbound_agency.headers) == []
    assert await shown(world.official.headers) == [flag_id]
    assert await shown(world.agency.headers) == []
    assert await shown(world.enterprise.headers) == []


async def test_a_redemption_that_is_not_theirs_is_refused_by_name_to_each_kind_of_caller(
    client: Client, world: World, db: Database, settings: Settings, make_account: AccountFactory
) -> None:
    redemption = await (await redeem(client, world, price_fen=100_000)).json()
    unbound_enterprise, unbound_agency = await unbound_callers(client, db, settings, make_account)
    callers: dict[str, tuple[Account | Who, str]] = {
        "another agency": (await make_account(Role.AGENCY, agency_id=await make_agency(db)), "not_your_agency"),
        "agency staff of none": (unbound_agency, "not_your_agency"),
        "another enterprise": (
            await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db)),
            "not_your_voucher",
        ),
        "enterprise staff of none": (unbound_enterprise, "not_your_voucher"),
    }
    for caller, (account, code) in callers.items():
        response = await client.get(f"/api/v1/redemptions/{redemption['id']}", headers=account.headers)
        assert response.status == 403, caller
        error = (await response.json())["error"]
        assert (error["code"], error["message"]) == (code, "this redemption is not yours to see"), caller
    outside = await make_account(Role.OFFICIAL, region_code="440300")
    response = await client.get(f"/api/v1/redemptions/{redemption['id']}", headers=outside.headers)
    assert response.status == 403
    error = (await response.json())["error"]
    assert (error["code"], error["message"]) == (
        "outside_jurisdiction",
        f"programme {world.program['id']} is in region 330100, outside your jurisdiction (440300)",
    )
    assert error["details"] == {"region_code": "330100", "your_region": "440300"}
    mine = await client.get(f"/api/v1/redemptions/{redemption['id']}", headers=world.enterprise.headers)
    assert mine.status == 200
    assert (await mine.json())["state"] == "pending"  # nothing changed by the refused reads
