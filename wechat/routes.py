"""HTTP surface of the WeChat domain: `/wechat` (WeChat's servers) and the mini-program's JSON endpoints."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator

from aiohttp import web

from accounts import links
from accounts.schemas import MeOut
from accounts.service import me_of
from core.auth import principal_of
from core.cache import Cache
from core.db import after_commit
from core.errors import NotFound, field_error
from core.http import Api, path_id, session
from core.ratelimit import RateLimiter
from core.settings import Settings
from core.state import CACHE, DATABASE, EVENTS, HTTP_CLIENT, SETTINGS
from core.wechat.client import WeChatClient
from core.wechat.crypto import SafeMode
from core.wechat.exceptions import WeChatError
from core.wechat.links import PHONE_VIEW
from core.wechat.platform import WeChatPlatform
from core.wechat.tokens import TokenStore
from wechat import qrcodes, service, signin, webhook
from wechat.errors import WeChatUnreachable
from wechat.permissions import PERMISSIONS, Action
from wechat.pushes import PUSHES, Pushes
from wechat.schemas import (
    ConsentsIn,
    ConsentsOut,
    FollowerLinkIn,
    JsSdkConfigOut,
    JsSdkQuery,
    OAuthCallbackQuery,
    OAuthStartQuery,
    ScanReportOut,
    SignedInOut,
    SignInLinkIn,
    WeChatLoginIn,
    WeChatLoginOut,
)
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
    tokens = TokenStore(app[CACHE], settings.wechat_appid, client.fetch_stable_token)
    client.tokens = tokens
    safe_mode = (
        SafeMode(settings.wechat_token, settings.wechat_aes_key, settings.wechat_appid)
        if settings.wechat_aes_key
        else None
    )
    worker = PushWorker(app[DATABASE], client, app[PUSHES], poll_seconds=settings.wechat_push_poll_seconds)
    runtime = WeChatRuntime(
        client=client,
        safe_mode=safe_mode,
        worker=worker,
        limiter=RateLimiter(settings),
        platform=platform_for(settings, app[CACHE], tokens),
    )
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


def platform_for(settings: Settings, cache: Cache, tokens: TokenStore) -> WeChatPlatform:
    """wechatpy's clients on the configured bases, sharing the access token with the aiohttp client."""
    return WeChatPlatform(
        cache,
        tokens,
        api_base=str(settings.wechat_api_base),
        open_base=settings.wechat_open_host,
        mp_base=settings.wechat_mp_host,
        appid=settings.wechat_appid,
        secret=settings.wechat_secret,
    )


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


# ---------------------------------------------------------------- signing in to the phone view

_PAGE = {
    "description": "an HTML page saying what went wrong and what to do (its code in X-Error-Code); a malformed query "
    "is answered in the JSON error shape",
    "content": {"text/html": {"schema": {"type": "string"}}},
}
_REDIRECT = {"description": "redirect (Location)"}


@api.route(
    "GET",
    "/api/v1/auth/wechat-oauth",
    query=OAuthStartQuery,
    tags=["auth", "wechat"],
    extra_responses={"302": _REDIRECT, "400": _PAGE},
    summary="Web authorization inside WeChat: to WeChat's authorization page (snsapi_base), state bound to this "
    "browser",
)
async def wechat_oauth_start(request: web.Request, query: OAuthStartQuery) -> web.Response:
    settings = request.app[SETTINGS]
    try:
        return signin.start(settings, request.app[WECHAT].platform, query.next)
    except signin.Failure as failure:
        return signin.failure_page(settings, failure)


@api.route(
    "GET",
    "/api/v1/auth/wechat-oauth/callback",
    query=OAuthCallbackQuery,
    tags=["auth", "wechat"],
    errors=[503],
    extra_responses={"302": _REDIRECT, "400": _PAGE, "403": _PAGE, "503": _PAGE},
    summary="WeChat's redirect back: state and code checked and used once, the follower signed in; on to the page",
)
async def wechat_oauth_callback(request: web.Request, query: OAuthCallbackQuery) -> web.Response:
    app = request.app
    settings = app[SETTINGS]
    try:
        # A write in a GET: its own write transaction, committed only when the sign-in succeeds.
        async with app[DATABASE].transaction() as writing:
            target = await signin.finish(
                writing,
                settings,
                app[CACHE],
                app[WECHAT].platform,
                app[WECHAT].client,
                cookie=request.cookies.get(signin.COOKIE),
                state=query.state,
                code=query.code,
            )
    except signin.Failure as failure:
        log.info("web authorization refused", extra={"code": failure.code})
        return signin.failure_page(settings, failure)
    response = signin.redirect(target)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.del_cookie(signin.COOKIE, path=signin.COOKIE_PATH)
    return response


