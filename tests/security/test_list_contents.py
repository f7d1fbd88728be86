"""What each kind of caller SEES: for every list route (and every detail route of something owned), the exact ids
each actor of the authorization matrix is shown — enterprise 1 only its own redemptions, never enterprise 2's; staff
of no agency or enterprise nothing — or the refusal it gets, by status and error code.

The world has two of everything owned (tests/support/world.py), here furnished further so that every list holds
something of each owner: both redemptions delivered (each flagged as confirmed fast) and reviewed, follows, a credit
event on each agency, tickets of both enterprises and of a stranger, an unanswered question, a consent.

`test_every_list_route_is_here` compares the table with the routes the app serves: a new route that answers a list
must say here what each caller sees.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_origin

from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import BaseModel

from bot.models import ConsultationTicket, KnowledgeAnswer, UnansweredQuestion
from core.db import Database
from core.state import API
from tests.security.test_authorization_matrix import ACTORS, Expected, who
from tests.support.world import EVIDENCE, World, expect

Client = TestClient[Any, Any]

# What an actor is shown (ids), or the refusal it gets (status, error code).
Seen = frozenset[int | str] | Expected
Ids = Callable[[Any], set[int | str]]

FORBIDDEN = (403, "forbidden")
NOT_YOUR_AGENCY = (403, "not_your_agency")
NOT_YOUR_VOUCHER = (403, "not_your_voucher")
NOT_YOUR_ENTERPRISE = (403, "not_your_enterprise")
TICKET_NOT_FOUND = (404, "ticket_not_found")
NOT_LINKED = (409, "wechat_not_linked")
OUTSIDE = (403, "outside_jurisdiction")
NOT_ADMIN = (403, "not_administrator")
MEMBERSHIP_NOT_FOUND = (404, "membership_not_found")
NOT_YOUR_APPLICATION = (403, "not_your_application")


@dataclass
class Furnished:
    """What `furnish` added to the world."""

    flags: set[int]
    reviews_a: set[int]
    reviews_b: set[int]  # hidden by an official
    event_a: int
    event_b: int
    objection_a: int
    objection_b: int
    ticket_own: int
    ticket_other: int
    ticket_stranger: int
    unanswered: int
    application_other: int
    # Official answers: nationwide, Zhejiang's (the world's), Shenzhen's (official_out's region).
    knowledge_nationwide: int
    knowledge_zhejiang: int
    knowledge_shenzhen: int
    answered_example: int
    centres: set[int]  # a Hangzhou centre (edited once) and a Ningbo one, made by the world's official


def seen(**shown: Any) -> dict[str, Seen]:
    """Each actor named: the ids it is shown (any iterable) or its refusal; anyone not named is refused as usual —
    anonymous 401, the deactivated user's dead token 401, every other signed-in caller 403 for the wrong role. The
    official of another region sees what the world's official sees, unless named (every regional list names it)."""
    table: dict[str, Seen] = {actor: FORBIDDEN for actor in ACTORS}
    table["anonymous"] = (401, "unauthenticated")
    table["deactivated"] = (401, "token_invalid")
    for actor, value in shown.items():
        assert actor in ACTORS, actor
        table[actor] = value if isinstance(value, tuple) else frozenset(value)
    if "official_out" not in shown:
        table["official_out"] = table["official"]
    return table


def public(ids: Any) -> dict[str, Seen]:
    """The same for everyone with a live token or none (a dead token is refused even on a public route)."""
    return seen(**{actor: ids for actor in ACTORS if actor != "deactivated"})


def plan_agencies(body: Any) -> set[int | str]:
    """Each agency offered for a route, with the caller's voucher that would pay there ("-": none)."""
    return {f"{row['agency']['id']}:{row['voucher']['voucher_id'] if row['voucher'] else '-'}" for row in body["items"]}


def audit_actions(body: Any) -> set[int | str]:
    return {line["action"] for line in body}


