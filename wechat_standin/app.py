"""The stand-in's HTTP API: the parts of WeChat's API the backend calls, plus `/_standin/*` to look inside.

Behaviour follows WeChat's documentation: tokens live 7200 s and the stable token is the same for every caller
until it expires; login codes are single use; texts over 2048 bytes are refused (45002); a wrong token is 40001.
Codes map to deterministic openids: the code `alice` or `alice.<anything>` is the user "alice", whose mini-program
openid is `openid_for(appid, "alice")`; in the official account the same person is `official_openid_for(appid,
"alice")` (a different openid, as in WeChat; only the unionid links them, via `cgi-bin/user/info`, which knows the
users registered through `GET /_standin/openid?user=alice`). Users whose name starts with `nounion` get no unionid.
Failures can be queued with `POST /_standin/fail {"api": "subscribe/send", "errcodes": [43101]}`.

Web authorization (`GET /connect/oauth2/authorize`) answers at once as the test follower (`alice` unless set with
`POST /_standin/oauth-user {"user": "bob"}` or `serve --oauth-user`): it redirects to `redirect_uri` with a fresh
one-time code and the `state` unchanged; `sns/oauth2/access_token` exchanges the code once for that follower's
official-account openid. Also: `ticket/getticket` (jsapi), `menu/create` (checked against WeChat's limits) and
`menu/get`, `qrcode/create` and `showqrcode` (a PNG), and `POST /_standin/scan {"user", "scene", "new"}` posts
the scan event (`subscribe` with `qrscene_<scene>`, or `SCAN`) to the webhook given to `serve`; `POST
/_standin/event {"user", "event", "key"}` any other event (a menu click).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import struct
import time
import zlib
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
from aiohttp import web

MAX_TEXT_BYTES = 2048


def openid_for(appid: str, user: str) -> str:
    return "o" + hashlib.sha256(f"{appid}:{user}".encode()).hexdigest()[:27]


def official_openid_for(appid: str, user: str) -> str:
    """The same person's openid in the official account: different from the mini-program's, as in WeChat."""
    return "o" + hashlib.sha256(f"{appid}:official:{user}".encode()).hexdigest()[:27]


def unionid_for(user: str) -> str:
    return "u" + hashlib.sha256(f"union:{user}".encode()).hexdigest()[:27]


@dataclass
class StandIn:
    appid: str
    secret: str
    token_ttl: int = 7200
    token: str | None = None
    token_expires_at: float = 0.0
    token_fetches: int = 0
    used_codes: set[str] = field(default_factory=set)
    sent: list[dict[str, Any]] = field(default_factory=list)
    failures: defaultdict[str, deque[int]] = field(default_factory=lambda: defaultdict(deque))
    calls: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    # Official-account openid -> user, for cgi-bin/user/info (registered by /_standin/openid, i.e. the chat tool).
    followers: dict[str, str] = field(default_factory=dict)
    # Web authorization: who answers the authorization page, and the codes handed out (code -> user).
    oauth_user: str = "alice"
    oauth_codes: dict[str, str] = field(default_factory=dict)
    used_oauth_codes: set[str] = field(default_factory=set)
    jsapi_ticket: str | None = None
    jsapi_ticket_expires_at: float = 0.0
    ticket_fetches: int = 0
    menu: dict[str, Any] | None = None
    qrcodes: dict[str, str] = field(default_factory=dict)  # ticket -> scene
    # Where scan events go (`serve` sets it from PORT), signed with the webhook token (and AES key, if any).
    webhook: str | None = None
    webhook_token: str = ""
    webhook_aes_key: str | None = None

    def issue_token(self, *, reuse: bool) -> tuple[str, int]:
        now = time.time()
        if not (reuse and self.token and self.token_expires_at > now):
            self.token = "standin-" + secrets.token_hex(16)
            self.token_expires_at = now + self.token_ttl
            self.token_fetches += 1
        return self.token or "", int(self.token_expires_at - now)

    def token_ok(self, token: str | None) -> bool:
        return bool(token) and token == self.token and self.token_expires_at > time.time()

    def queued_failure(self, api: str) -> int | None:
        queue = self.failures.get(api)
        return queue.popleft() if queue else None


STANDIN: web.AppKey[StandIn] = web.AppKey("standin", StandIn)


def _error(errcode: int, errmsg: str) -> web.Response:
    return web.json_response({"errcode": errcode, "errmsg": errmsg})


async def _json_body(request: web.Request) -> dict[str, Any] | None:
    try:
        data = json.loads(await request.read())
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


async def token(request: web.Request) -> web.Response:
    state = request.app[STANDIN]
    state.calls["token"] += 1
    q = request.query
    if q.get("appid") != state.appid or q.get("secret") != state.secret:
        return _error(40013, "invalid appid or secret")
    value, expires_in = state.issue_token(reuse=False)
    return web.json_response({"access_token": value, "expires_in": expires_in})


async def stable_token(request: web.Request) -> web.Response:
    state = request.app[STANDIN]
    state.calls["stable_token"] += 1
    body = await _json_body(request)
    if body is None or body.get("grant_type") != "client_credential":
        return _error(40002, "invalid grant_type")
    if body.get("appid") != state.appid or body.get("secret") != state.secret:
        return _error(40013, "invalid appid or secret")
    value, expires_in = state.issue_token(reuse=not body.get("force_refresh"))
    return web.json_response({"access_token": value, "expires_in": expires_in})


async def jscode2session(request: web.Request) -> web.Response:
    state = request.app[STANDIN]
    state.calls["jscode2session"] += 1
    q = request.query
    if q.get("appid") != state.appid or q.get("secret") != state.secret:
        return _error(40013, "invalid appid or secret")
    if (failure := state.queued_failure("jscode2session")) is not None:
        return _error(failure, "queued failure")
    code = q.get("js_code", "")
    user = code.split(".", 1)[0]
    if not user or user.startswith("bad") or len(code) > 128:
        return _error(40029, "invalid code")
    if code in state.used_codes:
        return _error(40163, "code been used")
    state.used_codes.add(code)
    answer: dict[str, Any] = {
        "openid": openid_for(state.appid, user),
        "session_key": secrets.token_urlsafe(16),
    }
    if not user.startswith("nounion"):
        answer["unionid"] = unionid_for(user)
    return web.json_response(answer)


def _record(state: StandIn, api: str, body: dict[str, Any]) -> None:
    state.sent.append(
        {"seq": len(state.sent) + 1, "api": api, "touser": body.get("touser"), "body": body, "at": time.time()}
    )


async def user_info(request: web.Request) -> web.Response:
    state = request.app[STANDIN]
    state.calls["user/info"] += 1
    if not state.token_ok(request.query.get("access_token")):
        return _error(40001, "invalid credential, access_token is invalid or not latest")
    openid = request.query.get("openid", "")
    user = state.followers.get(openid)
    if user is None:
        return _error(40003, "invalid openid")
    answer: dict[str, Any] = {"subscribe": 1, "openid": openid, "language": "zh_CN"}
    if not user.startswith("nounion"):
        answer["unionid"] = unionid_for(user)
    return web.json_response(answer)


async def custom_send(request: web.Request) -> web.Response:
    state = request.app[STANDIN]
    state.calls["custom/send"] += 1
    if not state.token_ok(request.query.get("access_token")):
        return _error(40001, "invalid credential, access_token is invalid or not latest")
    body = await _json_body(request)
    if body is None or not body.get("touser"):
        return _error(40003, "invalid openid")
    if (failure := state.queued_failure("custom/send")) is not None:
        return _error(failure, "queued failure")
    if body.get("msgtype") == "text":
        content = (body.get("text") or {}).get("content", "")
        if not isinstance(content, str) or not content:
            return _error(44003, "empty news data")
        if len(content.encode("utf-8")) > MAX_TEXT_BYTES:
            return _error(45002, "content size out of limit")
    _record(state, "custom/send", body)
    return _error(0, "ok")


async def subscribe_send(request: web.Request) -> web.Response:
    state = request.app[STANDIN]
    state.calls["subscribe/send"] += 1
    if not state.token_ok(request.query.get("access_token")):
        return _error(40001, "invalid credential, access_token is invalid or not latest")
    body = await _json_body(request)
    if body is None or not body.get("touser"):
        return _error(40003, "invalid openid")
    if not body.get("template_id"):
        return _error(40037, "invalid template_id")
    data = body.get("data")
    if not isinstance(data, dict) or not all(isinstance(v, dict) and "value" in v for v in data.values()):
        return _error(47003, "argument invalid! data.value empty")
    if (failure := state.queued_failure("subscribe/send")) is not None:
        return _error(failure, "queued failure")
    _record(state, "subscribe/send", body)
    return _error(0, "ok")


# ---------------------------------------------------------------- web authorization, JS-SDK, menu, QR codes


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


async def oauth_authorize(request: web.Request) -> web.StreamResponse:
    """WeChat's authorization page: for snsapi_base it asks nothing and redirects back at once with a code."""
    state = request.app[STANDIN]
    state.calls["oauth2/authorize"] += 1
    q = request.query
    redirect_uri = q.get("redirect_uri", "")
    if q.get("appid") != state.appid:
        return web.Response(status=400, text="appid 参数错误 (10003 redirect_uri / appid mismatch)")
    if q.get("response_type") != "code" or q.get("scope") not in ("snsapi_base", "snsapi_userinfo"):
        return web.Response(status=400, text="scope 参数错误或没有 scope 权限 (10005)")
    if not redirect_uri.startswith(("http://", "https://")):
        return web.Response(status=400, text="redirect_uri 参数错误 (10003)")
    code = "oc" + secrets.token_hex(12)
    state.oauth_codes[code] = state.oauth_user
    raise web.HTTPFound(_with_query(redirect_uri, code=code, state=q.get("state", "")))


