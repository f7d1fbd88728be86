"""The stand-in's HTTP API: the parts of WeChat's API the backend calls, plus `/_standin/*` to look inside.

Behaviour follows WeChat's documentation: tokens live 7200 s and the stable token is the same for every caller
until it expires; login codes are single use; texts over 2048 bytes are refused (45002); a wrong token is 40001.
Codes map to deterministic openids: the code `alice` or `alice.<anything>` is the user "alice", whose mini-program
openid is `openid_for(appid, "alice")`; in the official account the same person is `official_openid_for(appid,
"alice")` (a different openid, as in WeChat; only the unionid links them, via `cgi-bin/user/info`, which knows the
users registered through `GET /_standin/openid?user=alice`). Users whose name starts with `nounion` get no unionid.
Failures can be queued with `POST /_standin/fail {"api": "subscribe/send", "errcodes": [43101]}`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

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
        {"token_fetches": state.token_fetches, "calls": dict(state.calls), "sent": len(state.sent)}
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


def create_standin_app(appid: str, secret: str, *, token_ttl: int = 7200) -> web.Application:
    app = web.Application()
    app[STANDIN] = StandIn(appid=appid, secret=secret, token_ttl=token_ttl)
    app.router.add_get("/cgi-bin/token", token)
    app.router.add_post("/cgi-bin/stable_token", stable_token)
    app.router.add_get("/sns/jscode2session", jscode2session)
    app.router.add_get("/cgi-bin/user/info", user_info)
    app.router.add_post("/cgi-bin/message/custom/send", custom_send)
    app.router.add_post("/cgi-bin/message/subscribe/send", subscribe_send)
    app.router.add_get("/_standin/sent", list_sent)
    app.router.add_delete("/_standin/sent", clear_sent)
    app.router.add_get("/_standin/stats", stats)
    app.router.add_post("/_standin/fail", queue_failure)
    app.router.add_post("/_standin/expire-token", expire_token)
    app.router.add_get("/_standin/openid", openid)
    return app