def items(body: Any) -> set[int | str]:
    return {row["id"] for row in (body["items"] if isinstance(body, dict) else body)}


def one(body: Any) -> set[int | str]:
    return {body["id"]}


@dataclass(frozen=True)
class Listing:
    path: Callable[[World], str]
    shown: Callable[[World, Furnished], dict[str, Seen]]
    ids: Ids = items


LISTS: dict[str, Listing] = {
    # ------------------------------------------------------------ vouchers
    "GET /api/v1/redemptions": Listing(
        lambda w: "/api/v1/redemptions",
        lambda w, f: seen(
            official={w.redemption_id, w.redemption_other},
            official_out=set(),
            agency_own={w.redemption_id},
            agency_other={w.redemption_other},
            enterprise_own={w.redemption_id},
            enterprise_other={w.redemption_other},
            enterprise_unbound=set(),
            agency_unbound=set(),
        ),
    ),
    "GET /api/v1/redemptions?state=delivered&program_id=…": Listing(
        lambda w: f"/api/v1/redemptions?state=delivered&program_id={w.program_id}",
        lambda w, f: seen(
            official={w.redemption_id, w.redemption_other},
            official_out=set(),
            agency_own={w.redemption_id},
            agency_other={w.redemption_other},
            enterprise_own={w.redemption_id},
            enterprise_other={w.redemption_other},
            enterprise_unbound=set(),
            agency_unbound=set(),
        ),
    ),
    "GET /api/v1/me/vouchers": Listing(
        lambda w: "/api/v1/me/vouchers",
        lambda w, f: seen(
            enterprise_own={w.voucher_own}, enterprise_other={w.voucher_other}, enterprise_unbound=NOT_YOUR_VOUCHER
        ),
    ),
    "GET /api/v1/voucher-programs/{program_id}/vouchers": Listing(
        lambda w: f"/api/v1/voucher-programs/{w.program_id}/vouchers",
        lambda w, f: seen(official={w.voucher_own, w.voucher_other}, official_out=OUTSIDE),
    ),
    "GET /api/v1/voucher-programs/{program_id}/report": Listing(
        lambda w: f"/api/v1/voucher-programs/{w.program_id}/report",
        lambda w, f: seen(official={str(w.agency_a), str(w.agency_b)}, official_out=OUTSIDE),
        ids=lambda body: {line["key"] for line in body["by_agency"]},
    ),
    "GET /api/v1/voucher-flags": Listing(
        lambda w: "/api/v1/voucher-flags", lambda w, f: seen(official=f.flags, official_out=set())
    ),
    "GET /api/v1/voucher-programs": Listing(
        lambda w: "/api/v1/voucher-programs", lambda w, f: public({w.program_id, w.extra["applications_program"]})
    ),
    "GET /api/v1/voucher-applications": Listing(
        lambda w: "/api/v1/voucher-applications",
        lambda w, f: seen(
            official={w.extra["application_own"], f.application_other},
            enterprise_own={w.extra["application_own"]},
            enterprise_other={f.application_other},
            enterprise_unbound=set(),
            official_out=set(),
        ),
    ),
    "GET /api/v1/me/voucher-programs": Listing(
        lambda w: "/api/v1/me/voucher-programs",
        lambda w, f: seen(
            enterprise_own={w.extra["applications_program"]},
            enterprise_other={w.extra["applications_program"]},
            enterprise_unbound=NOT_YOUR_VOUCHER,
        ),
    ),
    # ------------------------------------------------------------ enterprises
    "GET /api/v1/enterprises": Listing(
        lambda w: "/api/v1/enterprises",
        lambda w, f: seen(official={w.enterprise_1, w.enterprise_2, w.extra["enterprise_pending"]}, official_out=set()),
    ),
    "GET /api/v1/me/enterprise": Listing(
        lambda w: "/api/v1/me/enterprise",
        lambda w, f: seen(
            enterprise_own={w.enterprise_1},
            enterprise_other={w.enterprise_2},
            official=NOT_YOUR_ENTERPRISE,
            enterprise_unbound=NOT_YOUR_ENTERPRISE,
        ),
        ids=one,
    ),
    # ------------------------------------------------------------ agencies
    "GET /api/v1/agencies": Listing(lambda w: "/api/v1/agencies", lambda w, f: public({w.agency_a, w.agency_b})),
    "GET /api/v1/agencies/{agency_id}/credit-events (A)": Listing(
        lambda w: f"/api/v1/agencies/{w.agency_a}/credit-events",
        lambda w, f: seen(
            official={w.credit_event_id, f.event_a},
            official_out=OUTSIDE,
            agency_own={w.credit_event_id, f.event_a},
            agency_other=NOT_YOUR_AGENCY,
            agency_unbound=NOT_YOUR_AGENCY,
        ),
        ids=lambda body: {event["id"] for event in body["events"]},
    ),
    "GET /api/v1/agencies/{agency_id}/credit-events (B)": Listing(
        lambda w: f"/api/v1/agencies/{w.agency_b}/credit-events",
        lambda w, f: seen(
            official={f.event_b},
            official_out=OUTSIDE,
            agency_other={f.event_b},
            agency_own=NOT_YOUR_AGENCY,
            agency_unbound=NOT_YOUR_AGENCY,
        ),
        ids=lambda body: {event["id"] for event in body["events"]},
    ),
    "GET /api/v1/me/follows": Listing(
        lambda w: "/api/v1/me/follows",
        lambda w, f: seen(enterprise_own={w.agency_a}, enterprise_other={w.agency_b}, enterprise_unbound={w.agency_a}),
    ),
    # ------------------------------------------------------------ fast-track planner
    "GET /api/v1/fast-track/centres": Listing(lambda w: "/api/v1/fast-track/centres", lambda w, f: public(f.centres)),
    "GET /api/v1/fast-track/centres?region=…": Listing(
        lambda w: "/api/v1/fast-track/centres?region=330106", lambda w, f: public({min(f.centres)})
    ),
    "GET /api/v1/fast-track/centres/{centre_id}/audit": Listing(
        lambda w: f"/api/v1/fast-track/centres/{min(f_centres(w))}/audit",
        lambda w, f: seen(official={"created", "updated"}, official_out=OUTSIDE),
        ids=audit_actions,
    ),
    # Everyone is offered the same agencies; only an enterprise's own staff see where its own vouchers pay.
    "GET /api/v1/fast-track/agencies": Listing(
        lambda w: "/api/v1/fast-track/agencies?track=normal&kind=invention&region=330100",
        lambda w, f: {
            **public({f"{w.agency_a}:-", f"{w.agency_b}:-"}),
            "enterprise_own": frozenset({f"{w.agency_a}:{w.voucher_own}", f"{w.agency_b}:{w.voucher_own}"}),
            "enterprise_other": frozenset({f"{w.agency_a}:{w.voucher_other}", f"{w.agency_b}:{w.voucher_other}"}),
        },
        ids=plan_agencies,
    ),
    "GET /api/v1/agencies/{agency_id}/reviews (A)": Listing(
        lambda w: f"/api/v1/agencies/{w.agency_a}/reviews", lambda w, f: public(f.reviews_a)
    ),
    # B's review was hidden: only officials, B's staff and the enterprise that wrote it still see it.
    "GET /api/v1/agencies/{agency_id}/reviews (B)": Listing(
        lambda w: f"/api/v1/agencies/{w.agency_b}/reviews",
        lambda w, f: {
            **public(set()),
            **{actor: frozenset(f.reviews_b) for actor in ("official", "agency_other", "enterprise_other")},
        },
    ),
    "GET /api/v1/credit-objections": Listing(
        lambda w: "/api/v1/credit-objections",
        lambda w, f: seen(
            official={f.objection_a, f.objection_b},
            agency_own={f.objection_a},
            agency_other={f.objection_b},
            agency_unbound=set(),
            official_out=set(),
        ),
    ),
    "GET /api/v1/credit-objections?agency_id=A": Listing(
        lambda w: f"/api/v1/credit-objections?agency_id={w.agency_a}",
        lambda w, f: seen(
            official={f.objection_a},
            agency_own={f.objection_a},
            agency_other=set(),
            agency_unbound=set(),
            official_out=set(),
        ),
    ),
    # ------------------------------------------------------------ assistant
    "GET /api/v1/assistant/tickets": Listing(
        lambda w: "/api/v1/assistant/tickets",
        lambda w, f: seen(official={f.ticket_own, f.ticket_other, f.ticket_stranger}),
    ),
    "GET /api/v1/me/tickets": Listing(
        lambda w: "/api/v1/me/tickets",
        lambda w, f: seen(
            enterprise_own={f.ticket_own},
            enterprise_other={f.ticket_other},
            official=set(),
            agency_own=set(),
            agency_other=set(),
            enterprise_unbound=set(),
            agency_unbound=set(),
        ),
    ),
    "GET /api/v1/assistant/unanswered": Listing(
        lambda w: "/api/v1/assistant/unanswered", lambda w, f: seen(official={f.unanswered, f.answered_example})
    ),
    "GET /api/v1/assistant/knowledge/groups": Listing(
        lambda w: "/api/v1/assistant/knowledge/groups",
        lambda w, f: seen(official={f.unanswered}),
        ids=lambda body: {q for group in body["items"] for q in group["question_ids"]},
    ),
    "GET /api/v1/assistant/knowledge": Listing(
        lambda w: "/api/v1/assistant/knowledge",
        lambda w, f: seen(
            official={f.knowledge_nationwide, f.knowledge_zhejiang},
            official_out={f.knowledge_nationwide, f.knowledge_shenzhen},
        ),
    ),
    # ------------------------------------------------------------ accounts and WeChat
    "GET /api/v1/me": Listing(
        lambda w: "/api/v1/me",
        lambda w, f: seen(
            **{actor: {account.user_id} for actor in ACTORS if (account := _live(w, actor)) is not None},
        ),
        ids=lambda body: {body["user_id"]},
    ),
    "GET /api/v1/me/wechat/subscriptions": Listing(
        lambda w: "/api/v1/me/wechat/subscriptions",
        lambda w, f: seen(
            enterprise_own={"tpl-rating-changed"},
            enterprise_unbound=set(),
            official=NOT_LINKED,
            agency_own=NOT_LINKED,
            agency_other=NOT_LINKED,
            enterprise_other=NOT_LINKED,
            agency_unbound=NOT_LINKED,
        ),
        ids=lambda body: {t["template_id"] for t in body["templates"] if t["remaining"] > 0},
    ),
    # ------------------------------------------------------------ onboarding
    "GET /api/v1/enterprise-memberships": Listing(
        lambda w: "/api/v1/enterprise-memberships",
        lambda w, f: seen(
            official={
                w.extra["membership_approve"],
                w.extra["membership_reject"],
                w.extra["membership_remove"],
                w.extra["membership_registrant"],
            },
            official_out=set(),
            enterprise_own={w.extra["membership_approve"], w.extra["membership_reject"], w.extra["membership_remove"]},
            enterprise_other=set(),
            enterprise_unbound=NOT_ADMIN,
        ),
    ),
    "GET /api/v1/agencies/{agency_id}/invitations": Listing(
        lambda w: f"/api/v1/agencies/{w.agency_a}/invitations",
        lambda w, f: seen(
            official={w.extra["invitation_revoke"], w.extra["invitation_open"]},
            agency_own={w.extra["invitation_revoke"], w.extra["invitation_open"]},
            official_out=OUTSIDE,
            agency_other=NOT_YOUR_AGENCY,
            agency_unbound=NOT_ADMIN,
        ),
    ),
    "GET /api/v1/officials": Listing(
        lambda w: "/api/v1/officials",
        lambda w, f: seen(
            official={w.official.user_id, w.extra["official_deactivate"], w.extra["official_password"]},
            official_out={_user_id(w.official_out)},
        ),
        ids=lambda body: {row["user_id"] for row in body},
    ),
    "GET /api/v1/account-audit": Listing(
        lambda w: "/api/v1/account-audit",
        lambda w, f: seen(official={"33"}, official_out=set()),
        ids=lambda body: {row["region_code"][:2] for row in body["items"]},
    ),
    "GET /api/v1/me/enterprise-binding": Listing(
        lambda w: "/api/v1/me/enterprise-binding",
        lambda w, f: seen(
            enterprise_own=MEMBERSHIP_NOT_FOUND,
            enterprise_other=MEMBERSHIP_NOT_FOUND,
            enterprise_unbound=MEMBERSHIP_NOT_FOUND,
        ),
        ids=one,
    ),
}