async def oauth_access_token(request: web.Request) -> web.Response:
    state = request.app[STANDIN]
    state.calls["oauth2/access_token"] += 1
    q = request.query
    if q.get("appid") != state.appid or q.get("secret") != state.secret:
        return _error(40013, "invalid appid or secret")
    if q.get("grant_type") != "authorization_code":
        return _error(40002, "invalid grant_type")
    code = q.get("code", "")
    if code in state.used_oauth_codes:
        return _error(40163, "code been used")
    user = state.oauth_codes.pop(code, None)
    if user is None:
        return _error(40029, "invalid code")
    state.used_oauth_codes.add(code)
    return web.json_response(
        {
            "access_token": "oauth-" + secrets.token_hex(12),
            "expires_in": 7200,
            "refresh_token": "refresh-" + secrets.token_hex(12),
            "openid": official_openid_for(state.appid, user),
            "scope": "snsapi_base",
        }
    )


async def getticket(request: web.Request) -> web.Response:
    state = request.app[STANDIN]
    state.calls["ticket/getticket"] += 1
    if not state.token_ok(request.query.get("access_token")):
        return _error(40001, "invalid credential, access_token is invalid or not latest")
    if request.query.get("type") != "jsapi":
        return _error(40097, "invalid args")
    now = time.time()
    if not (state.jsapi_ticket and state.jsapi_ticket_expires_at > now):
        state.jsapi_ticket = "ticket-" + secrets.token_hex(16)
        state.jsapi_ticket_expires_at = now + 7200
        state.ticket_fetches += 1
    return web.json_response(
        {
            "errcode": 0,
            "errmsg": "ok",
            "ticket": state.jsapi_ticket,
            "expires_in": int(state.jsapi_ticket_expires_at - now),
        }
    )


