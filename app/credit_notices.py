"""Telling an agency the decision on its credit objection, through the push outbox that already tells followers of
rating changes (`wechat.pushes`): the staff member who objected gets a subscribe message on the rating-change
template when they use WeChat and consented to it. The decision is in the agency's credit record and audit either
way (`GET /api/v1/credit-objections`, `GET /api/v1/agencies/{id}/audit`).

Wired here, in the composition root, because it joins agencies' event to the accounts' openids and the WeChat
outbox; the outbox's worker sends it on its next poll.
"""

from __future__ import annotations

import datetime as dt
import json

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from core.events import CreditObjectionDecided
from core.state import EVENTS, SETTINGS
from wechat import repository as outbox

OUTCOME_ZH = {"upheld": "异议未采纳", "reversed": "异议成立"}  # the template's phrase field: at most 5 characters


def _fit(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def notice_data(event: CreditObjectionDecided, now: dt.datetime) -> dict[str, str]:
    """The rating-change template's fields for a decision (thing: at most 20 characters)."""
    if event.outcome == "reversed":
        detail = f"扣分已撤销，现{event.new_level}级{event.new_score}分"
    else:
        detail = f"扣分维持：{event.reason}"
    return {
        "thing1": _fit(event.agency_name, 20),
        "phrase2": OUTCOME_ZH.get(event.outcome, event.outcome)[:5],
        "thing3": _fit(detail, 20),
        "time4": now.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M"),
    }


def setup(app: web.Application) -> None:
    template_id = app[SETTINGS].wechat_template_rating_changed

    async def tell_objector(session: AsyncSession, event: CreditObjectionDecided) -> None:
        if event.filed_by is None:
            return
        recipients = await accounts.wechat_openids(session, [event.filed_by])
        for user_id in sorted(await outbox.users_with_consent(session, list(recipients), template_id)):
            await outbox.enqueue_push(
                session,
                user_id=user_id,
                openid=recipients[user_id],
                template_id=template_id,
                subject=f"objection:{event.objection_id}",
                version=event.outcome,  # decided once: one message per objection
                data=json.dumps(notice_data(event, dt.datetime.now(dt.UTC)), ensure_ascii=False),
                page=f"pages/agency/credit?id={event.agency_id}",
            )

    app[EVENTS].subscribe(CreditObjectionDecided, tell_objector)
