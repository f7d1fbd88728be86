"""Telling a person their binding to an enterprise was decided, and an enterprise's administrators that someone asks
to join it: a WeChat subscribe message, queued in the outbox in the transaction of the request or decision (the push
worker sends it on its next poll), to the mini-program openid of each user who consented to the template. Wired
here, in the composition root, beside the WeChat domain's own pushes."""

from __future__ import annotations

import datetime as dt
import json

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from core.events import EVENTS, BindingRequested, MembershipDecided
from core.state import SETTINGS
from wechat import repository

OUTCOMES_ZH = {"approved": "已通过", "rejected": "未通过", "removed": "已解除"}


def _fit(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def setup(app: web.Application) -> None:
    template_id = app[SETTINGS].wechat_template_account_changed

    async def on_membership_decided(session: AsyncSession, event: MembershipDecided) -> None:
        openids = await accounts.wechat_openids(session, [event.user_id])
        if event.user_id not in openids:
            return
        if not await repository.users_with_consent(session, [event.user_id], template_id):
            return
        now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
        await repository.enqueue_push(
            session,
            user_id=event.user_id,
            openid=openids[event.user_id],
            template_id=template_id,
            subject=f"membership:{event.user_id}",
            version=f"{event.outcome}@{int(now.timestamp())}",
            data=json.dumps(
                {
                    "thing1": _fit(event.enterprise_name, 20),
                    "phrase2": OUTCOMES_ZH.get(event.outcome, event.outcome),
                    "thing3": _fit(event.note or "企业绑定申请", 20),
                    "time4": now.strftime("%Y-%m-%d %H:%M"),
                },
                ensure_ascii=False,
            ),
            page="pages/me/binding",
        )

    async def on_binding_requested(session: AsyncSession, event: BindingRequested) -> None:
        administrators = await accounts.enterprise_administrators(session, event.enterprise_id)
        openids = await accounts.wechat_openids(session, administrators)
        consenting = await repository.users_with_consent(session, list(openids), template_id)
        now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
        for user_id in sorted(consenting):
            await repository.enqueue_push(
                session,
                user_id=user_id,
                openid=openids[user_id],
                template_id=template_id,
                subject=f"binding-request:{event.membership_id}",
                version="pending",
                data=json.dumps(
                    {
                        "thing1": _fit(event.enterprise_name, 20),
                        "phrase2": "待审批",
                        "thing3": _fit(f"{event.person_name}申请绑定", 20),
                        "time4": now.strftime("%Y-%m-%d %H:%M"),
                    },
                    ensure_ascii=False,
                ),
                page="pages/me/binding",
            )

    app[EVENTS].subscribe(MembershipDecided, on_membership_decided)
    app[EVENTS].subscribe(BindingRequested, on_binding_requested)