# One of each owned thing, read by its id: the owner and officials see it, anyone else is refused with the code
# the route has always used (403 naming what is not theirs, or 404 for a ticket).
DETAILS: dict[str, Listing] = {
    "GET /api/v1/vouchers/{voucher_id} (1's)": Listing(
        lambda w: f"/api/v1/vouchers/{w.voucher_own}",
        lambda w, f: seen(
            official={w.voucher_own, f"redemption {w.redemption_id}"},
            official_out=OUTSIDE,
            enterprise_own={w.voucher_own, f"redemption {w.redemption_id}"},
            enterprise_other=NOT_YOUR_VOUCHER,
            enterprise_unbound=NOT_YOUR_VOUCHER,
        ),
        ids=lambda body: {body["id"], *(f"redemption {r['id']}" for r in body["redemptions"])},
    ),
    "GET /api/v1/vouchers/{voucher_id} (2's)": Listing(
        lambda w: f"/api/v1/vouchers/{w.voucher_other}",
        lambda w, f: seen(
            official={w.voucher_other, f"redemption {w.redemption_other}"},
            official_out=OUTSIDE,
            enterprise_other={w.voucher_other, f"redemption {w.redemption_other}"},
            enterprise_own=NOT_YOUR_VOUCHER,
            enterprise_unbound=NOT_YOUR_VOUCHER,
        ),
        ids=lambda body: {body["id"], *(f"redemption {r['id']}" for r in body["redemptions"])},
    ),
    "GET /api/v1/redemptions/{redemption_id} (1's at A)": Listing(
        lambda w: f"/api/v1/redemptions/{w.redemption_id}",
        lambda w, f: seen(
            official={w.redemption_id},
            official_out=OUTSIDE,
            agency_own={w.redemption_id},
            enterprise_own={w.redemption_id},
            agency_other=NOT_YOUR_AGENCY,
            agency_unbound=NOT_YOUR_AGENCY,
            enterprise_other=NOT_YOUR_VOUCHER,
            enterprise_unbound=NOT_YOUR_VOUCHER,
        ),
        ids=one,
    ),
    "GET /api/v1/redemptions/{redemption_id} (2's at B)": Listing(
        lambda w: f"/api/v1/redemptions/{w.redemption_other}",
        lambda w, f: seen(
            official={w.redemption_other},
            official_out=OUTSIDE,
            agency_other={w.redemption_other},
            enterprise_other={w.redemption_other},
            agency_own=NOT_YOUR_AGENCY,
            agency_unbound=NOT_YOUR_AGENCY,
            enterprise_own=NOT_YOUR_VOUCHER,
            enterprise_unbound=NOT_YOUR_VOUCHER,
        ),
        ids=one,
    ),
    "GET /api/v1/agencies/{agency_id}/audit (A)": Listing(
        lambda w: f"/api/v1/agencies/{w.agency_a}/audit",
        lambda w, f: seen(
            official=AUDIT_A,
            agency_own=AUDIT_A,
            agency_other=NOT_YOUR_AGENCY,
            agency_unbound=NOT_YOUR_AGENCY,
            official_out=OUTSIDE,
        ),
        ids=lambda body: {f"{line['subject']}:{line['action']}" for line in body["items"]},
    ),
    "GET /api/v1/enterprises/{enterprise_id} (1)": Listing(
        lambda w: f"/api/v1/enterprises/{w.enterprise_1}",
        lambda w, f: seen(
            official={w.enterprise_1},
            official_out=OUTSIDE,
            enterprise_own={w.enterprise_1},
            enterprise_other=NOT_YOUR_ENTERPRISE,
            enterprise_unbound=NOT_YOUR_ENTERPRISE,
        ),
        ids=one,
    ),
    "GET /api/v1/enterprises/{enterprise_id} (2)": Listing(
        lambda w: f"/api/v1/enterprises/{w.enterprise_2}",
        lambda w, f: seen(
            official={w.enterprise_2},
            official_out=OUTSIDE,
            enterprise_other={w.enterprise_2},
            enterprise_own=NOT_YOUR_ENTERPRISE,
            enterprise_unbound=NOT_YOUR_ENTERPRISE,
        ),
        ids=one,
    ),
    "GET /api/v1/voucher-applications/{application_id} (1's)": Listing(
        lambda w: f"/api/v1/voucher-applications/{w.extra['application_own']}",
        lambda w, f: seen(
            official={w.extra["application_own"]},
            enterprise_own={w.extra["application_own"]},
            enterprise_other=NOT_YOUR_APPLICATION,
            enterprise_unbound=NOT_YOUR_APPLICATION,
            official_out=OUTSIDE,
        ),
        ids=one,
    ),
    "GET /api/v1/voucher-applications/{application_id} (2's)": Listing(
        lambda w: f"/api/v1/voucher-applications/{w.extra['application_other']}",
        lambda w, f: seen(
            official={f.application_other},
            enterprise_other={f.application_other},
            enterprise_own=NOT_YOUR_APPLICATION,
            enterprise_unbound=NOT_YOUR_APPLICATION,
            official_out=OUTSIDE,
        ),
        ids=one,
    ),
    "GET /api/v1/me/tickets/{ticket_id} (1's)": Listing(
        lambda w: f"/api/v1/me/tickets/{w.extra['ticket_id']}",
        lambda w, f: seen(
            enterprise_own={f.ticket_own},
            **{a: TICKET_NOT_FOUND for a in ACTORS if a not in ("enterprise_own", "anonymous", "deactivated")},
        ),
        ids=one,
    ),
    "GET /api/v1/me/tickets/{ticket_id} (2's)": Listing(
        lambda w: f"/api/v1/me/tickets/{w.extra['ticket_other']}",
        lambda w, f: seen(
            enterprise_other={f.ticket_other},
            **{a: TICKET_NOT_FOUND for a in ACTORS if a not in ("enterprise_other", "anonymous", "deactivated")},
        ),
        ids=one,
    ),
}


