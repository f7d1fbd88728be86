"""HTTP surface of the WeChat domain: `/wechat` (WeChat's servers) and the mini-program's JSON endpoints."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from core.auth import principal_of
from core.http import Api, session
from core.ratelimit import RateLimiter
from core.state import CACHE, DATABASE, EVENTS, HTTP_CLIENT, SETTINGS
from core.wechat.client import WeChatClient
from core.wechat.crypto import SafeMode
from core.wechat.tokens import TokenStore
from wechat import service, webhook
from wechat.permissions import PERMISSIONS, Action
from wechat.pushes import PUSHES, Pushes
from wechat.schemas import ConsentsIn, ConsentsOut, WeChatLoginIn, WeChatLoginOut
from wechat.state import WECHAT, WeChatRuntime
from wechat.worker import PushWorker

log = logging.getLogger(__name__)

api = Api()
DRAIN_SECONDS = 5.0


def setup(app: web.Application) -> None:
    app[PUSHES] = Pushes(app[SETTINGS])
    app[PUSHES].subscribe_to(app[EVENTS])
    # Not JSON API routes: WeChat posts XML and must get plain answers (the error middleware leaves /wechat alone).
    app.router.add_get("/wechat", webhook.verify, name="wechat_verify")
    app.router.add_post("/wechat", webhook.receive, name="wechat_receive")
    app.cleanup_ctx.append(_runtime)


async def _runtime(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    client = WeChatClient(
        app[HTTP_CLIENT],
        base_url=str(settings.wechat_api_base),
        appid=settings.wechat_appid,
        secret=settings.wechat_secret,
    )
    client.tokens = TokenStore(app[CACHE], settings.wechat_appid, client.fetch_stable_token)
    safe_mode = (
        SafeMode(settings.wechat_token, settings.wechat_aes_key, settings.wechat_appid)
        if settings.wechat_aes_key
        else None
    )
    worker = PushWorker(app[DATABASE], client, app[PUSHES], poll_seconds=settings.wechat_push_poll_seconds)
    runtime = WeChatRuntime(client=client, safe_mode=safe_mode, worker=worker, limiter=RateLimiter(settings))
    app[WECHAT] = runtime
    worker_task = asyncio.create_task(worker.run_forever()) if settings.wechat_push_worker else None
    yield
    if worker_task is not None:
        worker.stop()
        try:
            await asyncio.wait_for(asyncio.shield(worker_task), timeout=DRAIN_SECONDS)
        except TimeoutError:
            worker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker_task
    if runtime.tasks:  # answers still on their way to custom/send get a moment to finish
        _done, pending = await asyncio.wait(set(runtime.tasks), timeout=DRAIN_SECONDS)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)


@api.route(
    "POST",
    "/api/v1/auth/wechat-login",
    body=WeChatLoginIn,
    response=WeChatLoginOut,
    tags=["auth", "wechat"],
    errors=[401, 403, 429, 503],
    summary="Mini-program login: a wx.login code for our bearer token (the account is created on first login)",
)
async def wechat_login(request: web.Request, body: WeChatLoginIn) -> WeChatLoginOut:
    app = request.app
    return await service.wechat_login(session(request), app[SETTINGS], app[CACHE], app[WECHAT].client, body.code)


@api.route(
    "GET",
    "/api/v1/me/wechat/subscriptions",
    response=ConsentsOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.MANAGE_OWN_CONSENTS),
    tags=["wechat"],
    errors=[401, 409],
    summary="My subscribe-message consents: sends still allowed per template",
)
async def my_consents(request: web.Request) -> ConsentsOut:
    return await service.consents(session(request), request.app[SETTINGS], principal_of(request))


@api.route(
    "POST",
    "/api/v1/me/wechat/subscriptions",
    body=ConsentsIn,
    response=ConsentsOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.MANAGE_OWN_CONSENTS),
    tags=["wechat"],
    errors=[401, 409],
    summary="Record what wx.requestSubscribeMessage returned; each accept allows one more send",
)
async def register_consents(request: web.Request, body: ConsentsIn) -> ConsentsOut:
    return await service.register_consents(session(request), request.app[SETTINGS], principal_of(request), body)
