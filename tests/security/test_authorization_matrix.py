"""Every route × every actor (anonymous, official, agency staff of the resource's agency and of another, enterprise
staff of the resource's enterprise and of another, and the incomplete principals: enterprise staff of no enterprise,
agency staff of no agency, a deactivated user), from ONE table.

The table is compared with the routes the app really serves: a route added without an entry here fails
`test_every_route_has_an_entry`, so no route can skip the matrix. Each entry names the exact status every actor
gets, and for a refusal its error code. A denial is 401 (anonymous: `unauthenticated`; a deactivated user's token:
`token_invalid`) or 403 (`forbidden` for the wrong role, the domain's own code for someone else's resource); a few
"other's resource" cases answer 404 (the resource is not shown to someone who may not see it) — the table pins which.
The incomplete principals pass the role checks their peers pass and own nothing: unless an entry says otherwise,
each gets what the "other" staff of its role gets.

An allowed write may answer a business refusal (e.g. 409 settling a redemption not yet delivered): the permission
check passed, which is what this table is about; the domains' own tests cover the rules. What the allowed actors
SEE in the lists is `tests/security/test_list_contents.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from core.state import API
from tests.support.world import (
    EVIDENCE,
    INCOMPLETE,
    REDEEM_BODY_PRICE,
    Who,
    World,
    agency_body,
    applications_body,
    enterprise_body,
    expect,
    program_body,
)

Client = TestClient[Any, Any]

BOUND = ("agency_other", "enterprise_other", "agency_own", "enterprise_own", "official", "official_out")
ACTORS = ("anonymous", *BOUND, *INCOMPLETE)
# Whoever holds a live token; a deactivated user's token is dead on every route (401 token_invalid), public or not.
SIGNED_IN = (*BOUND, "enterprise_unbound", "agency_unbound")
# The peer an incomplete principal answers like, unless an entry says otherwise; the official of another region
# answers like the world's official (Zhejiang) unless the entry says what is out of their jurisdiction.
PEER = {"enterprise_unbound": "enterprise_other", "agency_unbound": "agency_other", "official_out": "official"}

# A status, and for a refusal the error code (None: not pinned).
Expected = tuple[int, str | None]


def who(world: World, actor: str) -> Who | None:
    if actor == "anonymous":
        return None
    account = getattr(world, actor)
    assert account is not None, f"the world has no {actor}"
    return account  # type: ignore[no-any-return]


def expected(value: int | Expected, actor: str) -> Expected:
    """A status with the code it must carry: given, or the usual one for a refusal."""
    if isinstance(value, tuple):
        return value
    if value == 401:
        return value, "token_invalid" if actor == "deactivated" else "unauthenticated"
    if value == 403:
        return value, "forbidden"
    return value, None


def statuses(
    ok: int | Expected, *allowed: str, anonymous: int = 401, **overrides: int | Expected
) -> dict[str, Expected]:
    """`ok` for the `allowed` actors, 401 for anonymous, 403 for the rest; `overrides` per actor (a status, or a
    status and its error code). The incomplete principals answer like their peer unless allowed or overridden; the
    deactivated user's dead token is always 401."""
    assert "deactivated" not in allowed and "deactivated" not in overrides, "a dead token is 401 everywhere"
    table = {actor: expected(ok if actor in allowed else 403, actor) for actor in BOUND}
    table["anonymous"] = expected(ok if "anonymous" in allowed else anonymous, "anonymous")
    for actor, value in overrides.items():
        if actor not in PEER:
            table[actor] = expected(value, actor)
    for actor, peer in PEER.items():
        chosen = overrides.get(actor, ok if actor in allowed else None)
        table[actor] = expected(chosen, actor) if chosen is not None else table[peer]
    table["deactivated"] = expected(401, "deactivated")
    return table


def everyone(ok: int = 200) -> dict[str, Expected]:
    return statuses(ok, "anonymous", *SIGNED_IN)


@dataclass(frozen=True)
class Case:
    path: Callable[[World], str]
    expect: dict[str, Expected]
    body: Callable[[World, str], Any] | None = None
    csv: str | None = None
    # Actors whose request runs last, after the others (e.g. logout revokes the token used by every later row).
    run_last: bool = False
    notes: str = ""
    extra_headers: dict[str, str] = field(default_factory=dict)
    # Run once before the case's requests, to make what its path names (an objection, a review) in the world; a
    # test that does not prepare (injection, fuzz) reaches the route with the path's fallback id.
    prepare: Callable[[Client, World], Awaitable[None]] | None = None


def fixed(path: str) -> Callable[[World], str]:
    return lambda _w: path


def login_body(world: World, _actor: str) -> dict[str, str]:
    return {"username": world.official.username, "password": world.official.password}