MENU_TYPES = frozenset({"click", "view", "miniprogram", "scancode_push", "scancode_waitmsg", "location_select"})


def _menu_error(buttons: object) -> tuple[int, str] | None:
    """WeChat's checks of menu/create, with its errcodes."""
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        return 40016, "invalid button size"
    for button in buttons:
        if not isinstance(button, dict) or not isinstance(button.get("name"), str):
            return 40018, "invalid button name size"
        if len(button["name"].encode("utf-8")) > 16:
            return 40018, "invalid button name size"
        subs = button.get("sub_button")
        if subs:
            if not isinstance(subs, list) or len(subs) > 5:
                return 40023, "invalid sub button size"
            for sub in subs:
                if not isinstance(sub, dict) or not isinstance(sub.get("name"), str):
                    return 40025, "invalid sub button name size"
                if len(sub["name"].encode("utf-8")) > 60:
                    return 40025, "invalid sub button name size"
                if (error := _leaf_error(sub, sub=True)) is not None:
                    return error
        elif (error := _leaf_error(button, sub=False)) is not None:
            return error
    return None


def _leaf_error(button: dict[str, Any], *, sub: bool) -> tuple[int, str] | None:
    kind = button.get("type")
    if kind not in MENU_TYPES:
        return (40024, "invalid sub button type") if sub else (40017, "invalid button type")
    if kind == "view":
        url = button.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url.encode()) > 1024:
            return 40055, "invalid button url domain"
    else:
        key = button.get("key")
        if kind != "miniprogram" and (not isinstance(key, str) or not key or len(key.encode()) > 128):
            return (40026, "invalid sub button key size") if sub else (40019, "invalid button key size")
    return None


async def menu_create(request: web.Request) -> web.Response:
    state = request.app[STANDIN]
    state.calls["menu/create"] += 1
    if not state.token_ok(request.query.get("access_token")):
        return _error(40001, "invalid credential, access_token is invalid or not latest")
    body = await _json_body(request)
    if body is None:
        return _error(47001, "data format error")
    if (error := _menu_error(body.get("button"))) is not None:
        return _error(*error)
    if (failure := state.queued_failure("menu/create")) is not None:
        return _error(failure, "queued failure")
    state.menu = {"button": body["button"]}
    return _error(0, "ok")


