"""wechatpy's clients for web authorization, the JS-SDK, the menu and QR codes, against configurable bases.

wechatpy's clients are synchronous (requests): every call runs in a worker thread with a timeout, so the event loop
never waits on WeChat. Two things wechatpy would do on its own are done by us instead:

- the access token comes from our shared `TokenStore` (one token for every process), and wechatpy's own
  refetch-on-40001 is off (`auto_retry=False`): it would fetch a non-stable token from the fixed
  api.weixin.qq.com URL and invalidate every other process's. A rejected token is refreshed through the store once
  and the call repeated once, as in `core.wechat.client`;
- the jsapi_ticket is kept by a second `TokenStore` (`kind="jsapi-ticket"`), the same shared cache and lock.

wechatpy's errors (and requests' network errors) become our typed `WeChatError`s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from wechatpy import WeChatClient as _WeChatpyClient
from wechatpy.exceptions import WeChatClientException, WeChatException, WeChatOAuthException
from wechatpy.oauth import WeChatOAuth as _WeChatpyOAuth

from core.cache import Cache
from core.wechat.exceptions import InvalidCredential, WeChatError, WeChatUnavailable, error_for
from core.wechat.tokens import AccessToken, TokenStore

log = logging.getLogger(__name__)

T = TypeVar("T")

HTTP_TIMEOUT = 5.0  # requests' timeout inside the thread
CALL_TIMEOUT = 8.0  # the whole call as the event loop sees it


class _OAuth(_WeChatpyOAuth):  # type: ignore[misc]  # wechatpy is untyped
    """wechatpy's OAuth client on our bases, with a timeout on every request."""

    def __init__(
        self, appid: str, secret: str, redirect_uri: str, *, api_base: str, open_base: str, state: str
    ) -> None:
        super().__init__(appid, secret, redirect_uri, scope="snsapi_base", state=state)
        self.API_BASE_URL = api_base + "/"
        self.OAUTH_BASE_URL = open_base + "/connect/"

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        return super()._request(method, url_or_endpoint, **kwargs)


def _client(api_base: str, appid: str, secret: str, token: str) -> Any:
    client = _WeChatpyClient(appid, secret, access_token=token, timeout=HTTP_TIMEOUT, auto_retry=False)
    client.API_BASE_URL = api_base + "/cgi-bin/"
    return client


def _translated(exc: Exception) -> WeChatError:
    if isinstance(exc, WeChatException) and exc.errcode is not None:
        return error_for(int(exc.errcode), str(exc.errmsg or ""))
    if isinstance(exc, WeChatException):  # an HTTP error status, no errcode
        return WeChatUnavailable(f"HTTP error from WeChat: {exc}")
    return WeChatUnavailable(f"{type(exc).__name__} calling WeChat")


async def _in_thread(call: Callable[[], T]) -> T:
    try:
        return await asyncio.wait_for(asyncio.to_thread(call), timeout=CALL_TIMEOUT)
    except TimeoutError:
        raise WeChatUnavailable("WeChat did not answer in time") from None
    except (WeChatClientException, WeChatOAuthException, WeChatException, requests.RequestException, ValueError) as exc:
        raise _translated(exc) from None


@dataclass(frozen=True, slots=True)
class OAuthIdentity:
    """What `sns/oauth2/access_token` says about the person who authorized (snsapi_base: who, nothing more)."""

    openid: str
    unionid: str | None


@dataclass(frozen=True, slots=True)
class QrTicket:
    ticket: str
    url: str  # what the QR code encodes


@dataclass(frozen=True, slots=True)
class JsSdkConfig:
    appid: str
    timestamp: int
    nonce: str
    signature: str