def redeem_body(world: World, _actor: str) -> dict[str, Any]:
    return {"agency_id": world.agency_a, "service_code": "invention", "price_fen": REDEEM_BODY_PRICE // 4}


NOT_YOUR_AGENCY = (403, "not_your_agency")
NOT_YOUR_VOUCHER = (403, "not_your_voucher")
NOT_YOUR_ENTERPRISE = (403, "not_your_enterprise")
TICKET_NOT_FOUND = (404, "ticket_not_found")
KNOWLEDGE_NOT_FOUND = (404, "knowledge_answer_not_found")
NOT_LINKED = (409, "wechat_not_linked")
# An official acting on a record of a region outside their own (the world's records are in Hangzhou).
OUTSIDE = (403, "outside_jurisdiction")
NOT_ADMIN = (403, "not_administrator")

DEDUCTION = {"category": "late_annual_report", "points": -1, "reason": "annual report filed late"}


async def new_deduction(client: Client, world: World) -> None:
    """A fresh deduction on agency A, for agency A's staff to object to."""
    path = f"/api/v1/agencies/{world.agency_a}/credit-events"
    world.extra["deduction"] = (
        await expect(await client.post(path, json=DEDUCTION, headers=world.official.headers), 201)
    )["event"]["id"]


def deduction_of(world: World) -> int:
    return world.extra.get("deduction", world.credit_event_id)


async def new_objection(client: Client, world: World) -> None:
    """A fresh objection of agency A's staff, for an official to decide."""
    await new_deduction(client, world)
    path = f"/api/v1/agencies/{world.agency_a}/credit-events/{world.extra['deduction']}/objection"
    body = {"reason": "filed on time", "evidence": "the filing receipt"}
    world.extra["objection"] = (
        await expect(await client.post(path, json=body, headers=world.agency_own.headers), 201)
    )["objection"]["id"]


async def a_review(client: Client, world: World) -> None:
    """The review enterprise_own wrote of agency A (by the reviews case above)."""
    listing = await expect(await client.get(f"/api/v1/agencies/{world.agency_a}/reviews"), 200)
    world.extra["review"] = listing["items"][0]["id"]


async def a_hidden_review(client: Client, world: World) -> None:
    """The review of agency A the hide case above hid (hidden here if not), so every caller finds it hidden."""
    path = f"/api/v1/agencies/{world.agency_a}/reviews/{world.extra['review']}/hide"
    response = await client.post(path, json={"reason": "hidden for the matrix"}, headers=world.official.headers)
    assert response.status in (200, 409), await response.text()


NOT_YOUR_APPLICATION = (403, "not_your_application")
OAUTH_STATE_INVALID = (403, "oauth_state_invalid")
LINK_INVALID = (401, "sign_in_link_invalid")


def centre_body(world: World, actor: str) -> dict[str, Any]:
    return {
        "name": f"矩阵测试保护中心（{actor}）",
        "seat_region": "330100",
        "region_codes": ["330100"],
        "fields": ["new_energy"],
        "application_types": ["invention", "utility_model", "design"],
    }


async def a_centre(client: Client, world: World) -> None:
    """A protection centre in Hangzhou (the world's official's jurisdiction), made once."""
    if "centre" not in world.extra:
        body = centre_body(world, "world")
        made = await expect(
            await client.post("/api/v1/fast-track/centres", json=body, headers=world.official.headers), 201
        )
        world.extra["centre"] = made["id"]


async def a_centre_to_delete(client: Client, world: World) -> None:
    body = centre_body(world, "to delete")
    made = await expect(await client.post("/api/v1/fast-track/centres", json=body, headers=world.official.headers), 201)
    world.extra["centre_delete"] = made["id"]


PLAN_BODY = {"kind": "invention", "stage": "substantive_exam", "technical_field": "锂电池"}


MATRIX: dict[str, Case] = {
    # ------------------------------------------------------------ accounts
    "POST /api/v1/auth/login": Case(fixed("/api/v1/auth/login"), everyone(), body=login_body),
    "POST /api/v1/auth/logout": Case(fixed("/api/v1/auth/logout"), statuses(204, *SIGNED_IN), run_last=True),
    "GET /api/v1/me": Case(fixed("/api/v1/me"), statuses(200, *SIGNED_IN)),
    # ------------------------------------------------------------ agencies
    "GET /api/v1/agencies": Case(fixed("/api/v1/agencies"), everyone()),
    "POST /api/v1/agencies": Case(
        fixed("/api/v1/agencies"), statuses(201, "official", official_out=OUTSIDE), body=lambda w, a: agency_body()
    ),
    "POST /api/v1/agencies/credit-import": Case(
        fixed("/api/v1/agencies/credit-import"),
        statuses(422, "official"),
        csv="",
        notes="an empty file: the official passes the permission check and is told the file is empty (out of "
        "region rows: tests/accounts/test_jurisdictions.py)",
    ),
    "GET /api/v1/agencies/{agency_id}": Case(lambda w: f"/api/v1/agencies/{w.agency_a}", everyone()),
    "PATCH /api/v1/agencies/{agency_id}": Case(
        lambda w: f"/api/v1/agencies/{w.agency_a}",
        statuses(200, "official", "agency_own", agency_other=NOT_YOUR_AGENCY, official_out=OUTSIDE),
        body=lambda w, a: {"description": f"edited by {a}"},
    ),
    "POST /api/v1/agencies/{agency_id}/credit-events": Case(
        lambda w: f"/api/v1/agencies/{w.agency_a}/credit-events",
        statuses(201, "official", official_out=OUTSIDE),
        body=lambda w, a: {"category": "late_annual_report", "points": -1, "reason": "annual report filed late"},
    ),
    "GET /api/v1/agencies/{agency_id}/credit-events": Case(
        lambda w: f"/api/v1/agencies/{w.agency_a}/credit-events",
        statuses(200, "official", "agency_own", agency_other=NOT_YOUR_AGENCY, official_out=OUTSIDE),
    ),
    "POST /api/v1/agencies/{agency_id}/credit-events/{event_id}/reverse": Case(
        lambda w: f"/api/v1/agencies/{w.agency_a}/credit-events/{w.credit_event_id}/reverse",
        statuses(201, "official", official_out=OUTSIDE),
        body=lambda w, a: {"reason": "the notice was withdrawn"},
    ),
    "POST /api/v1/agencies/{agency_id}/credit-events/{event_id}/objection": Case(
        lambda w: f"/api/v1/agencies/{w.agency_a}/credit-events/{deduction_of(w)}/objection",
        statuses(201, "agency_own", agency_other=NOT_YOUR_AGENCY),
        body=lambda w, a: {"reason": f"objection by {a}", "evidence": "the annual report's filing receipt"},
        prepare=new_deduction,
    ),
    "GET /api/v1/credit-objections": Case(
        fixed("/api/v1/credit-objections"), statuses(200, "official", "agency_own", "agency_other")
    ),
    "POST /api/v1/agencies/{agency_id}/objections/{objection_id}/decision": Case(
        lambda w: f"/api/v1/agencies/{w.agency_a}/objections/{w.extra.get('objection', 0)}/decision",
        statuses(200, "official", official_out=OUTSIDE),
        body=lambda w, a: {"outcome": "upheld", "reason": f"decided by {a}"},
        prepare=new_objection,
    ),
    "GET /api/v1/agencies/{agency_id}/audit": Case(
        lambda w: f"/api/v1/agencies/{w.agency_a}/audit",
        statuses(200, "official", "agency_own", agency_other=NOT_YOUR_AGENCY, official_out=OUTSIDE),
    ),
    "POST /api/v1/agencies/{agency_id}/follow": Case(
        lambda w: f"/api/v1/agencies/{w.agency_a}/follow", statuses(200, "enterprise_own", "enterprise_other")
    ),
    "DELETE /api/v1/agencies/{agency_id}/follow": Case(
        lambda w: f"/api/v1/agencies/{w.agency_a}/follow", statuses(204, "enterprise_own", "enterprise_other")
    ),
    "GET /api/v1/me/follows": Case(fixed("/api/v1/me/follows"), statuses(200, "enterprise_own", "enterprise_other")),
    # ------------------------------------------------------------ assistant
    "POST /api/v1/chat": Case(
        fixed("/api/v1/chat"), statuses(200, "enterprise_own", "enterprise_other"), body=lambda w, a: {"text": "你好"}
    ),
    "GET /api/v1/assistant/tickets": Case(fixed("/api/v1/assistant/tickets"), statuses(200, "official")),
    "PATCH /api/v1/assistant/tickets/{ticket_id}": Case(
        lambda w: f"/api/v1/assistant/tickets/{w.extra['ticket_id']}",
        statuses(200, "official"),
        body=lambda w, a: {"status": "in_progress"},
    ),
    "GET /api/v1/assistant/unanswered": Case(fixed("/api/v1/assistant/unanswered"), statuses(200, "official")),
    "GET /api/v1/assistant/knowledge/groups": Case(
        fixed("/api/v1/assistant/knowledge/groups"), statuses(200, "official")
    ),
    "POST /api/v1/assistant/knowledge": Case(
        fixed("/api/v1/assistant/knowledge"),
        statuses(422, "official"),
        body=lambda w, a: {
            "question_ids": [987654321],
            "question": f"answered by {a}",
            "answer": "见官方通知。",
            "source": {"document": "某通知", "date": "2024-01-01", "status": "in_force"},
        },
        notes="a question that is not queued: each official passes the permission and region checks and is told "
        "which field is wrong (publishing: tests/bot/test_knowledge.py)",
    ),
    "GET /api/v1/assistant/knowledge": Case(fixed("/api/v1/assistant/knowledge"), statuses(200, "official")),
    "PATCH /api/v1/assistant/knowledge/{answer_id}": Case(
        lambda w: f"/api/v1/assistant/knowledge/{w.extra['knowledge_answer']}",
        statuses(200, "official", official_out=KNOWLEDGE_NOT_FOUND),
        body=lambda w, a: {"question": f"edited by {a}"},
        notes="a Zhejiang answer: Shenzhen's official is not shown it",
    ),
    "GET /api/v1/assistant/knowledge/export": Case(
        fixed("/api/v1/assistant/knowledge/export"), statuses(200, "official")
    ),
    "GET /api/v1/me/tickets": Case(fixed("/api/v1/me/tickets"), statuses(200, *SIGNED_IN)),
    "GET /api/v1/me/tickets/{ticket_id}": Case(
        lambda w: f"/api/v1/me/tickets/{w.extra['ticket_id']}",
        statuses(
            200,
            "enterprise_own",
            agency_other=TICKET_NOT_FOUND,
            enterprise_other=TICKET_NOT_FOUND,
            agency_own=TICKET_NOT_FOUND,
            official=TICKET_NOT_FOUND,
        ),
        notes="the ticket was opened for enterprise_own; anyone else's ticket is not shown to them",
    ),
    # ------------------------------------------------------------ enterprises
    "POST /api/v1/enterprises": Case(
        fixed("/api/v1/enterprises"),
        statuses(201, "official", official_out=OUTSIDE),
        body=lambda w, a: enterprise_body(),
    ),
    "GET /api/v1/enterprises": Case(fixed("/api/v1/enterprises"), statuses(200, "official")),
    "GET /api/v1/me/enterprise": Case(
        fixed("/api/v1/me/enterprise"),
        statuses(
            200,
            "enterprise_own",
            "enterprise_other",
            official=NOT_YOUR_ENTERPRISE,
            enterprise_unbound=NOT_YOUR_ENTERPRISE,
        ),
        notes="officials may read any enterprise, but belong to none; nor does a mini-program user not yet bound",
    ),
    "GET /api/v1/enterprises/{enterprise_id}": Case(
        lambda w: f"/api/v1/enterprises/{w.enterprise_1}",
        statuses(200, "official", "enterprise_own", enterprise_other=NOT_YOUR_ENTERPRISE, official_out=OUTSIDE),
    ),
    "PATCH /api/v1/enterprises/{enterprise_id}": Case(
        lambda w: f"/api/v1/enterprises/{w.enterprise_1}",
        statuses(200, "official", official_out=OUTSIDE),
        body=lambda w, a: {"industry": "biotech"},
    ),
    "PUT /api/v1/enterprises/{enterprise_id}/qualification": Case(
        lambda w: f"/api/v1/enterprises/{w.enterprise_1}/qualification",
        statuses(200, "official", official_out=OUTSIDE),
        body=lambda w, a: {
            "qualification": "national_little_giant",
            "certificate_no": "ZJTX-RENEWED",
            "expires_on": "2030-12-31",
        },
    ),
    # ------------------------------------------------------------ vouchers
    "GET /api/v1/voucher-programs": Case(fixed("/api/v1/voucher-programs"), everyone()),
    "POST /api/v1/voucher-programs": Case(
        fixed("/api/v1/voucher-programs"),
        statuses(201, "official", official_out=OUTSIDE),
        body=lambda w, a: program_body(),
    ),
    "GET /api/v1/voucher-programs/{program_id}": Case(lambda w: f"/api/v1/voucher-programs/{w.program_id}", everyone()),
    "POST /api/v1/voucher-programs/{program_id}/vouchers": Case(
        lambda w: f"/api/v1/voucher-programs/{w.program_id}/vouchers",
        statuses(201, "official", official_out=OUTSIDE),
        body=lambda w, a: {"enterprises": [{"enterprise_id": w.enterprise_2}]},
    ),
    "GET /api/v1/voucher-programs/{program_id}/vouchers": Case(
        lambda w: f"/api/v1/voucher-programs/{w.program_id}/vouchers",
        statuses(200, "official", official_out=OUTSIDE),
    ),
    "GET /api/v1/voucher-programs/{program_id}/report": Case(
        lambda w: f"/api/v1/voucher-programs/{w.program_id}/report",
        statuses(200, "official", official_out=OUTSIDE),
    ),
    "GET /api/v1/voucher-programs/{program_id}/report/series": Case(
        lambda w: f"/api/v1/voucher-programs/{w.program_id}/report/series",
        statuses(200, "official", official_out=OUTSIDE),
    ),
    "GET /api/v1/voucher-programs/{program_id}/report.csv": Case(
        lambda w: f"/api/v1/voucher-programs/{w.program_id}/report.csv",
        statuses(200, "official", official_out=OUTSIDE),
    ),
    "GET /api/v1/me/vouchers": Case(
        fixed("/api/v1/me/vouchers"),
        statuses(200, "enterprise_own", "enterprise_other", enterprise_unbound=NOT_YOUR_VOUCHER),
    ),
    "GET /api/v1/vouchers/{voucher_id}": Case(
        lambda w: f"/api/v1/vouchers/{w.voucher_own}",
        statuses(200, "official", "enterprise_own", enterprise_other=NOT_YOUR_VOUCHER, official_out=OUTSIDE),
    ),
    "POST /api/v1/vouchers/{voucher_id}/redeem": Case(
        lambda w: f"/api/v1/vouchers/{w.voucher_own}/redeem",
        statuses(201, "enterprise_own", enterprise_other=NOT_YOUR_VOUCHER),
        body=redeem_body,
    ),
    "POST /api/v1/vouchers/{voucher_id}/revoke": Case(
        lambda w: f"/api/v1/vouchers/{w.voucher_other}/revoke",
        statuses(200, "official", official_out=OUTSIDE),
        body=lambda w, a: {"reason": "the enterprise lost its qualification"},
    ),
    "GET /api/v1/redemptions": Case(fixed("/api/v1/redemptions"), statuses(200, *SIGNED_IN)),
    "GET /api/v1/redemptions/{redemption_id}": Case(
        lambda w: f"/api/v1/redemptions/{w.redemption_id}",
        statuses(
            200,
            "official",
            "agency_own",
            "enterprise_own",
            agency_other=NOT_YOUR_AGENCY,
            enterprise_other=NOT_YOUR_VOUCHER,
            official_out=OUTSIDE,
        ),
    ),
    "POST /api/v1/redemptions/{redemption_id}/confirm": Case(
        lambda w: f"/api/v1/redemptions/{w.redemption_id}/confirm",
        statuses(200, "agency_own", agency_other=NOT_YOUR_AGENCY),
        body=lambda w, a: EVIDENCE,
    ),
    "POST /api/v1/redemptions/{redemption_id}/settle": Case(
        lambda w: f"/api/v1/redemptions/{w.redemption_id}/settle",
        statuses(409, "official", official_out=OUTSIDE),
        body=lambda w, a: {},
        notes="the official passes the permission check; the (flagged) redemption needs a decision: 409",
    ),
    # After confirm above: the redemption is delivered, so its enterprise may review the agency once.
    "POST /api/v1/agencies/{agency_id}/reviews": Case(
        lambda w: f"/api/v1/agencies/{w.agency_a}/reviews",
        statuses(201, "enterprise_own", enterprise_other=(403, "no_delivered_service")),
        body=lambda w, a: {"redemption_id": w.redemption_id, "rating": 5, "comment": f"review by {a}"},
    ),
    "GET /api/v1/agencies/{agency_id}/reviews": Case(lambda w: f"/api/v1/agencies/{w.agency_a}/reviews", everyone()),
    "POST /api/v1/agencies/{agency_id}/reviews/{review_id}/reply": Case(
        lambda w: f"/api/v1/agencies/{w.agency_a}/reviews/{w.extra.get('review', 0)}/reply",
        statuses(200, "agency_own", agency_other=NOT_YOUR_AGENCY),
        body=lambda w, a: {"reply": f"answered by {a}"},
        prepare=a_review,
    ),
    "POST /api/v1/agencies/{agency_id}/reviews/{review_id}/hide": Case(
        lambda w: f"/api/v1/agencies/{w.agency_a}/reviews/{w.extra.get('review', 0)}/hide",
        statuses(200, "official", official_out=OUTSIDE),
        body=lambda w, a: {"reason": f"hidden by {a}"},
        prepare=a_review,
    ),
    # The review hidden just above (run in order): an official of the agency's region shows it again.
    "POST /api/v1/agencies/{agency_id}/reviews/{review_id}/restore": Case(
        lambda w: f"/api/v1/agencies/{w.agency_a}/reviews/{w.extra.get('review', 0)}/restore",
        statuses(200, "official", official_out=OUTSIDE),
        body=lambda w, a: {"reason": f"shown again by {a}"},
        prepare=a_hidden_review,
    ),
    # After confirm above the redemption is no longer pending: the enterprise that made it and officials pass the
    # permission check and are told so (409); agencies, even the one it was made at, may not cancel.
    "POST /api/v1/redemptions/{redemption_id}/cancel": Case(
        lambda w: f"/api/v1/redemptions/{w.redemption_id}/cancel",
        statuses(409, "enterprise_own", "official", enterprise_other=NOT_YOUR_VOUCHER, official_out=OUTSIDE),
        body=lambda w, a: {"reason": f"cancelled by {a}"},
    ),
    "GET /api/v1/voucher-flags": Case(fixed("/api/v1/voucher-flags"), statuses(200, "official")),
    # ------------------------------------------------------------ applications (the world: enterprise 1 applied to
    # the programme extra["applications_program"]; enterprise 2 has not)
    "PUT /api/v1/voucher-programs/{program_id}/applications": Case(
        lambda w: f"/api/v1/voucher-programs/{w.program_id}/applications",
        statuses(200, "official", official_out=OUTSIDE),
        body=lambda w, a: applications_body(),
    ),
    "GET /api/v1/me/voucher-programs": Case(
        fixed("/api/v1/me/voucher-programs"),
        statuses(200, "enterprise_own", "enterprise_other", enterprise_unbound=NOT_YOUR_VOUCHER),
    ),
    "POST /api/v1/voucher-programs/{program_id}/applications": Case(
        lambda w: f"/api/v1/voucher-programs/{w.extra['applications_program']}/applications",
        statuses(201, "enterprise_other", enterprise_own=200, enterprise_unbound=NOT_YOUR_VOUCHER),
        body=lambda w, a: {},
        notes="enterprise 1 applied with the same (empty) body before: the same application again, 200",
    ),
    "GET /api/v1/voucher-applications": Case(
        fixed("/api/v1/voucher-applications"),
        statuses(200, "official", "enterprise_own", "enterprise_other", "enterprise_unbound"),
    ),
    "GET /api/v1/voucher-applications/{application_id}": Case(
        lambda w: f"/api/v1/voucher-applications/{w.extra['application_own']}",
        statuses(200, "official", "enterprise_own", enterprise_other=NOT_YOUR_APPLICATION, official_out=OUTSIDE),
    ),
    "POST /api/v1/voucher-applications/{application_id}/decision": Case(
        lambda w: f"/api/v1/voucher-applications/{w.extra['application_own']}/decision",
        statuses(200, "official", official_out=OUTSIDE),
        body=lambda w, a: {"decision": "waitlist", "reason": f"on hold by {a}"},
    ),
    "POST /api/v1/voucher-applications/decisions": Case(
        fixed("/api/v1/voucher-applications/decisions"),
        statuses(200, "official"),
        body=lambda w, a: {"application_ids": [w.extra["application_own"]], "decision": "reject", "reason": "matrix"},
        notes="answers 200 with each application's outcome, even one that could not be decided",
    ),
    # ------------------------------------------------------------ WeChat
    "POST /api/v1/auth/wechat-login": Case(
        fixed("/api/v1/auth/wechat-login"),
        everyone(503),
        body=lambda w, a: {"code": "code-from-wx-login"},
        notes="public (the code is the credential); WeChat is unreachable in tests, so everyone gets the clear 503",
    ),
    # Any signed-in user manages their own consents; only enterprise_own and the mini-program user are linked to
    # WeChat here, the others pass the permission check and are told their account has no WeChat link (409).
    "GET /api/v1/me/wechat/subscriptions": Case(
        fixed("/api/v1/me/wechat/subscriptions"),
        statuses(NOT_LINKED, *SIGNED_IN, enterprise_own=200, enterprise_unbound=200),
    ),
    "POST /api/v1/me/wechat/subscriptions": Case(
        fixed("/api/v1/me/wechat/subscriptions"),
        statuses(NOT_LINKED, *SIGNED_IN, enterprise_own=200, enterprise_unbound=200),
        body=lambda w, a: {"results": {"tpl-rating-changed": "accept"}},
    ),
    # ------------------------------------------------------------ onboarding (accounts)
    "POST /api/v1/me/enterprise-binding": Case(
        fixed("/api/v1/me/enterprise-binding"),
        statuses(
            (409, "already_bound"),
            "enterprise_own",
            "enterprise_other",
            enterprise_unbound=201,
        ),
        body=lambda w, a: {"credit_code": w.texts["credit_code_2"], "person_name": "王五", "phone": "13800001111"},
        notes="bound staff already belong to an enterprise; the mini-program user of none asks to join enterprise 2",
    ),
    "GET /api/v1/me/enterprise-binding": Case(
        fixed("/api/v1/me/enterprise-binding"),
        statuses(
            (404, "membership_not_found"),
            "enterprise_own",
            "enterprise_other",
            enterprise_unbound=200,
        ),
        notes="staff made by create-user never asked; the mini-program user's request (above) is shown",
    ),
    "GET /api/v1/enterprise-memberships": Case(
        fixed("/api/v1/enterprise-memberships"),
        statuses(200, "official", "official_out", "enterprise_own", "enterprise_other", enterprise_unbound=NOT_ADMIN),
        notes="what each sees: tests/security/test_list_contents.py",
    ),
    "POST /api/v1/enterprise-memberships/{membership_id}/approve": Case(
        lambda w: f"/api/v1/enterprise-memberships/{w.extra['membership_approve']}/approve",
        statuses(
            200,
            "enterprise_own",
            official=(409, "membership_not_pending"),
            official_out=OUTSIDE,
            enterprise_other=(403, "not_your_enterprise"),
            enterprise_unbound=NOT_ADMIN,
        ),
        body=lambda w, a: {},
        notes="enterprise 1's administrator approves first; the official then finds it decided",
    ),
    "POST /api/v1/enterprise-memberships/{membership_id}/reject": Case(
        lambda w: f"/api/v1/enterprise-memberships/{w.extra['membership_reject']}/reject",
        statuses(
            200,
            "enterprise_own",
            official=(409, "membership_not_pending"),
            official_out=OUTSIDE,
            enterprise_other=(403, "not_your_enterprise"),
            enterprise_unbound=NOT_ADMIN,
        ),
        body=lambda w, a: {"reason": f"not known to {a}"},
    ),
    "POST /api/v1/enterprise-memberships/{membership_id}/remove": Case(
        lambda w: f"/api/v1/enterprise-memberships/{w.extra['membership_remove']}/remove",
        statuses(
            200,
            "enterprise_own",
            official=(409, "membership_not_active"),
            official_out=OUTSIDE,
            enterprise_other=(403, "not_your_enterprise"),
            enterprise_unbound=NOT_ADMIN,
        ),
        body=lambda w, a: {"reason": f"left the company ({a})"},
    ),
    "POST /api/v1/enterprises/{enterprise_id}/verification": Case(
        lambda w: f"/api/v1/enterprises/{w.extra['enterprise_pending']}/verification",
        statuses(200, "official", official_out=OUTSIDE),
        body=lambda w, a: {"decision": "verified"},
    ),
    "POST /api/v1/agencies/{agency_id}/invitations": Case(
        lambda w: f"/api/v1/agencies/{w.agency_a}/invitations",
        statuses(
            201,
            "official",
            "agency_own",
            agency_other=NOT_YOUR_AGENCY,
            official_out=OUTSIDE,
            agency_unbound=NOT_ADMIN,
        ),
        body=lambda w, a: {"invitee_name": f"invited by {a}"[:60]},
        notes="the unbound agency principal is no administrator (its cached principal says so)",
    ),
    "GET /api/v1/agencies/{agency_id}/invitations": Case(
        lambda w: f"/api/v1/agencies/{w.agency_a}/invitations",
        statuses(
            200,
            "official",
            "agency_own",
            agency_other=NOT_YOUR_AGENCY,
            official_out=OUTSIDE,
            agency_unbound=NOT_ADMIN,
        ),
    ),
    "POST /api/v1/agencies/{agency_id}/invitations/{invitation_id}/revoke": Case(
        lambda w: f"/api/v1/agencies/{w.agency_a}/invitations/{w.extra['invitation_revoke']}/revoke",
        statuses(
            200,
            "agency_own",
            official=(409, "invitation_not_open"),
            agency_other=NOT_YOUR_AGENCY,
            official_out=OUTSIDE,
            agency_unbound=NOT_ADMIN,
        ),
        body=lambda w, a: {},
        notes="agency A's administrator withdraws it first; the official then finds it withdrawn",
    ),
    "POST /api/v1/invitations/accept": Case(
        fixed("/api/v1/invitations/accept"),
        statuses(
            (409, "already_bound"),
            *SIGNED_IN,
            anonymous=200,
            enterprise_unbound=(409, "already_bound"),
        ),
        body=lambda w, a: (
            {"code": w.texts["invitation_code"]}
            | ({"username": "invited_clerk", "password": "correct-horse-battery"} if a == "anonymous" else {})
        ),
        notes="public (the code is the credential): a newcomer takes it with a password; everyone signed in "
        "already belongs somewhere (the mini-program user asked to join enterprise 2 above)",
    ),
    "GET /api/v1/officials": Case(
        fixed("/api/v1/officials"),
        statuses(200, "official", "official_out"),
        notes="each sees the officials of their region: tests/security/test_list_contents.py",
    ),
    "POST /api/v1/officials": Case(
        fixed("/api/v1/officials"),
        statuses(201, "official", official_out=OUTSIDE),
        body=lambda w, a: {"username": f"new_{a}", "password": "correct-horse-battery", "region_code": "330100"},
    ),
    "POST /api/v1/officials/{user_id}/deactivate": Case(
        lambda w: f"/api/v1/officials/{w.extra['official_deactivate']}/deactivate",
        statuses(200, "official", official_out=OUTSIDE),
        body=lambda w, a: {},
    ),
    "POST /api/v1/officials/{user_id}/password": Case(
        lambda w: f"/api/v1/officials/{w.extra['official_password']}/password",
        statuses(200, "official", official_out=OUTSIDE),
        body=lambda w, a: {"new_password": "a-brand-new-passphrase"},
    ),
    "POST /api/v1/me/password": Case(
        fixed("/api/v1/me/password"),
        statuses(204, *SIGNED_IN, enterprise_unbound=(409, "no_password")),
        body=lambda w, a: {"current_password": "correct-horse-battery", "new_password": f"new-passphrase-{a}"},
        notes="the mini-program user signs in with WeChat and has no password to change",
    ),
    "GET /api/v1/account-audit": Case(
        fixed("/api/v1/account-audit"),
        statuses(200, "official", "official_out"),
        notes="each sees the entries of their region: tests/security/test_list_contents.py",
    ),
    # Web authorization: public (WeChat's code is the credential); the start redirects everyone to WeChat, a
    # callback without this browser's state cookie is refused with the page (its code in X-Error-Code).
    "GET /api/v1/auth/wechat-oauth": Case(fixed("/api/v1/auth/wechat-oauth?next=/m/"), everyone(302)),
    "GET /api/v1/auth/wechat-oauth/callback": Case(
        fixed("/api/v1/auth/wechat-oauth/callback?code=c0de&state=0123"),
        statuses(OAUTH_STATE_INVALID, "anonymous", *SIGNED_IN),
    ),
    "POST /api/v1/auth/sign-in-link": Case(
        fixed("/api/v1/auth/sign-in-link"),
        statuses(LINK_INVALID, "anonymous", *SIGNED_IN),
        body=lambda w, a: {"token": "not-a-link-we-issued"},
        notes="public (the link is the credential); an unknown link signs no one in",
    ),
    "POST /api/v1/me/wechat/link": Case(
        fixed("/api/v1/me/wechat/link"),
        statuses(LINK_INVALID, *SIGNED_IN),
        body=lambda w, a: {"token": "not-a-link-we-issued"},
        notes="any signed-in user links a follower to their own account; an unknown link links nothing",
    ),
    "GET /api/v1/wechat/jssdk-config": Case(
        fixed("/api/v1/wechat/jssdk-config?url=https://evil.example/console/m/"),
        statuses((422, "validation_error"), "anonymous", *SIGNED_IN),
        notes="public; only our own phone-view pages are signed",
    ),
    # Officials any agency, agency staff their own (WeChat is unreachable in tests: the permitted get the clear 503).
    "GET /api/v1/wechat/qrcodes/{kind}/{target_id}": Case(
        lambda w: f"/api/v1/wechat/qrcodes/agency/{w.agency_a}",
        statuses(
            (503, "wechat_unavailable"),
            "official",
            "agency_own",
            agency_other=NOT_YOUR_AGENCY,
            agency_unbound=NOT_YOUR_AGENCY,
        ),
    ),
    "GET /api/v1/wechat/qrcodes": Case(fixed("/api/v1/wechat/qrcodes"), statuses(200, "official")),
    # ------------------------------------------------------------ fast-track planner (anyone; the profile fills in)
    "POST /api/v1/fast-track/plan": Case(fixed("/api/v1/fast-track/plan"), everyone(), body=lambda w, a: PLAN_BODY),
    "GET /api/v1/fast-track/draft": Case(
        fixed("/api/v1/fast-track/draft?track=priority_exam&kind=invention&stage=substantive_exam"), everyone()
    ),
    "GET /api/v1/fast-track/agencies": Case(
        fixed("/api/v1/fast-track/agencies?track=normal&kind=invention"), everyone()
    ),
    "GET /api/v1/fast-track/centres": Case(fixed("/api/v1/fast-track/centres"), everyone()),
    "GET /api/v1/fast-track/centres/{centre_id}": Case(
        lambda w: f"/api/v1/fast-track/centres/{w.extra.get('centre', 0)}", everyone(), prepare=a_centre
    ),
    "POST /api/v1/fast-track/centres": Case(
        fixed("/api/v1/fast-track/centres"), statuses(201, "official", official_out=OUTSIDE), body=centre_body
    ),
    "PATCH /api/v1/fast-track/centres/{centre_id}": Case(
        lambda w: f"/api/v1/fast-track/centres/{w.extra.get('centre', 0)}",
        statuses(200, "official", official_out=OUTSIDE),
        body=lambda w, a: {"contact": f"edited by {a}"},
        prepare=a_centre,
    ),
    "GET /api/v1/fast-track/centres/{centre_id}/audit": Case(
        lambda w: f"/api/v1/fast-track/centres/{w.extra.get('centre', 0)}/audit",
        statuses(200, "official", official_out=OUTSIDE),
        prepare=a_centre,
    ),
    "DELETE /api/v1/fast-track/centres/{centre_id}": Case(
        lambda w: f"/api/v1/fast-track/centres/{w.extra.get('centre_delete', 0)}",
        statuses(204, "official", official_out=(404, "not_found")),
        prepare=a_centre_to_delete,
        notes="the world's official deletes it first; out of region the refusal is 403 outside_jurisdiction "
        "(tests/fast_track/test_centres.py)",
    ),
}

# Routes outside /api/v1 and who may call them (each checked by its own tests; listed so a new one is noticed).
OUTSIDE_API = {
    "GET /healthz": "anyone: liveness",
    "GET /readyz": "anyone: readiness, names dependencies up/down, no secrets",
    "GET /metrics": "operators: METRICS_ALLOW (loopback) or METRICS_TOKEN, else 403 (tests/core/test_security_headers)",
    "GET /api/v1/openapi.json": "anyone: the API description",
    "GET /wechat": "WeChat servers: URL verification, proven by the signature",
    "POST /wechat": "WeChat servers: messages, proven by the signature (tests/security/test_wechat_xml.py)",
    "GET /bot/actions": "Rasa: the action list (names only)",
    "POST /bot/actions": "Rasa: actions trust only identity signed with BOT_METADATA_SECRET (tests/bot)",
    "GET /console": "anyone: the console's static files; its data comes from the API above",
    "GET /console/{tail}": "anyone: the console's static files",
}


def served_routes(app: web.Application) -> set[str]:
    routes = set()
    for route in app.router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        routes.add(f"{route.method} {route.resource.canonical}")
    return routes


async def test_every_route_has_an_entry(app: web.Application) -> None:
    declared = {f"{spec.method} {spec.path}" for spec in app[API].routes}
    assert declared - MATRIX.keys() == set(), "add these routes to MATRIX in tests/security/test_authorization_matrix"
    assert MATRIX.keys() - declared == set(), "these MATRIX entries name routes the app no longer has"
    outside = served_routes(app) - declared
    assert outside - OUTSIDE_API.keys() == set(), (
        "a new route outside /api/v1: list it in OUTSIDE_API with who calls it"
    )
    assert OUTSIDE_API.keys() - outside == set()
    for key, case in MATRIX.items():
        assert set(case.expect) == set(ACTORS), key


async def send(client: Client, method: str, path: str, case: Case, world: World, actor: str) -> Expected:
    account = who(world, actor)
    headers = dict(case.extra_headers)
    if account is not None:
        headers.update(account.headers)
    kwargs: dict[str, Any] = {"headers": headers}
    if case.body is not None:
        kwargs["json"] = case.body(world, actor)
    elif case.csv is not None:
        kwargs["data"] = case.csv.encode()
        headers["Content-Type"] = "text/csv"
    response = await client.request(method, path, allow_redirects=False, **kwargs)
    raw = await response.read()  # bytes: a drafted .docx is no text
    assert b"Traceback" not in raw
    text = raw.decode(errors="replace")
    if response.status < 400:
        return response.status, None
    if response.content_type == "text/html":  # the web-authorization pages: the code is in a header
        return response.status, response.headers["X-Error-Code"]
    code = (await response.json())["error"]["code"]
    assert code, text
    return response.status, code


async def test_the_matrix(client: Client, world: World) -> None:
    """Every route × every actor, one world; the differences from the table are reported together."""
    problems: list[str] = []
    ordered = sorted(MATRIX.items(), key=lambda item: item[1].run_last)
    for key, case in ordered:
        method, _template = key.split(" ", 1)
        if case.prepare is not None:
            await case.prepare(client, world)
        path = case.path(world)
        for actor in ACTORS:
            status, code = await send(client, method, path, case, world, actor)
            wanted_status, wanted_code = case.expect[actor]
            if status != wanted_status or (wanted_code is not None and code != wanted_code):
                got = f"{status} {code or ''}".strip()
                wanted = f"{wanted_status} {wanted_code or ''}".strip()
                problems.append(f"{key} as {actor}: expected {wanted}, got {got}")
    assert not problems, "\n".join(problems)