async def menu_get(request: web.Request) -> web.Response:
    state = request.app[STANDIN]
    state.calls["menu/get"] += 1
    if not state.token_ok(request.query.get("access_token")):
        return _error(40001, "invalid credential, access_token is invalid or not latest")
    if state.menu is None:
        return _error(46003, "menu no exist")
    return web.json_response({"menu": state.menu})


async def qrcode_create(request: web.Request) -> web.Response:
    state = request.app[STANDIN]
    state.calls["qrcode/create"] += 1
    if not state.token_ok(request.query.get("access_token")):
        return _error(40001, "invalid credential, access_token is invalid or not latest")
    body = await _json_body(request) or {}
    if body.get("action_name") not in ("QR_LIMIT_STR_SCENE", "QR_STR_SCENE"):
        return _error(40097, "invalid args")
    scene = ((body.get("action_info") or {}).get("scene") or {}).get("scene_str")
    if not isinstance(scene, str) or not 1 <= len(scene) <= 64:
        return _error(40097, "invalid args: scene_str is 1-64 characters")
    # A permanent code for a scene is the same code every time.
    ticket = "gQ" + hashlib.sha256(f"{state.appid}:{scene}".encode()).hexdigest()[:30]
    state.qrcodes[ticket] = scene
    return web.json_response({"ticket": ticket, "url": f"http://weixin.qq.com/q/{ticket[2:24]}"})


def qr_png(text: str, module: int = 8) -> bytes:
    """A PNG that looks like a QR code for `text` (three finder squares, modules from its hash): a stand-in's
    picture, not a scannable code."""
    size = 29
    bits = int.from_bytes(hashlib.sha512(text.encode()).digest() * 2, "big")
    grid = [[(bits >> ((y * size + x) % 1024)) & 1 for x in range(size)] for y in range(size)]
    for ox, oy in ((0, 0), (size - 7, 0), (0, size - 7)):
        for y in range(7):
            for x in range(7):
                ring = max(abs(x - 3), abs(y - 3))
                grid[oy + y][ox + x] = 1 if ring in (0, 1, 3) else 0
    quiet = 4
    width = (size + 2 * quiet) * module
    rows = []
    for py in range(width):
        y = py // module - quiet
        row = bytearray([0])
        for px in range(width):
            x = px // module - quiet
            dark = 0 <= x < size and 0 <= y < size and grid[y][x]
            row.append(0 if dark else 255)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, width, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


async def showqrcode(request: web.Request) -> web.Response:
    state = request.app[STANDIN]
    state.calls["showqrcode"] += 1
    ticket = request.query.get("ticket", "")
    if ticket not in state.qrcodes:
        return web.Response(status=404, text="no such ticket")
    return web.Response(body=qr_png(ticket), content_type="image/png")


async def set_oauth_user(request: web.Request) -> web.Response:
    body = await _json_body(request) or {}
    user = body.get("user")
    if not isinstance(user, str) or not user:
        return web.json_response({"error": "send {user: str}"}, status=400)
    request.app[STANDIN].oauth_user = user
    return web.Response(status=204)


async def _post_event(state: StandIn, user: str, event: str, key: str) -> web.Response:
    from wechat_standin.server import WeChatServer, event_message

    if state.webhook is None:
        return web.json_response({"error": "no webhook configured (serve --webhook)"}, status=409)
    openid = official_openid_for(state.appid, user)
    state.followers[openid] = user  # they follow the account now
    async with aiohttp.ClientSession() as http:
        server = WeChatServer(
            http, state.webhook, token=state.webhook_token, appid=state.appid, aes_key=state.webhook_aes_key
        )
        delivery = await server.deliver(event_message(openid, event, key))
    return web.json_response({"status": delivery.status, "reply": delivery.reply, "openid": openid})


async def scan(request: web.Request) -> web.Response:
    """Post a QR scan to the webhook as WeChat would: a new follower's `subscribe` with `qrscene_<scene>`, or an
    existing follower's `SCAN` with the scene."""
    body = await _json_body(request) or {}
    user, scene, new = body.get("user"), body.get("scene"), bool(body.get("new"))
    if not isinstance(user, str) or not user or not isinstance(scene, str) or not scene:
        return web.json_response({"error": "send {user: str, scene: str, new: bool}"}, status=400)
    if new:
        return await _post_event(request.app[STANDIN], user, "subscribe", f"qrscene_{scene}")
    return await _post_event(request.app[STANDIN], user, "SCAN", scene)


