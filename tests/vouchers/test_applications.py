"""Applications for a voucher (申领): a programme opens for applications, enterprise staff see whether they qualify
and apply once, an official (or first come first served) decides, the voucher is issued through the issuing path,
the decision is pushed and recorded."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update

from accounts.models import User
from accounts.service import find_or_create_wechat_user, issue_token, principal_for
from core.auth import Role
from core.db import Database, utcnow
from core.settings import Settings
from enterprises.models import Enterprise
from tests.conftest import Account, AccountFactory
from tests.vouchers.builders import Client, issue, make_enterprise, make_program
from vouchers import applications
from vouchers.ledger import check_ledger
from vouchers.models import ApplicationEvent, Voucher, VoucherApplication, VoucherAudit, VoucherProgram
from vouchers.schemas import ApplicationIn
from wechat import repository as wechat_repository
from wechat.models import PushOutbox

DOCUMENTS = ["营业执照", "专精特新认定证书"]
ATTACHED = [{"name": "营业执照", "reference": "file-001"}, {"name": "专精特新认定证书", "reference": "ZJTX-2026-1"}]


def window(review: str = "official", *, opens_in: dt.timedelta = -dt.timedelta(hours=1), **more: Any) -> dict[str, Any]:
    return {"open_at": (utcnow() + opens_in).isoformat(), "documents": DOCUMENTS, "review": review, **more}


async def open_program(client: Client, official: Account, review: str = "official", **overrides: Any) -> dict[str, Any]:
    return await make_program(client, official.headers, applications=window(review), **overrides)


async def apply(client: Client, who: Account, program_id: int, documents: Any = None, note: str = "") -> Any:
    body = {"documents": ATTACHED if documents is None else documents, "note": note}
    return await client.post(f"/api/v1/voucher-programs/{program_id}/applications", json=body, headers=who.headers)


async def decide(
    client: Client, official: Account, application_id: int, decision: str, reason: str | None = None
) -> Any:
    body: dict[str, Any] = {"decision": decision}
    if reason is not None:
        body["reason"] = reason
    return await client.post(
        f"/api/v1/voucher-applications/{application_id}/decision", json=body, headers=official.headers
    )


async def staff_of(make_account: AccountFactory, db: Database, **enterprise: Any) -> Account:
    return await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db, **enterprise))


async def application_rows(db: Database) -> list[VoucherApplication]:
    async with db.transaction(write=False) as session:
        return list((await session.scalars(select(VoucherApplication).order_by(VoucherApplication.id))).all())


async def committed(db: Database, program_id: int) -> tuple[int, int]:
    async with db.transaction(write=False) as session:
        program = await session.get(VoucherProgram, program_id)
        assert program is not None
        return program.committed_fen, program.budget_fen


async def test_an_enterprise_applies_an_official_approves_and_the_voucher_is_issued_audited_and_pushed(
    client: Client, db: Database, make_account: AccountFactory, settings: Settings
) -> None:
    official = await make_account(Role.OFFICIAL)
    staff = await staff_of(make_account, db)
    async with db.transaction() as session:  # the staff member uses WeChat and allowed the decision's message
        await session.execute(update(User).where(User.id == staff.user_id).values(wechat_openid="o-applicant-1"))
        await wechat_repository.grant_consent(session, staff.user_id, settings.wechat_template_application_decided)
    program = await open_program(client, official)
    assert program["applications"]["accepting"] is True
    assert program["applications"]["documents"] == DOCUMENTS

    listed = await (await client.get("/api/v1/me/voucher-programs", headers=staff.headers)).json()
    [seen] = [p for p in listed if p["id"] == program["id"]]
    assert (seen["qualifies"], seen["can_apply"], seen["reasons"], seen["my_application"]) == (True, True, [], None)

    response = await apply(client, staff, program["id"], note="首次申领")
    assert response.status == 201, await response.text()
    application = await response.json()
    assert application["state"] == "submitted"
    assert application["documents"] == ATTACHED
    assert application["voucher_id"] is None

    detail = await (
        await client.get(f"/api/v1/voucher-applications/{application['id']}", headers=official.headers)
    ).json()
    assert detail["applicant"]["qualification_today"] == "national_little_giant"
    assert detail["applicant"]["earlier_vouchers"] == []
    assert detail["problems"] == []

    response = await decide(client, official, application["id"], "approve", "材料齐全")
    assert response.status == 200, await response.text()
    approved = await response.json()
    assert approved["state"] == "approved"
    assert approved["decision_reason"] == "材料齐全"
    assert [(h["from_state"], h["to_state"]) for h in approved["history"]] == [
        (None, "submitted"),
        ("submitted", "approved"),
    ]

    mine = await (await client.get("/api/v1/me/vouchers", headers=staff.headers)).json()
    assert [v["id"] for v in mine] == [approved["voucher_id"]]
    assert mine[0]["face_value_fen"] == program["face_value_fen"]
    voucher = await (await client.get(f"/api/v1/vouchers/{approved['voucher_id']}", headers=staff.headers)).json()
    [issued] = voucher["history"]
    assert issued["action"] == "issue"
    assert issued["actor_user_id"] == official.user_id
    assert f"application {application['id']} approved" in issued["reason"] and "材料齐全" in issued["reason"]

    async with db.transaction(write=False) as session:
        pushes = (
            await session.scalars(
                select(PushOutbox).where(PushOutbox.template_id == settings.wechat_template_application_decided)
            )
        ).all()
        assert [(p.openid, p.subject) for p in pushes] == [("o-applicant-1", f"application:{application['id']}")]
        assert "已通过" in pushes[0].data
        assert list(await check_ledger(session)) == []

    listed = await (await client.get("/api/v1/me/voucher-programs", headers=staff.headers)).json()
    [seen] = [p for p in listed if p["id"] == program["id"]]
    assert seen["my_application"]["state"] == "approved"
    assert seen["can_apply"] is False
    assert [r["code"] for r in seen["reasons"]] == ["already_holds"]


async def test_submitting_again_is_the_same_application_and_a_different_one_is_refused(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    staff = await staff_of(make_account, db)
    program = await open_program(client, official)
    first = await apply(client, staff, program["id"], note="a")
    again = await apply(client, staff, program["id"], note="a")
    assert (first.status, again.status) == (201, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await again.json())["id"] == (await first.json())["id"]

    other = await apply(client, staff, program["id"], note="something else")
    assert other.status == 409
    error = (await other.json())["error"]
    assert error["code"] == "already_applied"
    assert error["details"] == {"application_id": (await first.json())["id"], "state": "submitted"}
    assert len(await application_rows(db)) == 1


async def test_missing_or_unknown_documents_are_refused_naming_the_field_and_nothing_is_stored(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    staff = await staff_of(make_account, db)
    program = await open_program(client, official)
    cases = [
        (ATTACHED[:1], "documents"),
        ([*ATTACHED, {"name": "审计报告", "reference": "x"}], "documents.2.name"),
        ([ATTACHED[0], ATTACHED[0], ATTACHED[1]], "documents.1.name"),
        ([{"name": "营业执照", "reference": ""}, ATTACHED[1]], "documents.0.reference"),
    ]
    for documents, field in cases:
        response = await apply(client, staff, program["id"], documents=documents)
        assert response.status == 422, await response.text()
        error = (await response.json())["error"]
        assert error["code"] == "validation_error"
        assert field in [d["field"] for d in error["details"]], error
    assert await application_rows(db) == []


async def test_an_enterprise_is_told_why_it_does_not_qualify_and_cannot_apply(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    program = await open_program(client, official, per_enterprise_year_cap_fen=500_000)
    elsewhere = await staff_of(make_account, db, region_code="310101", qualification="none")
    holder = await staff_of(make_account, db)  # receives a voucher from the programme directly, then applies too
    holder_enterprise = (await (await client.get("/api/v1/me/enterprise", headers=holder.headers)).json())["id"]
    await issue(client, official.headers, program["id"], holder_enterprise)

    for who, codes in ((elsewhere, ["region", "qualification"]), (holder, ["year_cap", "already_holds"])):
        listed = await (await client.get("/api/v1/me/voucher-programs", headers=who.headers)).json()
        [seen] = [p for p in listed if p["id"] == program["id"]]
        assert (seen["qualifies"], seen["can_apply"]) == (False, False)
        assert [r["code"] for r in seen["reasons"]] == codes
        response = await apply(client, who, program["id"])
        assert response.status == 422
        error = (await response.json())["error"]
        assert error["code"] == "not_eligible"
        assert [d["code"] for d in error["details"]] == codes
    assert await application_rows(db) == []


async def test_applications_are_taken_only_between_opening_and_closing(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    staff = await staff_of(make_account, db)
    later = await make_program(
        client, official.headers, applications=window(opens_in=dt.timedelta(days=2), close_at=None)
    )
    response = await apply(client, staff, later["id"])
    assert response.status == 409
    error = (await response.json())["error"]
    assert (error["code"], error["details"]["reason"]) == ("applications_closed", "not_open_yet")
    listed = await (await client.get("/api/v1/me/voucher-programs", headers=staff.headers)).json()
    [seen] = [p for p in listed if p["id"] == later["id"]]
    assert (seen["qualifies"], seen["can_apply"], [r["code"] for r in seen["reasons"]]) == (
        True,
        False,
        ["not_open_yet"],
    )

    plain = await make_program(client, official.headers)  # takes no applications: officials issue
    assert plain["applications"] is None
    response = await apply(client, staff, plain["id"])
    assert (response.status, (await response.json())["error"]["code"]) == (409, "applications_closed")

    # Closing: an official moves the window into the past.
    now = utcnow()
    settings = {
        "open_at": (now - dt.timedelta(days=2)).isoformat(),
        "close_at": (now - dt.timedelta(days=1)).isoformat(),
        "documents": [],
    }
    response = await client.put(
        f"/api/v1/voucher-programs/{later['id']}/applications", json=settings, headers=official.headers
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["applications"]["accepting"] is False
    response = await apply(client, staff, later["id"], documents=[])
    assert (response.status, (await response.json())["error"]["details"]["reason"]) == (409, "closed")
    assert await application_rows(db) == []


async def test_bad_application_settings_are_refused_naming_the_field(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    program = await make_program(client, official.headers)
    now = utcnow()
    bad = [
        ({"open_at": now.isoformat(), "close_at": (now - dt.timedelta(hours=1)).isoformat()}, "close_at"),
        ({"open_at": now.isoformat(), "review": "lottery"}, "review"),
        ({"open_at": now.isoformat(), "documents": ["a", "a"]}, "documents"),
        ({"open_at": (now + dt.timedelta(days=400)).isoformat()}, "applications"),
        ({"close_at": now.isoformat()}, "open_at"),
    ]
    for body, field in bad:
        response = await client.put(
            f"/api/v1/voucher-programs/{program['id']}/applications", json=body, headers=official.headers
        )
        assert response.status == 422, (body, await response.text())
        error = (await response.json())["error"]
        assert field in [d.get("field") for d in error["details"]], error
    async with db.transaction(write=False) as session:
        row = await session.get(VoucherProgram, program["id"])
        assert row is not None and row.applications_open_at is None


async def test_rejecting_and_waitlisting_need_a_reason_and_a_decided_application_stays_decided(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    staff = await staff_of(make_account, db)
    program = await open_program(client, official)
    application = await (await apply(client, staff, program["id"])).json()

    for decision in ("reject", "waitlist"):
        response = await decide(client, official, application["id"], decision)
        assert response.status == 422
        assert (await response.json())["error"]["details"][0]["message"].endswith(f"a reason is required to {decision}")

    response = await decide(client, official, application["id"], "waitlist", "预算待追加")
    assert (await response.json())["state"] == "waitlisted"
    response = await decide(client, official, application["id"], "reject", "证书已过期，请更新后再申请")
    rejected = await response.json()
    assert (rejected["state"], rejected["decision_reason"]) == ("rejected", "证书已过期，请更新后再申请")

    response = await decide(client, official, application["id"], "approve")
    assert response.status == 409
    error = (await response.json())["error"]
    assert (error["code"], error["details"]["state"]) == ("application_decided", "rejected")
    assert (await committed(db, program["id"]))[0] == 0

    own = await (await client.get("/api/v1/voucher-applications", headers=staff.headers)).json()
    assert [(a["id"], a["state"], a["decision_reason"]) for a in own["items"]] == [
        (application["id"], "rejected", "证书已过期，请更新后再申请")
    ]


async def test_first_come_first_served_approves_while_the_budget_lasts_then_waitlists(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    program = await open_program(client, official, "fcfs", budget_fen=1_000_000, face_value_fen=500_000)
    staff = [await staff_of(make_account, db) for _ in range(3)]
    answers = [await (await apply(client, s, program["id"])).json() for s in staff]
    assert [a["state"] for a in answers] == ["approved", "approved", "waitlisted"]
    assert answers[2]["voucher_id"] is None
    assert "budget" in answers[2]["decision_reason"]
    assert await committed(db, program["id"]) == (1_000_000, 1_000_000)

    async with db.transaction(write=False) as session:
        audit = await session.scalar(select(VoucherAudit).where(VoucherAudit.voucher_id == answers[0]["voucher_id"]))
        assert audit is not None
        assert (audit.action, audit.actor_role, audit.actor_user_id) == ("issue", "system", None)
        assert f"application {answers[0]['id']} approved automatically" in audit.reason

    # A voucher is revoked: its money is back in the budget, and an official approves the waitlisted applicant.
    response = await client.post(
        f"/api/v1/vouchers/{answers[0]['voucher_id']}/revoke", json={"reason": "资格撤销"}, headers=official.headers
    )
    assert response.status == 200
    response = await decide(client, official, answers[2]["id"], "approve")
    assert response.status == 200, await response.text()
    assert (await response.json())["state"] == "approved"
    assert await committed(db, program["id"]) == (1_000_000, 1_000_000)
    async with db.transaction(write=False) as session:
        assert list(await check_ledger(session)) == []


async def test_approving_an_enterprise_that_no_longer_qualifies_is_refused_and_issues_nothing(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    """Eligibility is checked again when the voucher is issued: a qualification lost after applying refuses the
    approval (422 `not_eligible`, saying why) and the application waits as it was."""
    official = await make_account(Role.OFFICIAL)
    enterprise_id = await make_enterprise(db)
    staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id)
    program = await open_program(client, official)
    application = await (await apply(client, staff, program["id"])).json()
    async with db.transaction() as session:
        await session.execute(update(Enterprise).where(Enterprise.id == enterprise_id).values(qualification="none"))

    response = await decide(client, official, application["id"], "approve")
    assert response.status == 422, await response.text()
    error = (await response.json())["error"]
    why = "enterprise qualification is none; needs provincial_specialized"
    assert (error["code"], error["message"]) == ("not_eligible", f"{why}; nothing was issued")
    assert error["details"] == [{"field": "enterprise_id", "message": why}]
    assert [(a.id, a.state, a.voucher_id) for a in await application_rows(db)] == [
        (application["id"], "submitted", None)
    ]
    assert (await committed(db, program["id"]))[0] == 0


async def test_approving_past_the_yearly_cap_is_refused_naming_the_enterprise_the_year_and_the_amounts(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    """An official's approval is held to the programme's yearly cap per enterprise: a voucher issued to the
    enterprise after it applied leaves no room, and the approval is refused with what it would have received."""
    official = await make_account(Role.OFFICIAL)
    enterprise_id = await make_enterprise(db)
    staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id)
    program = await open_program(client, official, face_value_fen=500_000, per_enterprise_year_cap_fen=500_000)
    application = await (await apply(client, staff, program["id"])).json()
    await issue(client, official.headers, program["id"], enterprise_id)

    response = await decide(client, official, application["id"], "approve")
    assert response.status == 409, await response.text()
    error = (await response.json())["error"]
    assert error["code"] == "enterprise_cap_exceeded"
    assert error["message"] == (
        f"enterprise {enterprise_id} would receive 1000000 fen from this programme in {utcnow().year}; "
        "the cap is 500000 fen"
    )
    assert error["details"] == {
        "enterprise_id": enterprise_id,
        "already_fen": 500_000,
        "requested_fen": 500_000,
        "cap_fen": 500_000,
    }
    assert [(a.state, a.voucher_id) for a in await application_rows(db)] == [("submitted", None)]
    assert await committed(db, program["id"]) == (500_000, program["budget_fen"])


async def test_bulk_decisions_decide_each_one_they_can_and_say_why_not_for_the_others(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    program = await open_program(client, official, budget_fen=1_000_000, face_value_fen=500_000)
    staff = [await staff_of(make_account, db) for _ in range(4)]
    ids = [(await (await apply(client, s, program["id"])).json())["id"] for s in staff]

    response = await client.post(
        "/api/v1/voucher-applications/decisions",
        json={"application_ids": ids[:3], "decision": "approve", "reason": "批量审核通过"},
        headers=official.headers,
    )
    assert response.status == 200, await response.text()
    result = await response.json()
    assert (result["decided"], result["failed"]) == (2, 1)
    assert [(r["application_id"], r["ok"], r["state"]) for r in result["results"]] == [
        (ids[0], True, "approved"),
        (ids[1], True, "approved"),
        (ids[2], False, "submitted"),
    ]
    assert result["results"][2]["error"]["code"] == "budget_exceeded"
    assert result["remaining_budget_fen"] == {str(program["id"]): 0}

    response = await client.post(
        "/api/v1/voucher-applications/decisions",
        json={"application_ids": [ids[2], ids[3], ids[0], 999_999], "decision": "reject", "reason": "预算已用完"},
        headers=official.headers,
    )
    result = await response.json()
    assert [(r["application_id"], r["ok"], r["state"]) for r in result["results"]] == [
        (ids[2], True, "rejected"),
        (ids[3], True, "rejected"),
        (ids[0], False, "approved"),
        (999_999, False, None),
    ]
    assert [r["error"]["code"] for r in result["results"] if not r["ok"]] == [
        "application_decided",
        "application_not_found",
    ]
    listed = await (
        await client.get(
            "/api/v1/voucher-applications",
            params={"program_id": program["id"], "state": "rejected"},
            headers=official.headers,
        )
    ).json()
    assert {a["id"] for a in listed["items"]} == {ids[2], ids[3]}
    assert listed["total"] == 2


async def test_the_list_filters_and_who_sees_which_applications(
    client: Client, db: Database, make_account: AccountFactory, settings: Settings
) -> None:
    official = await make_account(Role.OFFICIAL)
    program = await open_program(client, official, region_code="330000")
    hangzhou = await staff_of(make_account, db, region_code="330106")
    ningbo = await staff_of(make_account, db, region_code="330203")
    async with db.transaction() as session:  # a mini-program user bound to no enterprise yet
        user, _ = await find_or_create_wechat_user(session, openid="o-applications-unbound", unionid=None)
        unbound = Account(user.id, "wx", "", Role.ENTERPRISE, (await issue_token(session, settings, user)).token)
    a = await (await apply(client, hangzhou, program["id"])).json()
    b = await (await apply(client, ningbo, program["id"])).json()

    async def ids(who: Account, **params: Any) -> set[int]:
        response = await client.get("/api/v1/voucher-applications", params=params, headers=who.headers)
        assert response.status == 200, await response.text()
        return {item["id"] for item in (await response.json())["items"]}

    assert await ids(official) == {a["id"], b["id"]}
    assert await ids(official, region="330200") == {b["id"]}
    assert await ids(official, q=b["enterprise_name"][-6:]) == {b["id"]}
    assert await ids(official, state="approved") == set()
    assert await ids(hangzhou) == {a["id"]}
    assert await ids(ningbo) == {b["id"]}
    response = await client.get("/api/v1/voucher-applications", headers=unbound.headers)
    assert (await response.json())["items"] == []

    response = await client.get(f"/api/v1/voucher-applications/{a['id']}", headers=ningbo.headers)
    assert (response.status, (await response.json())["error"]["code"]) == (403, "not_your_application")
    response = await client.get("/api/v1/me/voucher-programs", headers=unbound.headers)
    assert (response.status, (await response.json())["error"]["code"]) == (403, "not_your_voucher")
    response = await apply(client, unbound, program["id"])
    assert (response.status, (await response.json())["error"]["code"]) == (403, "not_your_voucher")
    response = await client.get("/api/v1/voucher-applications?limit=0", headers=official.headers)
    assert response.status == 422


async def test_one_first_come_batch_decides_every_waiting_application_in_order_against_the_budget_and_the_caps(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    """Applications that committed while another batch held the lock are decided together, in id order, by the next
    batch: approved while the budget lasts, rejected when the yearly cap was reached meanwhile, waitlisted after."""
    official = await make_account(Role.OFFICIAL)
    program = await open_program(
        client, official, "fcfs", budget_fen=1_500_000, face_value_fen=500_000, per_enterprise_year_cap_fen=500_000
    )
    staff = [await staff_of(make_account, db) for _ in range(4)]
    waiting: list[applications.Submitted] = []
    for who in staff:  # submitted and committed, not yet decided (as when the lock is busy)
        async with db.transaction() as session:
            user = await session.get(User, who.user_id)
            assert user is not None
            submitted = await applications.submit(
                session, principal_for(user), program["id"], ApplicationIn.model_validate({"documents": ATTACHED})
            )
            assert submitted.awaits_decision
            waiting.append(submitted)
    second = waiting[1].application.enterprise_id
    await issue(client, official.headers, program["id"], second)  # the second applicant reaches the yearly cap
    ids = [w.application.id for w in waiting]

    async with db.transaction() as session:  # the first applicant's request decides the whole batch...
        decisions, batch = await applications.decide_first_come(session, program["id"], ids[:1])
    assert batch == 4 and list(decisions) == ids[:1] and decisions[ids[0]].state == "approved"
    assert decisions[ids[0]].applied_to(waiting[0]).application.state == "approved"

    rows = await application_rows(db)
    assert [r.state for r in rows] == ["approved", "rejected", "approved", "waitlisted"]
    assert "cap" in rows[1].decision_reason and "budget" in rows[3].decision_reason
    assert rows[1].decision_reason == (
        f"enterprise {second} would receive 1000000 fen from this programme in {utcnow().year}; the cap is 500000 fen"
    )
    assert rows[0].voucher_id is not None and rows[2].voucher_id is not None
    assert rows[0].voucher_id != rows[2].voucher_id and rows[1].voucher_id is None
    assert await committed(db, program["id"]) == (1_500_000, 1_500_000)
    async with db.transaction(write=False) as session:
        for row in (rows[0], rows[2]):
            audit = await session.scalar(select(VoucherAudit).where(VoucherAudit.voucher_id == row.voucher_id))
            assert audit is not None and f"application {row.id} approved automatically" in audit.reason
            voucher = await session.get(Voucher, row.voucher_id)  # issued at the moment of its decision
            assert voucher is not None and voucher.issued_at == row.decided_at
        events = (await session.scalars(select(ApplicationEvent.to_state).order_by(ApplicationEvent.id))).all()
        assert sorted(events) == sorted(["submitted"] * 4 + ["approved", "rejected", "approved", "waitlisted"])
        assert list(await check_ledger(session)) == []

    # ...and a request whose application an earlier batch decided finds its decision without deciding again.
    async with db.transaction() as session:
        decisions, batch = await applications.decide_first_come(session, program["id"], ids[2:])
    assert batch == 0 and {i: d.state for i, d in decisions.items()} == {ids[2]: "approved", ids[3]: "waitlisted"}
    assert "budget" in decisions[ids[3]].decision_reason and decisions[ids[2]].voucher_id == rows[2].voucher_id
    assert await committed(db, program["id"]) == (1_500_000, 1_500_000)
    assert [r.state for r in await application_rows(db)] == ["approved", "rejected", "approved", "waitlisted"]
