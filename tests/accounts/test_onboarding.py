"""Onboarding: enterprise staff bind to their enterprise (or register it), administrators and officials decide;
agency staff join by a one-time invitation; administrators manage officials; everyone changes their password; all of
it in the account audit."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update

from accounts.models import AccountAudit, AgencyInvitation, EnterpriseMembership, User
from accounts.service import find_or_create_wechat_user, issue_token
from core.auth import Role
from core.credit_code import make_credit_code
from core.db import Database
from core.events import EventBus, MembershipDecided
from core.settings import Settings
from enterprises.models import Enterprise
from tests.conftest import AccountFactory
from tests.support.world import create_agency, create_enterprise, expect

Client = TestClient[Any, Any]
PASSWORD = "correct-horse-battery"


async def wechat_user(db: Database, settings: Settings, openid: str) -> dict[str, str]:
    """A new mini-program user, as wechat-login makes one: enterprise role, bound to nothing."""
    async with db.transaction() as session:
        user, _ = await find_or_create_wechat_user(session, openid=openid, unionid=None)
        issued = await issue_token(session, settings, user, client="wechat")
    return {"Authorization": f"Bearer {issued.token}"}


def binding(code: str, name: str = "王小明", **extra: Any) -> dict[str, Any]:
    return {"credit_code": code, "person_name": name, "phone": "13800138000", **extra}


async def credit_code_of(client: Client, official: Any, enterprise_id: int) -> str:
    body = await expect(await client.get(f"/api/v1/enterprises/{enterprise_id}", headers=official.headers), 200)
    return str(body["credit_code"])


async def count(db: Database, model: Any) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def audit_actions(db: Database) -> list[str]:
    async with db.transaction() as session:
        return list((await session.scalars(select(AccountAudit.action).order_by(AccountAudit.id))).all())


# ---------------------------------------------------------------- enterprise staff


async def test_a_new_wechat_user_binds_to_a_registered_enterprise_and_is_approved(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory, event_bus: EventBus
) -> None:
    told: list[MembershipDecided] = []

    async def hear(_session: Any, event: MembershipDecided) -> None:
        told.append(event)

    event_bus.subscribe(MembershipDecided, hear)
    official = await make_account(Role.OFFICIAL, region_code="330100")
    enterprise_id = await create_enterprise(client, official)
    code = await credit_code_of(client, official, enterprise_id)
    first = await wechat_user(db, settings, "o-first")
    newcomer = await wechat_user(db, settings, "o-newcomer")

    # Until approved, only public data: no enterprise, no vouchers.
    asked = await expect(await client.post("/api/v1/me/enterprise-binding", json=binding(code), headers=first), 201)
    assert asked["status"] == "pending" and asked["enterprise_id"] == enterprise_id
    refused = await client.get("/api/v1/me/enterprise", headers=first)
    assert (refused.status, (await refused.json())["error"]["code"]) == (403, "not_your_enterprise")
    assert (await client.get("/api/v1/me/vouchers", headers=first)).status == 403
    assert (await expect(await client.get("/api/v1/me/enterprise-binding", headers=first), 200))["status"] == "pending"

    # An official of the region approves the first staff member, who becomes the enterprise's administrator.
    path = f"/api/v1/enterprise-memberships/{asked['id']}/approve"
    approved = await expect(await client.post(path, json={}, headers=official.headers), 200)
    assert approved["status"] == "approved" and approved["is_admin"] is True
    me = await expect(await client.get("/api/v1/me", headers=first), 200)
    assert (me["enterprise_id"], me["is_admin"]) == (enterprise_id, True)  # at once: the cached principal is dropped
    await expect(await client.get("/api/v1/me/enterprise", headers=first), 200)

    # The administrator sees and approves the next request; the newcomer is staff, not administrator.
    second = await expect(
        await client.post("/api/v1/me/enterprise-binding", json=binding(code, "李小红"), headers=newcomer), 201
    )
    staff = await expect(await client.get("/api/v1/enterprise-memberships?status=pending", headers=first), 200)
    assert [m["id"] for m in staff["items"]] == [second["id"]]
    path = f"/api/v1/enterprise-memberships/{second['id']}/approve"
    assert (await expect(await client.post(path, json={}, headers=first), 200))["is_admin"] is False
    assert (await expect(await client.get("/api/v1/me", headers=newcomer), 200))["enterprise_id"] == enterprise_id
    # A staff member who is no administrator manages nobody.
    denied = await client.get("/api/v1/enterprise-memberships", headers=newcomer)
    assert (denied.status, (await denied.json())["error"]["code"]) == (403, "not_administrator")

    # The administrator removes them: the account belongs to no enterprise again, at once.
    path = f"/api/v1/enterprise-memberships/{second['id']}/remove"
    removed = await expect(await client.post(path, json={"reason": "left the company"}, headers=first), 200)
    assert removed["status"] == "removed"
    assert (await expect(await client.get("/api/v1/me", headers=newcomer), 200))["enterprise_id"] is None
    assert [e.outcome for e in told] == ["approved", "approved", "removed"]
    assert await audit_actions(db) == [
        "binding_requested",
        "binding_approved",
        "binding_requested",
        "binding_approved",
        "staff_removed",
    ]
    log = await expect(await client.get("/api/v1/account-audit", headers=official.headers), 200)
    assert {row["action"] for row in log["items"]} >= {"binding_requested", "binding_approved", "staff_removed"}


async def test_an_unregistered_enterprise_is_registered_and_waits_for_an_official(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory
) -> None:
    hangzhou = await make_account(Role.OFFICIAL, region_code="330100")
    ningbo = await make_account(Role.OFFICIAL, region_code="330200")
    registrant = await wechat_user(db, settings, "o-registrant")
    code = make_credit_code("91330106MA2NEW001")

    # Without the enterprise's details: a clear refusal naming the field, and nothing stored.
    missing = await client.post("/api/v1/me/enterprise-binding", json=binding(code), headers=registrant)
    body = await missing.json()
    assert (missing.status, body["error"]["code"]) == (422, "enterprise_not_registered")
    assert body["error"]["details"] == {"field": "enterprise"}
    assert await count(db, Enterprise) == 0 and await count(db, EnterpriseMembership) == 0

    details = {"name": "杭州新创科技有限公司", "region_code": "330106", "industry": "software"}
    asked = await expect(
        await client.post("/api/v1/me/enterprise-binding", json=binding(code, enterprise=details), headers=registrant),
        201,
    )
    assert (asked["enterprise_verification"], asked["registered_enterprise"]) == ("pending", True)
    pending = await expect(await client.get("/api/v1/enterprises?verification=pending", headers=hangzhou.headers), 200)
    assert [e["id"] for e in pending["items"]] == [asked["enterprise_id"]]

    # Approving the binding alone is not enough: the enterprise is verified first.
    path = f"/api/v1/enterprise-memberships/{asked['id']}/approve"
    early = await client.post(path, json={}, headers=hangzhou.headers)
    assert (early.status, (await early.json())["error"]["code"]) == (409, "enterprise_not_verified")
    # Ningbo's official cannot verify a Hangzhou enterprise.
    verify = f"/api/v1/enterprises/{asked['enterprise_id']}/verification"
    outside = await client.post(verify, json={"decision": "verified"}, headers=ningbo.headers)
    assert (outside.status, (await outside.json())["error"]["code"]) == (403, "outside_jurisdiction")
    done = await expect(await client.post(verify, json={"decision": "verified"}, headers=hangzhou.headers), 200)
    assert done["verification"] == "verified"
    assert [(m["status"], m["is_admin"]) for m in done["memberships"]] == [("approved", True)]
    me = await expect(await client.get("/api/v1/me", headers=registrant), 200)
    assert me["enterprise_id"] == asked["enterprise_id"]
    assert await audit_actions(db) == [
        "enterprise_registered",
        "binding_requested",
        "enterprise_verified",
        "binding_approved",
    ]


async def test_a_rejected_registration_rejects_its_binding_with_the_reason(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL, region_code="330000")
    registrant = await wechat_user(db, settings, "o-rejected")
    details = {"name": "查无此公司", "region_code": "330106"}
    code = make_credit_code("91330106MA2NEW002")
    asked = await expect(
        await client.post("/api/v1/me/enterprise-binding", json=binding(code, enterprise=details), headers=registrant),
        201,
    )
    verify = f"/api/v1/enterprises/{asked['enterprise_id']}/verification"
    no_reason = await client.post(verify, json={"decision": "rejected"}, headers=official.headers)
    assert (no_reason.status, (await no_reason.json())["error"]["details"][0]["field"]) == (422, "reason")
    reason = "营业执照信息不符"
    await expect(
        await client.post(verify, json={"decision": "rejected", "reason": reason}, headers=official.headers), 200
    )
    mine = await expect(await client.get("/api/v1/me/enterprise-binding", headers=registrant), 200)
    assert (mine["status"], mine["reason"]) == ("rejected", reason)
    assert (await expect(await client.get("/api/v1/me", headers=registrant), 200))["enterprise_id"] is None
    assert await audit_actions(db) == [
        "enterprise_registered",
        "binding_requested",
        "enterprise_rejected",
        "binding_rejected",
    ]


async def test_bad_binding_input_is_refused_clearly_and_changes_nothing(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    enterprise_id = await create_enterprise(client, official)
    code = await credit_code_of(client, official, enterprise_id)
    user = await wechat_user(db, settings, "o-typo")
    wrong_check = code[:17] + ("0" if code[17] != "0" else "1")
    cases = [
        (binding(wrong_check), "credit_code"),
        (binding("91330106"), "credit_code"),
        (binding(code, phone="call me"), "phone"),
        (binding(code, name=""), "person_name"),
        ({"credit_code": code, "person_name": "王"}, "phone"),
        (binding(code, enterprise={"name": "x", "region_code": "330106"}), "enterprise"),
    ]
    for body, field in cases:
        response = await client.post("/api/v1/me/enterprise-binding", json=body, headers=user)
        error = (await response.json())["error"]
        assert response.status == 422, (body, error)
        named = error.get("details")
        fields = [d.get("field") for d in named] if isinstance(named, list) else [named.get("field")]
        assert any(str(f).endswith(field) for f in fields), (field, error)
    assert await count(db, EnterpriseMembership) == 0 and await audit_actions(db) == []


async def test_one_open_binding_per_user_even_when_requests_race(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    codes = [await credit_code_of(client, official, await create_enterprise(client, official)) for _ in range(2)]
    user = await wechat_user(db, settings, "o-racer")
    responses = await asyncio.gather(
        *(client.post("/api/v1/me/enterprise-binding", json=binding(c), headers=user) for c in codes * 3)
    )
    statuses = sorted(r.status for r in responses)
    assert statuses == [201, 409, 409, 409, 409, 409]
    for response in responses:
        if response.status == 409:
            assert (await response.json())["error"]["code"] == "already_bound"
    assert await count(db, EnterpriseMembership) == 1


# ---------------------------------------------------------------- agency staff


async def test_an_invited_clerk_accepts_once_with_a_password(client: Client, make_account: AccountFactory) -> None:
    official = await make_account(Role.OFFICIAL, region_code="330100")
    agency_id = await create_agency(client, official)
    invited = await expect(
        await client.post(
            f"/api/v1/agencies/{agency_id}/invitations", json={"invitee_name": "赵六"}, headers=official.headers
        ),
        201,
    )
    assert invited["state"] == "open" and invited["link"].endswith(invited["code"])
    anonymous_without_password = await client.post("/api/v1/invitations/accept", json={"code": invited["code"]})
    assert (await anonymous_without_password.json())["error"]["details"][0]["field"] == "username"
    accept = {"code": invited["code"], "username": "zhao_clerk", "password": PASSWORD}
    joined = await expect(await client.post("/api/v1/invitations/accept", json=accept), 200)
    assert (joined["user"]["role"], joined["user"]["agency_id"], joined["user"]["is_admin"]) == (
        "agency",
        agency_id,
        True,
    )
    assert joined["user"]["display_name"] == "赵六"
    # The token works, and so does the password.
    staff = {"Authorization": f"Bearer {joined['token']}"}
    await expect(await client.get(f"/api/v1/agencies/{agency_id}/credit-events", headers=staff), 200)
    await expect(await client.post("/api/v1/auth/login", json={"username": "zhao_clerk", "password": PASSWORD}), 200)
    # Once only.
    again = await client.post("/api/v1/invitations/accept", json={**accept, "username": "someone_else"})
    assert (again.status, (await again.json())["error"]["code"]) == (409, "invitation_invalid")
    # The administrator invites the next one, who is staff but not administrator.
    second = await expect(await client.post(f"/api/v1/agencies/{agency_id}/invitations", json={}, headers=staff), 201)
    later = {"code": second["code"], "username": "second_clerk", "password": PASSWORD}
    assert (await expect(await client.post("/api/v1/invitations/accept", json=later), 200))["user"]["is_admin"] is False
    listed = await expect(await client.get(f"/api/v1/agencies/{agency_id}/invitations", headers=staff), 200)
    assert sorted(i["state"] for i in listed) == ["accepted", "accepted"]
    assert all("code" not in i for i in listed)


async def test_a_wechat_user_accepts_an_invitation_and_becomes_agency_staff(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    agency_id = await create_agency(client, official)
    path = f"/api/v1/agencies/{agency_id}/invitations"
    invited = await expect(await client.post(path, json={}, headers=official.headers), 201)
    user = await wechat_user(db, settings, "o-clerk")
    joined = await expect(
        await client.post("/api/v1/invitations/accept", json={"code": invited["code"]}, headers=user), 200
    )
    assert joined["token"] is None
    me = await expect(await client.get("/api/v1/me", headers=user), 200)  # the same token, the new role at once
    assert (me["role"], me["agency_id"]) == ("agency", agency_id)


async def test_expired_withdrawn_and_unknown_codes_are_refused_alike(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    agency_id = await create_agency(client, official)
    path = f"/api/v1/agencies/{agency_id}/invitations"
    expired = await expect(await client.post(path, json={}, headers=official.headers), 201)
    withdrawn = await expect(await client.post(path, json={}, headers=official.headers), 201)
    async with db.transaction() as session:
        await session.execute(
            update(AgencyInvitation)
            .where(AgencyInvitation.id == expired["id"])
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
        )
    await expect(await client.post(f"{path}/{withdrawn['id']}/revoke", json={}, headers=official.headers), 200)
    for code in (expired["code"], withdrawn["code"], "not-a-real-invitation-code"):
        body = {"code": code, "username": "hopeful", "password": PASSWORD}
        response = await client.post("/api/v1/invitations/accept", json=body)
        assert (response.status, (await response.json())["error"]["code"]) == (409, "invitation_invalid")
    async with db.transaction() as session:
        assert await session.scalar(select(User.id).where(User.username == "hopeful")) is None


async def test_two_people_racing_for_one_code_one_joins(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    agency_id = await create_agency(client, official)
    invited = await expect(
        await client.post(f"/api/v1/agencies/{agency_id}/invitations", json={}, headers=official.headers), 201
    )
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/v1/invitations/accept",
                json={"code": invited["code"], "username": f"racer{n}", "password": PASSWORD},
            )
            for n in range(6)
        )
    )
    assert sorted(r.status for r in responses) == [200, 409, 409, 409, 409, 409]
    async with db.transaction() as session:
        joined = await session.scalar(select(func.count()).select_from(User).where(User.agency_id == agency_id))
    assert joined == 1


# ---------------------------------------------------------------- officials and passwords


async def test_an_administrator_manages_the_officials_of_their_region(
    client: Client, make_account: AccountFactory
) -> None:
    admin = await make_account(Role.OFFICIAL, region_code="330000", is_admin=True)
    plain = await make_account(Role.OFFICIAL, region_code="330000")
    new = {"username": "hz_clerk", "password": PASSWORD, "region_code": "330100", "display_name": "杭州科员"}
    denied = await client.post("/api/v1/officials", json=new, headers=plain.headers)
    assert (denied.status, (await denied.json())["error"]["code"]) == (403, "not_administrator")
    wider = await client.post("/api/v1/officials", json={**new, "region_code": "440300"}, headers=admin.headers)
    assert (wider.status, (await wider.json())["error"]["code"]) == (403, "outside_jurisdiction")
    national = await client.post("/api/v1/officials", json={**new, "region_code": "000000"}, headers=admin.headers)
    assert national.status == 422
    made = await expect(await client.post("/api/v1/officials", json=new, headers=admin.headers), 201)
    assert (made["region_code"], made["is_admin"]) == ("330100", False)
    taken = await client.post("/api/v1/officials", json=new, headers=admin.headers)
    assert (taken.status, (await taken.json())["error"]["code"]) == (409, "username_taken")

    login = await expect(
        await client.post("/api/v1/auth/login", json={"username": "hz_clerk", "password": PASSWORD}), 200
    )
    clerk = {"Authorization": f"Bearer {login['token']}"}
    assert (await expect(await client.get("/api/v1/me", headers=clerk), 200))["region_code"] == "330100"

    # Reset: the old token stops at once, the new password works.
    reset = f"/api/v1/officials/{made['user_id']}/password"
    await expect(await client.post(reset, json={"new_password": "a-fresh-passphrase"}, headers=admin.headers), 200)
    dead = await client.get("/api/v1/me", headers=clerk)
    assert (dead.status, (await dead.json())["error"]["code"]) == (401, "token_invalid")
    relogin = {"username": "hz_clerk", "password": "a-fresh-passphrase"}
    clerk = {
        "Authorization": f"Bearer {(await expect(await client.post('/api/v1/auth/login', json=relogin), 200))['token']}"
    }
    await expect(await client.get("/api/v1/me", headers=clerk), 200)

    # Deactivate: every token stops at once (the principal was cached by the request above), login refused.
    deactivate = f"/api/v1/officials/{made['user_id']}/deactivate"
    assert (await expect(await client.post(deactivate, json={}, headers=admin.headers), 200))["is_active"] is False
    dead = await client.get("/api/v1/me", headers=clerk)
    assert (dead.status, (await dead.json())["error"]["code"]) == (401, "token_invalid")
    assert (await client.post("/api/v1/auth/login", json=relogin)).status == 401
    listed = await expect(await client.get("/api/v1/officials?include_inactive=true", headers=admin.headers), 200)
    assert {o["username"]: o["is_active"] for o in listed}["hz_clerk"] is False
    self_off = await client.post(f"/api/v1/officials/{admin.user_id}/deactivate", json={}, headers=admin.headers)
    assert (self_off.status, (await self_off.json())["error"]["code"]) == (409, "cannot_deactivate_self")
    log = await expect(await client.get("/api/v1/account-audit", headers=admin.headers), 200)
    assert [row["action"] for row in log["items"]] == ["user_deactivated", "password_reset", "official_created"]


async def test_users_change_their_own_password(client: Client, make_account: AccountFactory) -> None:
    official = await make_account(Role.OFFICIAL)
    other_session = await expect(
        await client.post("/api/v1/auth/login", json={"username": official.username, "password": PASSWORD}), 200
    )
    wrong = await client.post(
        "/api/v1/me/password",
        json={"current_password": "not-it-at-all", "new_password": "new-passphrase-1"},
        headers=official.headers,
    )
    assert (wrong.status, (await wrong.json())["error"]["code"]) == (422, "wrong_password")
    short = await client.post(
        "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "short"}, headers=official.headers
    )
    assert short.status == 422
    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "new-passphrase-1"},
        headers=official.headers,
    )
    assert changed.status == 204
    await expect(await client.get("/api/v1/me", headers=official.headers), 200)  # this session goes on
    ended = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {other_session['token']}"})
    assert ended.status == 401  # the other one ends
    old = await client.post("/api/v1/auth/login", json={"username": official.username, "password": PASSWORD})
    assert old.status == 401
    new = {"username": official.username, "password": "new-passphrase-1"}
    await expect(await client.post("/api/v1/auth/login", json=new), 200)


async def test_an_official_made_without_a_region_is_national(client: Client, make_account: AccountFactory) -> None:
    """`create-user` and the seeders make officials without naming a region: national ones, who act anywhere."""
    national = await make_account(Role.OFFICIAL)
    assert (await expect(await client.get("/api/v1/me", headers=national.headers), 200))["region_code"] == "000000"
    for region in ("440305", "110101", "330106"):
        await create_agency(client, national, region_code=region)