def f_centres(w: World) -> set[int]:
    return {w.extra["centre_hangzhou"], w.extra["centre_ningbo"]}


def _user_id(account: Any) -> int:
    assert account is not None
    return int(account.user_id)


AUDIT_A: set[int | str] = {"credit_event:event_recorded", "review:review_written", "objection:objection_filed"}


def _live(world: World, actor: str) -> Any:
    return None if actor in ("anonymous", "deactivated") else who(world, actor)


async def furnish(client: Client, db: Database, w: World) -> Furnished:
    """Something of each owner in every list (see the module's docstring)."""
    official = w.official.headers
    flags: set[int] = set()
    reviews: list[set[int]] = []
    for staff, customer, redemption, agency in (
        (w.agency_own, w.enterprise_own, w.redemption_id, w.agency_a),
        (w.agency_other, w.enterprise_other, w.redemption_other, w.agency_b),
    ):
        path = f"/api/v1/redemptions/{redemption}/confirm"
        await expect(await client.post(path, json=EVIDENCE, headers=staff.headers), 200)
        detail = await expect(await client.get(f"/api/v1/redemptions/{redemption}", headers=official), 200)
        flags |= {flag["id"] for flag in detail["flags"]}
        review = {"redemption_id": redemption, "rating": 4, "comment": "delivered on time"}
        path = f"/api/v1/agencies/{agency}/reviews"
        reviews.append({(await expect(await client.post(path, json=review, headers=customer.headers), 201))["id"]})
    for follower, agency in ((w.enterprise_own, w.agency_a), (w.enterprise_other, w.agency_b)):
        await expect(await client.post(f"/api/v1/agencies/{agency}/follow", headers=follower.headers), 200)
    assert w.enterprise_unbound is not None
    await expect(await client.post(f"/api/v1/agencies/{w.agency_a}/follow", headers=w.enterprise_unbound.headers), 200)
    events = []
    for agency in (w.agency_a, w.agency_b):
        event = {"category": "late_annual_report", "points": -1, "reason": "annual report filed late"}
        path = f"/api/v1/agencies/{agency}/credit-events"
        events.append((await expect(await client.post(path, json=event, headers=official), 201))["event"]["id"])
    objections = []
    for staff, agency, event_id in ((w.agency_own, w.agency_a, events[0]), (w.agency_other, w.agency_b, events[1])):
        path = f"/api/v1/agencies/{agency}/credit-events/{event_id}/objection"
        body = {"reason": "filed on time", "evidence": "the filing receipt"}
        objections.append(
            (await expect(await client.post(path, json=body, headers=staff.headers), 201))["objection"]["id"]
        )
    [hidden] = reviews[1]
    path = f"/api/v1/agencies/{w.agency_b}/reviews/{hidden}/hide"
    await expect(await client.post(path, json={"reason": "abusive"}, headers=official), 200)
    path = f"/api/v1/voucher-programs/{w.extra['applications_program']}/applications"
    application_other = (await expect(await client.post(path, json={}, headers=w.enterprise_other.headers), 201))["id"]
    w.extra["application_other"] = application_other
    consent = {"results": {"tpl-rating-changed": "accept"}}
    path = "/api/v1/me/wechat/subscriptions"
    await expect(await client.post(path, json=consent, headers=w.enterprise_own.headers), 200)
    async with db.transaction() as session:
        other = ConsultationTicket(
            sender_id=f"u:{w.enterprise_other.user_id}",
            channel="miniprogram",
            user_id=w.enterprise_other.user_id,
            enterprise_id=w.enterprise_2,
            question="商标续展什么时候办？",
        )
        stranger = ConsultationTicket(sender_id="wx:o-stranger", channel="wechat", question="你们在哪里办公？")
        unanswered = UnansweredQuestion(sender_id="wx:o-stranger", text="今天天气怎么样", reason="out_of_scope")
        session.add_all([other, stranger, unanswered])
        answers = [_official_answer(region) for region in ("000000", "440300")]
        session.add_all(answers)
        await session.flush()
        # A question the Zhejiang answer answered: a labelled example, no longer in the queue's groups.
        example = UnansweredQuestion(
            sender_id="wx:o-stranger",
            text="数据知识产权登记在哪里办",
            reason="low_confidence",
            knowledge_answer_id=w.extra["knowledge_answer"],
        )
        session.add(example)
        await session.flush()
        w.extra["ticket_other"] = other.id
        ids = (other.id, stranger.id, unanswered.id)
    for key, name, region in (
        ("centre_hangzhou", "杭州测试保护中心", "330100"),
        ("centre_ningbo", "宁波测试保护中心", "330200"),
    ):
        centre = {"name": name, "seat_region": region, "region_codes": [region], "application_types": ["invention"]}
        made = await expect(await client.post("/api/v1/fast-track/centres", json=centre, headers=official), 201)
        w.extra[key] = made["id"]
    path = f"/api/v1/fast-track/centres/{w.extra['centre_hangzhou']}"
    await expect(await client.patch(path, json={"contact": "0571-00000000"}, headers=official), 200)
    assert flags, "confirming within minutes flags the redemption"
    return Furnished(
        flags=flags,
        reviews_a=reviews[0],
        reviews_b=reviews[1],
        event_a=events[0],
        event_b=events[1],
        objection_a=objections[0],
        objection_b=objections[1],
        ticket_own=w.extra["ticket_id"],
        ticket_other=ids[0],
        ticket_stranger=ids[1],
        unanswered=ids[2],
        application_other=application_other,
        knowledge_nationwide=answers[0].id,
        knowledge_zhejiang=w.extra["knowledge_answer"],
        knowledge_shenzhen=answers[1].id,
        answered_example=example.id,
        centres=f_centres(w),
    )


