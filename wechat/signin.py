"""Signing in to the phone view: web authorization (网页授权) inside WeChat, one-time links outside it.

Inside WeChat (the phone view sees `MicroMessenger` in its user agent) a page without a session navigates to
`GET /api/v1/auth/wechat-oauth?next=/m/agencies/3`:

1. `next` is checked against our own phone-view pages (`/m…`, no other host, no `..`): else a failure page.
2. A random nonce goes into a signed, HttpOnly cookie (with `next` and an expiry) and, as `state`, into WeChat's
   authorization URL (`snsapi_base`: silent). The state is bound to this browser: a callback whose state is not
   this browser's cookie nonce is refused (CSRF: someone else's code cannot sign you in as them).
3. WeChat comes back to `/api/v1/auth/wechat-oauth/callback?code&state`: the state is checked and used once, the
   code claimed once (in the shared cache; WeChat itself refuses a second exchange too), then exchanged
   (`sns/oauth2/access_token`, wechatpy) for the openid; the follower's user is found or created
   (`accounts.links.user_for_follower`, the same user the chat knows), and a one-time hand-over link (60 s) is
   passed to the phone view in the URL fragment (`/console/m/signin?next=…#t=…`: a fragment never reaches a server
   log or a Referer), which exchanges it for a bearer token (`POST /api/v1/auth/sign-in-link`).

Any refusal answers an HTML page saying what happened and what to do (reopen the link from the chat, or sign in
with a password), with the error code in the page and in `X-Error-Code`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import logging
import re
import secrets
import time
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import links
from core.cache import Cache, CacheUnavailable
from core.db import after_commit
from core.settings import Settings
from core.wechat.client import WeChatClient
from core.wechat.exceptions import InvalidCode, WeChatError
from core.wechat.platform import WeChatPlatform
from wechat.webhook import USERS_NAMESPACE

log = logging.getLogger(__name__)

COOKIE = "ipa_wx_oauth"
COOKIE_PATH = "/api/v1/auth/wechat-oauth"
STATE_TTL = 600  # the authorization round trip: seconds, not minutes, in practice
CODE_TTL = 600  # WeChat's codes live 5 minutes
MAX_NEXT = 300
# Our own phone-view pages: `/m`, `/m/…` with path segments and an optional plain query; nothing else.
_NEXT = re.compile(r"^/m(?:/[A-Za-z0-9._~\-]*)*(?:\?[A-Za-z0-9._~\-=&%+]*)?$")
DEFAULT_NEXT = "/m/"


class Failure(Exception):
    """A refused sign-in: answered as a page saying what to do; `next_path` (when known) offers a retry."""

    def __init__(self, status: int, code: str, title: str, advice: str, next_path: str | None = None) -> None:
        super().__init__(code)
        self.status, self.code, self.title, self.advice, self.next_path = status, code, title, advice, next_path


def checked_next(raw: str | None) -> str:
    """The return path when it is one of our phone-view pages; a Failure otherwise (no open redirect)."""
    if raw is None or raw == "":
        return DEFAULT_NEXT
    if len(raw) > MAX_NEXT or ".." in raw or not _NEXT.match(raw):
        raise Failure(
            400,
            "oauth_next_invalid",
            "链接的目标页面不属于本服务 · The link does not point to one of our pages",
            "请回到公众号，点击消息或菜单里的链接重新打开。 "
            "Go back to the chat and open the link from a message or the menu.",
        )
    return raw


def _key(settings: Settings) -> bytes:
    """The cookie's signing key, derived from WECHAT_SECRET (a secret the server already must have) for this use."""
    return hmac.new(settings.wechat_secret.encode(), b"ipa/wechat-oauth-state/v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_cookie(settings: Settings, nonce: str, next_path: str, expires: int) -> str:
    payload = _b64(json.dumps({"n": nonce, "p": next_path, "e": expires}, separators=(",", ":")).encode())
    mac = _b64(hmac.new(_key(settings), payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{mac}"


def read_cookie(settings: Settings, value: str | None) -> tuple[str, str] | None:
    """(nonce, next) from a cookie we signed that has not expired; None for anything else."""
    if not value or value.count(".") != 1:
        return None
    payload, mac = value.split(".")
    expected = _b64(hmac.new(_key(settings), payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        return None
    try:
        data = json.loads(_unb64(payload))
        nonce, next_path, expires = str(data["n"]), str(data["p"]), int(data["e"])
    except (ValueError, KeyError, TypeError):
        return None
    return (nonce, next_path) if expires > time.time() else None


def redirect(location: str) -> web.Response:
    """A 302 answered (not raised, so the request's unit of work sees a success)."""
    response = web.Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})
    return response


def callback_url(settings: Settings) -> str:
    return f"{settings.public_base}/api/v1/auth/wechat-oauth/callback"


def start(settings: Settings, platform: WeChatPlatform, next_raw: str | None) -> web.Response:
    """The redirect to WeChat's authorization page, with the state cookie set."""
    next_path = checked_next(next_raw)
    nonce = secrets.token_hex(16)  # WeChat's state: letters and digits, at most 128 bytes
    response = redirect(platform.authorize_url(callback_url(settings), nonce))
    response.set_cookie(
        COOKIE,
        sign_cookie(settings, nonce, next_path, int(time.time()) + STATE_TTL),
        max_age=STATE_TTL,
        path=COOKIE_PATH,
        httponly=True,
        secure=settings.public_base.startswith("https://"),
        samesite="Lax",  # sent on WeChat's top-level redirect back to us, not on cross-site subrequests
    )
    return response


_STATE_REFUSED = (
    "登录校验未通过 · This sign-in could not be verified",
    "请回到公众号，重新点击链接打开页面（不要转发或复制授权后的地址）。 Go back to the chat and open the link again "
    "(do not forward or copy the address after authorization).",
)
_CODE_REFUSED = (
    "授权码已使用或已失效 · This authorization was already used or has expired",
    "请回到公众号重新打开链接，微信会重新授权。 Open the link from the chat again; WeChat authorizes afresh.",
)


async def _claim(cache: Cache, key: str, ttl: int) -> bool:
    """True the first time `key` is claimed; when the cache is down, True (WeChat still refuses a reused code)."""
    try:
        return await cache.add(key, "1", ttl)
    except CacheUnavailable:
        log.error("cache down: cannot record a used OAuth state / code; relying on WeChat's single-use codes")
        return True


async def finish(
    session: AsyncSession,
    settings: Settings,
    cache: Cache,
    platform: WeChatPlatform,
    client: WeChatClient,
    *,
    cookie: str | None,
    state: str,
    code: str,
) -> str:
    """The callback: checks, code exchange, the follower's user; the phone-view URL to go on to (with a hand-over
    link in its fragment)."""
    bound = read_cookie(settings, cookie)
    if bound is None or not state or not hmac.compare_digest(bound[0].encode(), state.encode()):
        raise Failure(403, "oauth_state_invalid", *_STATE_REFUSED)
    nonce, next_path = bound
    if not await _claim(cache, f"wechat:oauth-state:{nonce}", STATE_TTL):
        raise Failure(403, "oauth_state_used", *_STATE_REFUSED, next_path=next_path)
    if not code or len(code) > 128:
        raise Failure(400, "oauth_code_missing", *_CODE_REFUSED, next_path=next_path)
    if not await _claim(cache, f"wechat:oauth-code:{hashlib.sha256(code.encode()).hexdigest()}", CODE_TTL):
        raise Failure(400, "oauth_code_used", *_CODE_REFUSED, next_path=next_path)
    try:
        identity = await platform.oauth_identity(code)
    except InvalidCode:
        raise Failure(400, "oauth_code_used", *_CODE_REFUSED, next_path=next_path) from None
    except WeChatError as exc:
        log.warning("web authorization: code exchange failed", extra={"errcode": exc.errcode, "error": exc.errmsg})
        raise Failure(
            503,
            "wechat_unavailable",
            "微信暂时没有响应 · WeChat did not answer",
            "请稍后重试。 Please try again in a moment.",
            next_path=next_path,
        ) from None
    unionid = identity.unionid
    if unionid is None and settings.wechat_unionid_linking:
        unionid = await _follower_unionid(client, identity.openid)
    user, created = await links.user_for_follower(
        session, openid=identity.openid, unionid=unionid, unionid_linking=settings.wechat_unionid_linking
    )
    if not user.is_active:
        raise Failure(
            403, "account_disabled", "账号已停用 · This account is disabled", "请联系主管部门。 Contact the office."
        )
    handover = await links.issue_sign_in_link(session, user, ttl=links.HANDOVER_TTL, next_path=next_path)
    if created:

        async def forget_strangers() -> None:  # the webhook may have cached this follower as nobody
            await cache.bump(USERS_NAMESPACE)

        after_commit(session, forget_strangers)
    log.info("signed in by web authorization", extra={"user_id": user.id, "created": created})
    return f"{settings.public_base}/console/m/signin?next={quote(next_path, safe='/')}#t={handover}"


async def _follower_unionid(client: WeChatClient, openid: str) -> str | None:
    """snsapi_base gives no unionid; `cgi-bin/user/info` does for a follower (when the account is bound)."""
    try:
        return await client.user_unionid(openid)
    except WeChatError as exc:
        log.info("no unionid for this reader", extra={"errcode": exc.errcode})
        return None


PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="error-code" content="{code}"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 3em auto; padding: 0 1em; line-height: 1.6">
<h1 style="font-size: 1.2em">{title}</h1>
<p>{advice}</p>
<p>{retry}<a href="{login}" data-test="oauth-login">账号密码登录 · Sign in with a password</a></p>
<p style="color: #888; font-size: .85em">错误代码 · error code: <code data-test="oauth-error">{code}</code></p>
</body></html>
"""


def failure_page(settings: Settings, failure: Failure) -> web.Response:
    retry = ""
    if failure.next_path is not None:
        again = f"{settings.public_base}/api/v1/auth/wechat-oauth?next={quote(failure.next_path, safe='/')}"
        retry = f'<a href="{html.escape(again)}" data-test="oauth-retry">重新授权 · Try again</a> · '
    body = PAGE.format(
        code=html.escape(failure.code),
        title=html.escape(failure.title),
        advice=html.escape(failure.advice),
        retry=retry,
        login=html.escape(f"{settings.public_base}/console/m/login"),
    )
    response = web.Response(status=failure.status, text=body, content_type="text/html")
    response.headers["X-Error-Code"] = failure.code
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