class WeChatPlatform:
    """Web authorization, JS-SDK, menu and QR codes through wechatpy, with shared token and ticket."""

    def __init__(
        self,
        cache: Cache,
        tokens: TokenStore,
        *,
        api_base: str,
        open_base: str,
        mp_base: str,
        appid: str,
        secret: str,
    ) -> None:
        self.appid = appid
        self._secret = secret
        self._api = api_base.rstrip("/")
        self._open = open_base.rstrip("/")
        self._mp = mp_base.rstrip("/")
        self.tokens = tokens
        self.tickets = TokenStore(cache, appid, self._fetch_ticket, kind="jsapi-ticket")

    # ------------------------------------------------------------ web authorization

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        """WeChat's authorization page (snsapi_base: silent), coming back to `redirect_uri` with a code and `state`."""
        oauth = _OAuth(self.appid, self._secret, redirect_uri, api_base=self._api, open_base=self._open, state=state)
        return str(oauth.authorize_url)

    async def oauth_identity(self, code: str) -> OAuthIdentity:
        """`sns/oauth2/access_token`: the one-time code for the openid (and a unionid when WeChat gives one)."""
        oauth = _OAuth(self.appid, self._secret, "", api_base=self._api, open_base=self._open, state="")
        answer: dict[str, Any] = await _in_thread(lambda: oauth.fetch_access_token(code))
        openid = answer.get("openid")
        if not isinstance(openid, str) or not openid:
            raise WeChatUnavailable("the code exchange answered without an openid")
        unionid = answer.get("unionid")
        return OAuthIdentity(openid=openid, unionid=unionid if isinstance(unionid, str) and unionid else None)

    # ------------------------------------------------------------ calls with the access token

    async def _with_token(self, call: Callable[[Any], T]) -> T:
        token = await self.tokens.get()
        try:
            return await _in_thread(lambda: call(_client(self._api, self.appid, self._secret, token)))
        except InvalidCredential as exc:
            log.warning("access token rejected, refetching once", extra={"errcode": exc.errcode})
            fresh = await self.tokens.refresh(rejected=token)
            return await _in_thread(lambda: call(_client(self._api, self.appid, self._secret, fresh)))

    async def _fetch_ticket(self) -> AccessToken:
        answer: dict[str, Any] = await self._with_token(lambda client: client.jsapi.get_ticket("jsapi"))
        ticket = answer.get("ticket")
        if not isinstance(ticket, str) or not ticket:
            raise WeChatUnavailable("getticket answered without a ticket")
        return AccessToken(value=ticket, expires_in=int(answer.get("expires_in", 7200)))

    async def jssdk_config(self, url: str, *, nonce: str, timestamp: int) -> JsSdkConfig:
        """The JS-SDK's `wx.config` for the page at `url` (without its fragment: WeChat signs it so)."""
        ticket = await self.tickets.get()
        page = url.split("#", 1)[0]
        signer = _client(self._api, self.appid, self._secret, "").jsapi
        signature = str(signer.get_jsapi_signature(nonce, ticket, timestamp, page))
        return JsSdkConfig(appid=self.appid, timestamp=timestamp, nonce=nonce, signature=signature)

    async def create_menu(self, menu: dict[str, Any]) -> None:
        await self._with_token(lambda client: client.menu.create(menu))

    async def get_menu(self) -> dict[str, Any] | None:
        """The published menu (`menu/get`), or None when the account has none (46003)."""
        try:
            answer: dict[str, Any] = await self._with_token(lambda client: client.menu.get())
        except WeChatError as exc:
            if exc.errcode == 46003:
                return None
            raise
        return answer

    async def create_qrcode(self, scene: str) -> QrTicket:
        """A permanent QR code (`QR_LIMIT_STR_SCENE`) carrying `scene`; scanning it sends us the scene."""
        body = {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene}}}
        answer: dict[str, Any] = await self._with_token(lambda client: client.qrcode.create(body))
        ticket, url = answer.get("ticket"), answer.get("url")
        if not isinstance(ticket, str) or not ticket or not isinstance(url, str):
            raise WeChatUnavailable("qrcode/create answered without a ticket")
        return QrTicket(ticket=ticket, url=url)

    async def qrcode_image(self, ticket: str) -> bytes:
        """The QR code's image (`showqrcode`, no token needed). wechatpy's `qrcode.show` has the host fixed, so
        its URL builder is used with our base."""
        from wechatpy.client.api.qrcode import WeChatQRCode

        url = str(WeChatQRCode.get_url(ticket)).replace("https://mp.weixin.qq.com", self._mp, 1)

        def fetch() -> bytes:
            response = requests.get(url, timeout=HTTP_TIMEOUT)
            response.raise_for_status()
            if not response.headers.get("Content-Type", "").startswith("image/"):
                raise ValueError("showqrcode answered without an image")
            return response.content

        return await _in_thread(fetch)