async def event(request: web.Request) -> web.Response:
    """Post any event to the webhook, e.g. a menu click: `{"user": "alice", "event": "CLICK", "key": "MY_ACCOUNT"}`."""
    body = await _json_body(request) or {}
    user, name, key = body.get("user"), body.get("event"), body.get("key", "")
    if not isinstance(user, str) or not user or not isinstance(name, str) or not name or not isinstance(key, str):
        return web.json_response({"error": "send {user: str, event: str, key: str}"}, status=400)
    return await _post_event(request.app[STANDIN], user, name, key)


# ---------------------------------------------------------------- looking inside


async def list_sent(request: web.Request) -> web.Response:
    state = request.app[STANDIN]
    after = int(request.query.get("after", "0") or 0)
    api = request.query.get("api")
    touser = request.query.get("touser")
    items = [
        item
        for item in state.sent
        if item["seq"] > after and (api is None or item["api"] == api) and (touser is None or item["touser"] == touser)
    ]
    return web.json_response({"items": items, "last_seq": len(state.sent)})


async def clear_sent(request: web.Request) -> web.Response:
    request.app[STANDIN].sent.clear()
    return web.Response(status=204)


async def stats(request: web.Request) -> web.Response:
    state = request.app[STANDIN]
    return web.json_response(
        {
            "token_fetches": state.token_fetches,
            "ticket_fetches": state.ticket_fetches,
            "calls": dict(state.calls),
            "sent": len(state.sent),
        }
    )


async def queue_failure(request: web.Request) -> web.Response:
    body = await _json_body(request) or {}
    api, codes = body.get("api"), body.get("errcodes")
    if not isinstance(api, str) or not isinstance(codes, list) or not all(isinstance(c, int) for c in codes):
        return web.json_response({"error": "send {api: str, errcodes: [int]}"}, status=400)
    request.app[STANDIN].failures[api].extend(codes)
    return web.Response(status=204)


async def expire_token(request: web.Request) -> web.Response:
    request.app[STANDIN].token_expires_at = 0.0
    return web.Response(status=204)


async def openid(request: web.Request) -> web.Response:
    state = request.app[STANDIN]
    user = request.query.get("user", "")
    official = official_openid_for(state.appid, user)
    state.followers[official] = user  # this user now follows the official account
    return web.json_response(
        {"user": user, "miniprogram_openid": openid_for(state.appid, user), "official_openid": official}
    )


def create_standin_app(
    appid: str,
    secret: str,
    *,
    token_ttl: int = 7200,
    oauth_user: str = "alice",
    webhook: str | None = None,
    webhook_token: str = "",
    webhook_aes_key: str | None = None,
) -> web.Application:
    app = web.Application()
    app[STANDIN] = StandIn(
        appid=appid,
        secret=secret,
        token_ttl=token_ttl,
        oauth_user=oauth_user,
        webhook=webhook,
        webhook_token=webhook_token,
        webhook_aes_key=webhook_aes_key,
    )
    app.router.add_get("/cgi-bin/token", token)
    app.router.add_post("/cgi-bin/stable_token", stable_token)
    app.router.add_get("/sns/jscode2session", jscode2session)
    app.router.add_get("/cgi-bin/user/info", user_info)
    app.router.add_post("/cgi-bin/message/custom/send", custom_send)
    app.router.add_post("/cgi-bin/message/subscribe/send", subscribe_send)
    app.router.add_get("/connect/oauth2/authorize", oauth_authorize)
    app.router.add_get("/sns/oauth2/access_token", oauth_access_token)
    app.router.add_get("/cgi-bin/ticket/getticket", getticket)
    app.router.add_post("/cgi-bin/menu/create", menu_create)
    app.router.add_get("/cgi-bin/menu/get", menu_get)
    app.router.add_post("/cgi-bin/qrcode/create", qrcode_create)
    app.router.add_get("/cgi-bin/showqrcode", showqrcode)
    app.router.add_post("/_standin/oauth-user", set_oauth_user)
    app.router.add_post("/_standin/scan", scan)
    app.router.add_post("/_standin/event", event)
    app.router.add_get("/_standin/sent", list_sent)
    app.router.add_delete("/_standin/sent", clear_sent)
    app.router.add_get("/_standin/stats", stats)
    app.router.add_post("/_standin/fail", queue_failure)
    app.router.add_post("/_standin/expire-token", expire_token)
    app.router.add_get("/_standin/openid", openid)
    return app