def _official_answer(region_code: str) -> KnowledgeAnswer:
    return KnowledgeAnswer(
        question=f"{region_code} 的问题",
        answer="答复。",
        lang="zh",
        intent="",
        source_document="某通知",
        source_article="",
        source_date=dt.date(2024, 1, 1),
        source_status="in_force",
        region_code=region_code,
        status="active",
    )


async def look(client: Client, world: World, listing: Listing, actor: str) -> Seen:
    account = who(world, actor)
    response = await client.get(listing.path(world), headers=account.headers if account else {})
    body = await response.json()
    if response.status == 200:
        return frozenset(listing.ids(body))
    return response.status, body["error"]["code"]


async def test_each_caller_sees_exactly_its_own(client: Client, db: Database, world: World) -> None:
    """Every list and owned detail × every actor; the differences from the tables are reported together."""
    furnished = await furnish(client, db, world)
    problems = []
    for key, listing in {**LISTS, **DETAILS}.items():
        wanted = listing.shown(world, furnished)
        assert set(wanted) == set(ACTORS), key
        for actor in ACTORS:
            got = await look(client, world, listing, actor)
            if got != wanted[actor]:
                problems.append(f"{key} as {actor}: expected {_show(wanted[actor])}, got {_show(got)}")
    assert not problems, "\n".join(problems)