@api.route(
    "POST",
    "/api/v1/auth/sign-in-link",
    body=SignInLinkIn,
    response=SignedInOut,
    tags=["auth", "wechat"],
    errors=[401, 403],
    summary="Use a one-time sign-in link (sent in the chat, or the hand-over after web authorization) for a token",
)
async def sign_in_link(request: web.Request, body: SignInLinkIn) -> SignedInOut:
    signed = await links.sign_in_with_link(session(request), request.app[SETTINGS], body.token)
    issued = signed.issued
    return SignedInOut(token=issued.token, expires_at=issued.expires_at, user=me_of(issued.user), next=signed.next_path)


@api.route(
    "POST",
    "/api/v1/me/wechat/link",
    body=FollowerLinkIn,
    response=MeOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.LINK_FOLLOWER),
    tags=["wechat"],
    errors=[401, 409],
    summary="Link the official-account follower named by a one-time link (sent in the chat) to my account",
)
async def link_follower(request: web.Request, body: FollowerLinkIn) -> MeOut:
    acting = PERMISSIONS.check(principal_of(request), Action.LINK_FOLLOWER)
    user = await links.link_follower(session(request), acting, body.token)

    async def forget_strangers() -> None:  # the webhook may have cached this follower as someone else / nobody
        await request.app[CACHE].bump(webhook.USERS_NAMESPACE)

    after_commit(session(request), forget_strangers)
    return me_of(user)


@api.route(
    "GET",
    "/api/v1/wechat/jssdk-config",
    query=JsSdkQuery,
    response=JsSdkConfigOut,
    tags=["wechat"],
    errors=[422, 503],
    summary="The JS-SDK's wx.config for a phone-view page (signed with the shared jsapi_ticket)",
)
async def jssdk_config(request: web.Request, query: JsSdkQuery) -> JsSdkConfigOut:
    settings = request.app[SETTINGS]
    page = query.url.split("#", 1)[0]
    if not page.startswith(f"{settings.public_base}{PHONE_VIEW}"):
        raise field_error("url", f"must be a phone-view page of this service ({settings.public_base}{PHONE_VIEW}…)")
    try:
        config = await request.app[WECHAT].platform.jssdk_config(
            page, nonce=secrets.token_hex(8), timestamp=int(time.time())
        )
    except WeChatError as exc:
        log.warning("jsapi_ticket unavailable", extra={"errcode": exc.errcode, "error": exc.errmsg})
        raise WeChatUnreachable("WeChat did not give a JS-SDK ticket; try again") from None
    return JsSdkConfigOut(
        appId=config.appid,
        timestamp=config.timestamp,
        nonceStr=config.nonce,
        signature=config.signature,
        jsApiList=list(JS_API_LIST),
    )


JS_API_LIST = ("updateAppMessageShareData", "updateTimelineShareData")


# ---------------------------------------------------------------- poster QR codes


@api.route(
    "GET",
    "/api/v1/wechat/qrcodes/{kind}/{target_id}",
    auth=True,
    roles=PERMISSIONS.roles(Action.DOWNLOAD_QRCODE),
    tags=["wechat"],
    errors=[401, 403, 404, 503],
    extra_responses={"200": {"description": "PNG", "content": {"image/png": {"schema": {"type": "string"}}}}},
    summary="A poster QR code (with a scene) for an agency or a voucher programme, as a PNG to download",
    writes=True,  # the first download of a poster records its QR code
)
async def qrcode_poster(request: web.Request) -> web.Response:
    kind = request.match_info["kind"]
    if kind not in qrcodes.KINDS:
        raise NotFound(f"no poster kind {kind[:24]!r}: agency or program")
    target_id = path_id(request, "target_id")
    try:
        image, filename = await qrcodes.poster(
            session(request), request.app[WECHAT].platform, principal_of(request), kind, target_id
        )
    except WeChatError as exc:
        log.warning("poster QR code failed", extra={"errcode": exc.errcode, "error": exc.errmsg})
        raise WeChatUnreachable("WeChat did not make the QR code; try again") from None
    response = web.Response(body=image, content_type="image/png")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@api.route(
    "GET",
    "/api/v1/wechat/qrcodes",
    response=ScanReportOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_SCAN_REPORT),
    tags=["wechat"],
    summary="Poster QR codes and their scans (new followers, followers) per agency and programme (officials)",
)
async def scan_report(request: web.Request) -> ScanReportOut:
    return await qrcodes.scan_report(session(request), principal_of(request))
