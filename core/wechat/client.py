"""An async client for the WeChat HTTP API calls we make, on aiohttp with timeouts, against `WECHAT_API_BASE`.

Every answer with a non-zero `errcode` becomes a typed `WeChatError`; network failures, timeouts, 5xx and non-JSON
answers become `WeChatUnavailable`. A call rejected for its access token (40001/40014/42001) refetches the token
once and is repeated once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from core.wechat.exceptions import InvalidCredential, WeChatUnavailable, error_for
from core.wechat.tokens import AccessToken, TokenStore

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=5, connect=2)
# Lookups made while a user waits for a passive reply must leave the 5 s deadline room.
LOOKUP_TIMEOUT = aiohttp.ClientTimeout(total=1.5, connect=1)


@dataclass(frozen=True, slots=True)
class CodeSession:
    """code2session's answer. `session_key` stays on the server: never put it in a response."""

    openid: str
    session_key: str
    unionid: str | None


class WeChatClient:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        base_url: str,
        appid: str,
        secret: str,
        tokens: TokenStore | None = None,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self.appid = appid
        self._secret = secret
        self._timeout = timeout
        self.tokens = tokens

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str],
        body: Any = None,
        limit: aiohttp.ClientTimeout | None = None,
    ) -> dict[str, Any]:
        url = f"{self._base}/{path}"
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json"} if data is not None else None
        try:
            async with self._http.request(
                method, url, params=params, data=data, headers=headers, timeout=limit or self._timeout
            ) as response:
                if response.status >= 500:
                    raise WeChatUnavailable(f"HTTP {response.status} from {path}")
                raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise WeChatUnavailable(f"{type(exc).__name__} calling {path}") from exc
        try:
            answer = json.loads(raw)
        except ValueError:
            raise WeChatUnavailable(f"non-JSON answer from {path}") from None
        if not isinstance(answer, dict):
            raise WeChatUnavailable(f"unexpected answer from {path}")
        errcode = int(answer.get("errcode") or 0)
        if errcode != 0:
            raise error_for(errcode, str(answer.get("errmsg", "")))
        return answer

    # ------------------------------------------------------------ tokens

    async def fetch_stable_token(self, force_refresh: bool = False) -> AccessToken:
        """`cgi-bin/stable_token`: the same token for every caller until it expires, so processes never fight."""
        answer = await self._call(
            "POST",
            "cgi-bin/stable_token",
            params={},
            body={
                "grant_type": "client_credential",
                "appid": self.appid,
                "secret": self._secret,
                "force_refresh": force_refresh,
            },
        )
        return AccessToken(value=str(answer["access_token"]), expires_in=int(answer.get("expires_in", 7200)))

    async def _with_token(
        self,
        method: str,
        path: str,
        body: Any,
        params: dict[str, str] | None = None,
        limit: aiohttp.ClientTimeout | None = None,
    ) -> dict[str, Any]:
        if self.tokens is None:
            raise RuntimeError("this client has no token store")
        token = await self.tokens.get()
        try:
            query = {**(params or {}), "access_token": token}
            return await self._call(method, path, params=query, body=body, limit=limit)
        except InvalidCredential as exc:
            log.warning("access token rejected, refetching once", extra={"errcode": exc.errcode})
            token = await self.tokens.refresh(rejected=token)
            query = {**(params or {}), "access_token": token}
            return await self._call(method, path, params=query, body=body, limit=limit)

    # ------------------------------------------------------------ calls

    async def code2session(self, code: str) -> CodeSession:
        answer = await self._call(
            "GET",
            "sns/jscode2session",
            params={
                "appid": self.appid,
                "secret": self._secret,
                "js_code": code,
                "grant_type": "authorization_code",
            },
        )
        openid = answer.get("openid")
        if not isinstance(openid, str) or not openid:
            raise WeChatUnavailable("code2session answered without an openid")
        unionid = answer.get("unionid")
        return CodeSession(
            openid=openid,
            session_key=str(answer.get("session_key", "")),
            unionid=unionid if isinstance(unionid, str) and unionid else None,
        )

    async def user_unionid(self, openid: str) -> str | None:
        """`cgi-bin/user/info`: the unionid of an official-account follower (None when the account is not bound to
        an open-platform account, or the user does not follow)."""
        if self.tokens is None:
            raise RuntimeError("this client has no token store")
        answer = await self._with_token(
            "GET", "cgi-bin/user/info", None, params={"openid": openid, "lang": "zh_CN"}, limit=LOOKUP_TIMEOUT
        )
        unionid = answer.get("unionid")
        return unionid if isinstance(unionid, str) and unionid else None

    async def send_custom_text(self, openid: str, content: str) -> None:
        """`cgi-bin/message/custom/send`: a text to a user who wrote to us within 48 h."""
        await self._with_token(
            "POST",
            "cgi-bin/message/custom/send",
            {"touser": openid, "msgtype": "text", "text": {"content": content}},
        )

    async def send_subscribe(
        self, openid: str, template_id: str, data: dict[str, str], page: str | None = None
    ) -> None:
        """`cgi-bin/message/subscribe/send`: one subscribe message; uses one of the user's consents."""
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {name: {"value": value} for name, value in data.items()},
        }
        if page:
            body["page"] = page
        await self._with_token("POST", "cgi-bin/message/subscribe/send", body)