def _show(value: Seen) -> str:
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(map(str, value))) + "}"
    return f"{value[0]} {value[1]}"


def answers_a_list(response: Any) -> bool:
    """A list, or a model holding one (a page's items, a record's events, the consents' templates)."""
    if get_origin(response) is list:
        return True
    if isinstance(response, type) and issubclass(response, BaseModel):
        return any(get_origin(f.annotation) is list for f in response.model_fields.values())
    return False


# Routes that answer a model holding lists but show one thing, not a list of owned things.
NOT_LISTS = {
    "GET /api/v1/agencies/{agency_id}": "one public profile (its services, rating history, branches)",
    "GET /api/v1/voucher-programs/{program_id}": "one public program (its services and agencies)",
    "GET /api/v1/fast-track/centres/{centre_id}": "one public protection centre (its regions, fields, words)",
    "GET /api/v1/voucher-programs/{program_id}/report/series": "official-only totals per period (the matrix)",
    "GET /api/v1/wechat/jssdk-config": "the JS-SDK's config for one page (its list of APIs is a constant)",
    "GET /api/v1/wechat/qrcodes": "official-only: every poster code with its scan counts (the matrix)",
}


async def test_every_list_route_is_here(app: web.Application) -> None:
    listed = {key.split(" (")[0].split("?")[0] for key in {**LISTS, **DETAILS}}
    for spec in app[API].routes:
        key = f"{spec.method} {spec.path}"
        if spec.method == "GET" and answers_a_list(spec.response) and key not in NOT_LISTS:
            assert key in listed, f"say in LISTS (or DETAILS) what each caller sees of {key}"
