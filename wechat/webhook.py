"""The official-account webhook: verify, decrypt, parse, answer once per message within WeChat's 5 s.

Every delivery is first checked (size, signature, timestamp window, AES envelope and AppID, XML); a refused
request is logged and answered with a plain status, and never reaches the assistant.

Dedup and deadline: the first delivery of a message claims `wechat:inflight:<key>` in the shared cache (SET NX,
minutes of life) and starts the work in the background. If the answer is ready within the deadline it is the
passive reply (and stored under `wechat:reply:<key>`); otherwise the reply is empty and the answer goes out
through `custom/send` when ready. WeChat's retries (same MsgId, ~5 s apart) find the claim taken and answer from
the stored reply, or empty — they never run the work again, in this process or any other.

Chat limit: a text (or recognised voice) message counts once against its sender's chat allowance
(`CHAT_LIMIT_PER_USER` per `RATE_LIMIT_WINDOW_SECONDS`, per openid, `core.ratelimit`) inside that work — so after
the dedup claim, and a retry is never counted. Past the limit the engine is not asked; the passive reply (stored
like any other, so retries repeat it) asks the sender to wait the seconds to the next window, in their language.
Events (subscribe, menu clicks) and media are not counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import TypeVar

from aiohttp import web
from sqlalchemy import exc as db_errors
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import links
from accounts import service as accounts
from core.auth import Principal, Role
from core.backoff import Backoff
from core.cache import Cache, CacheUnavailable
from core.chat import MENU, ChatButton, ChatReply, ChatTurn, MenuEngine, detect_language
from core.db import Database
from core.digits import ascii_int
from core.ratelimit import RateLimited
from core.settings import Settings
from core.state import CACHE, CHAT_ENGINE, DATABASE, SETTINGS
from core.wechat.client import WeChatClient
from core.wechat.crypto import UNDECRYPTABLE, CryptoRefused
from core.wechat.exceptions import ReplyCountExceeded, ReplyWindowClosed, WeChatError
from core.wechat.parsing import Inbound, MalformedMessage, parse_inbound
from core.wechat.replies import render_text, text_reply_xml
from core.wechat.signature import signature_ok, timestamp_fresh
from wechat import qrcodes, repository
from wechat.state import WECHAT, WeChatRuntime

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024  # a text message is at most a few KB; anything near this is not WeChat
# WeChat's envelopes and messages are flat: a dozen elements, a few dozen for the richest events (a picture list).
# Counted before any parsing, so a deeply nested or element-flooded body costs a scan, not a parse.
MAX_MARKUP = 256


def dedup_ttl(settings: Settings) -> int:
    """How long a message's record lives: past WeChat's three deliveries (~15 s) and past every moment a captured
    request could still pass the timestamp check (the window on either side of its timestamp), so a replay
    inside the window is always recognised as a retry."""
    return 2 * settings.wechat_timestamp_window_seconds + 60


CHOICES_TTL = 30 * 60
PRINCIPAL_TTL = 60  # like bearer tokens: a changed binding is seen within a minute
ENGINE_TIMEOUT = 60.0
CUSTOM_SEND_ATTEMPTS = 3
CUSTOM_SEND_BACKOFF = Backoff(base=0.5, cap=4.0)
# The custom-message record is written before each send (so it goes out once); when the database is busy (pool
# check-out timeout, a dropped connection) the write is tried again, so a deferred answer is not lost.
DB_WRITE_ATTEMPTS = 5
DB_WRITE_BACKOFF = Backoff(base=0.25, cap=2.0, jitter=0.5)
REST_DELAY = 0.5  # the rest of a long answer follows the passive reply, after it has had time to arrive

SLOW_DOWN = {
    "zh": "您发消息有点快，请稍等 {seconds} 秒再发，我马上继续为您解答。",
    "en": "You're sending messages a little fast — please wait {seconds} seconds, then I'll carry on.",
}

NOT_TEXT = ChatReply(
    text="目前我只能读懂文字消息，请用文字描述您的问题。\nI can only read text for now — please type your question."
)
# Menu CLICK keys (configured in the official account's menu) → what the user "said".
MENU_KEYS = {
    "PRIORITY_EXAM": "/ask_priority_exam_conditions",
    "FIND_AGENCY": "/find_agency",
    "MY_VOUCHERS": "/my_vouchers",
    "VOUCHER_APPLY": "/ask_voucher_apply",
    "POLICY_OVERVIEW": "/ask_policy_overview",
    "FAST_TRACK": "/plan_fast_track",
    "HELP": "/help",
}
# Keys the webhook answers itself, without the engine.
SIGN_IN_KEY = "MY_ACCOUNT"  # a one-time link that signs this follower in outside WeChat
ANSWERED_KEYS = frozenset({*MENU_KEYS, SIGN_IN_KEY})


class Refused(Exception):
    """A refusal: `reason` is a fixed text, answered as the body; `detail` (what the parser said) is only logged."""

    def __init__(self, status: int, reason: str, *, detail: str = "") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.detail = detail


def _plain(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/plain")


# Query values a log may show; the others (signature, msg_signature, nonce, echostr, openid) are replaced, since a
# signed query is a credential while its timestamp is fresh, and the openid names a person.
_LOGGED_QUERY_VALUES = frozenset({"timestamp", "encrypt_type"})


def redacted_query(request: web.Request) -> dict[str, str]:
    return {key: value[:20] if key in _LOGGED_QUERY_VALUES else "…" for key, value in request.query.items()}


def _refuse(request: web.Request, refused: Refused) -> web.Response:
    log.warning(
        "wechat request refused",
        extra={
            "status": refused.status,
            "reason": refused.reason,
            "detail": refused.detail,
            "remote": request.remote,
            "path": request.path,
            "query": redacted_query(request),
        },
    )
    return _plain(refused.status, refused.reason)


def _check_signed(request: web.Request, settings: Settings) -> None:
    q = request.query
    signature, timestamp, nonce = q.get("signature", ""), q.get("timestamp", ""), q.get("nonce", "")
    if not (signature and timestamp and nonce) or not signature_ok(settings.wechat_token, signature, timestamp, nonce):
        raise Refused(403, "bad signature")
    if not timestamp_fresh(timestamp, settings.wechat_timestamp_window_seconds):
        raise Refused(403, "timestamp outside the accepted window")


async def verify(request: web.Request) -> web.Response:
    """GET /wechat: WeChat's URL verification — answer `echostr` unchanged when the signature is ours."""
    try:
        _check_signed(request, request.app[SETTINGS])
    except Refused as exc:
        return _refuse(request, exc)
    return _plain(200, request.query.get("echostr", ""))


async def _read_limited(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise Refused(413, "body too large")
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(16 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Refused(413, "body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_markup(xml: str) -> None:
    if xml.count("<") > MAX_MARKUP:
        raise Refused(400, "not a WeChat message: too many elements")


async def receive(request: web.Request) -> web.Response:
    """POST /wechat: a message or event, plain or AES; the reply (possibly empty) within the deadline."""
    started = time.monotonic()
    settings = request.app[SETTINGS]
    runtime = request.app[WECHAT]
    encrypted = request.query.get("encrypt_type", "raw").lower() == "aes"
    try:
        _check_signed(request, settings)
        if not encrypted and runtime.safe_mode is not None and not settings.wechat_compatible_mode:
            raise Refused(403, "plain messages are refused: safe mode accepts encrypted ones only")
        raw = await _read_limited(request)
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(400, "body is not UTF-8") from None
        _check_markup(body)
        if encrypted:
            if runtime.safe_mode is None:
                raise Refused(400, "safe mode is not configured (WECHAT_AES_KEY)")
            try:
                body = runtime.safe_mode.decrypt(
                    body, request.query.get("msg_signature", ""), request.query["timestamp"], request.query["nonce"]
                )
            except CryptoRefused as exc:
                raise Refused(400 if exc.reason == UNDECRYPTABLE else 403, exc.reason) from None
        _check_markup(body)
        try:
            message = parse_inbound(body)
        except MalformedMessage as exc:
            raise Refused(400, "malformed message", detail=str(exc)) from None
        if not encrypted:
            await _bind_signed_query(request, message)
    except Refused as exc:
        return _refuse(request, exc)

    try:
        deadline = started + settings.wechat_reply_deadline_seconds
        text = await answer(request.app, runtime, message, deadline)
    except Exception:
        # WeChat shows the user "this account cannot serve you" on an error page; an empty 200 is kinder.
        log.exception("wechat message failed", extra={"key": message.dedup_key})
        return _plain(200, "")
    if text is None:
        return _plain(200, "")
    xml = text_reply_xml(text, to_user=message.openid, from_account=message.account)
    if encrypted and runtime.safe_mode is not None:
        xml = runtime.safe_mode.encrypt(xml, request.query["nonce"], str(int(time.time())))
    return web.Response(status=200, text=xml, content_type="application/xml")


async def _bind_signed_query(request: web.Request, message: Inbound) -> None:
    """A plain message's signature covers the query (token, timestamp, nonce), not the body: bind the signed query
    to the first message it carried. WeChat's retries repeat that message (same sender and MsgId) and pass; another
    message under it is a captured URL with a body of someone else's choosing, refused. The record lives as long as
    the dedup record, past every moment the timestamp check still lets the query in."""
    cache = request.app[CACHE]
    key = f"wechat:signed:{request.query['signature']}"  # the signature stands for the whole signed query
    try:
        if await cache.add(key, message.dedup_key, dedup_ttl(request.app[SETTINGS])):
            return
        bound = await cache.get(key)
    except CacheUnavailable:
        log.error("cache down: cannot bind a signed query to one message; accepting", extra={"key": message.dedup_key})
        return
    if bound is not None and bound != message.dedup_key:
        raise Refused(403, "this signed query already carried another message")


# ---------------------------------------------------------------- answering once


@dataclass
class _Pending:
    # The passive reply's deadline (time.monotonic()): the chat engine's fallback keeps to it.
    reply_by: float
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    text: str | None = None
    deferred: bool = False


async def answer(app: web.Application, runtime: WeChatRuntime, message: Inbound, deadline: float) -> str | None:
    """The passive reply's text for this delivery, or None for an empty reply."""
    cache = app[CACHE]
    key = message.dedup_key
    first = await _claim(cache, f"wechat:inflight:{key}", dedup_ttl(app[SETTINGS]), deadline)
    if first is None:
        log.error("cache down: cannot tell retries apart; answering this delivery", extra={"key": key})
        first = True
    if not first:
        return await _answer_of_first(cache, runtime, key, deadline)

    pending = _Pending(deadline)
    runtime.spawn(_work(app, runtime, message, pending))
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(pending.ready.wait(), timeout=max(0.0, deadline - time.monotonic()))
    except asyncio.CancelledError:
        # WeChat hung up before our deadline (and the server cancels handlers): nobody will read a passive reply.
        if not pending.ready.is_set():
            _defer(app, runtime, key, pending)
        raise
    # No await between this check and setting `deferred`: the work sees one or the other, never neither.
    if pending.text is not None or pending.ready.is_set():
        return pending.text
    _defer(app, runtime, key, pending)
    return None


CLAIM_ATTEMPTS = 3
CLAIM_BACKOFF = Backoff(base=0.1, cap=0.5, jitter=0.5)


async def _claim(cache: Cache, name: str, ttl: int, deadline: float) -> bool | None:
    """Claim a message for this delivery: True when it is ours to answer, False when another delivery has it,
    None when the cache cannot say (after a few tries, within the deadline).

    The claim's value is this delivery's own token, so a claim whose answer was lost on the way back (a timeout
    after Redis set it) is recognised as ours when tried again — instead of being read as another delivery's and
    never answered, or answered twice by treating a busy cache as a down one."""
    token = secrets.token_hex(8)
    for attempt in range(1, CLAIM_ATTEMPTS + 1):
        with contextlib.suppress(CacheUnavailable):
            if await cache.add(name, token, ttl):
                return True
        # Taken, or no answer: whose token is there says which (a failed read is None: try again).
        holder = await cache.get(name)
        if holder is not None:
            return holder == token
        if attempt == CLAIM_ATTEMPTS or time.monotonic() + CLAIM_BACKOFF.cap >= deadline:
            return None
        await asyncio.sleep(CLAIM_BACKOFF.seconds(attempt))
    return None


def _defer(app: web.Application, runtime: WeChatRuntime, key: str, pending: _Pending) -> None:
    """From now on the answer goes out through custom/send; retries are told to answer empty."""
    pending.deferred = True
    _remember(runtime, key, None)
    log.info("answer not ready by the deadline; it will follow via custom/send", extra={"key": key})
    stored = json.dumps({"deferred": True})
    runtime.spawn(app[CACHE].set(f"wechat:reply:{key}", stored, dedup_ttl(app[SETTINGS])))


LOCAL_ANSWER_SECONDS = 60.0


def _remember(runtime: WeChatRuntime, key: str, text: str | None) -> None:
    runtime.answers[key] = text
    asyncio.get_running_loop().call_later(LOCAL_ANSWER_SECONDS, runtime.answers.pop, key, None)


async def _answer_of_first(cache: Cache, runtime: WeChatRuntime, key: str, deadline: float) -> str | None:
    """A retry: whatever the first delivery answered, or empty if it has not answered yet. WeChat retries only
    when the first answer did not reach it, so the first's passive reply is repeated: from this process's memory
    when the first delivery ran here, else from the shared copy."""
    while True:
        if key in runtime.answers:
            return runtime.answers[key]
        raw = await cache.get(f"wechat:reply:{key}")
        if raw is not None:
            stored = json.loads(raw)
            return None if stored.get("deferred") else stored.get("text")
        if time.monotonic() + 0.05 >= deadline:
            return None
        await asyncio.sleep(0.05)


async def _work(app: web.Application, runtime: WeChatRuntime, message: Inbound, pending: _Pending) -> None:
    try:
        await _answer_and_deliver(app, runtime, message, pending)
    except Exception:
        log.exception("answering a WeChat message failed", extra={"key": message.dedup_key})
    finally:
        pending.ready.set()


async def _answer_and_deliver(
    app: web.Application, runtime: WeChatRuntime, message: Inbound, pending: _Pending
) -> None:
    cache = app[CACHE]
    key = message.dedup_key
    try:
        replies, language = await _replies_for(app, message, pending.reply_by)
        rendered = render_text(replies, language, app[SETTINGS].public_base)
        if rendered.choices:
            offered = {"language": language, "choices": [b.model_dump() for b in rendered.choices]}
            await cache.set(f"wechat:choices:{message.openid}", json.dumps(offered, ensure_ascii=False), CHOICES_TTL)
    except Exception:
        log.exception("could not answer a WeChat message", extra={"key": key})
        rendered = render_text([MENU["zh"]], "zh")
    chunks = rendered.chunks
    if not pending.deferred:  # in time: the first chunk is the passive reply
        pending.text = chunks[0] if chunks else None
        pending.ready.set()
        _remember(runtime, key, pending.text)
        stored = json.dumps({"text": pending.text}, ensure_ascii=False)
        await cache.set(f"wechat:reply:{key}", stored, dedup_ttl(app[SETTINGS]))
        if len(chunks) > 1:
            await asyncio.sleep(REST_DELAY)
            await send_custom(app[DATABASE], runtime.client, message.openid, key, chunks[1:], first_seq=1)
        return
    await send_custom(app[DATABASE], runtime.client, message.openid, key, chunks, first_seq=0)


async def _replies_for(app: web.Application, message: Inbound, reply_by: float) -> tuple[list[ChatReply], str]:
    if message.kind == "other":
        return [NOT_TEXT], "zh"
    if message.kind == "event":
        scene = qrcodes.parse_scene(message.event, message.event_key)
        if scene is not None:
            return await _scanned(app, message, scene), "zh"
        if message.event == "subscribe" or message.event.startswith("subscribe_"):
            return [MENU["zh"]], "zh"
        if message.event != "click":
            return [], "zh"  # unsubscribe, view, location, template results: nothing to say
        if message.event_key == SIGN_IN_KEY:
            return await _sign_in_links(app, message.openid), "zh"
        text = MENU_KEYS.get(message.event_key)
        if text is None:
            return [MENU["zh"]], "zh"
        return await _ask(app, message, text, "zh", reply_by), "zh"
    text = message.content.strip()
    if not text:
        return [NOT_TEXT], "zh"
    chosen = await _chosen_payload(app[CACHE], message)
    # The payload of a choice, in the language the choices were offered in; else what was typed.
    said, language = chosen if chosen is not None else (text, detect_language(text))
    wait = await _seconds_to_wait(app, message)
    if wait is not None:
        return [ChatReply(text=SLOW_DOWN[language].format(seconds=wait))], language
    return await _ask(app, message, said, language, reply_by), language


async def _scanned(app: web.Application, message: Inbound, scene: qrcodes.Scene) -> list[ChatReply]:
    """A poster QR code scanned: counted once (this runs once per event), answered with its agency or programme."""
    new_follower = qrcodes.is_new_follower(message.event)
    async with app[DATABASE].transaction() as session:
        if not await qrcodes.record_scan(session, scene, new_follower=new_follower):
            log.info("scan of a scene with no poster of ours", extra={"scene": str(scene)})
        replies = await qrcodes.scan_reply(session, app[SETTINGS].public_base, scene, new_follower=new_follower)
    if replies:
        return replies
    return [MENU["zh"]] if new_follower else []


async def _sign_in_links(app: web.Application, openid: str) -> list[ChatReply]:
    """The follower's one-time sign-in link (for a browser outside WeChat) and, without unionid linking, the link
    that joins this follower to their mini-program account."""
    settings = app[SETTINGS]
    runtime = app[WECHAT]
    ttl = settings.sign_in_link_ttl_seconds
    unionid = None
    if settings.wechat_unionid_linking:
        try:
            unionid = await runtime.client.user_unionid(openid)
        except WeChatError as exc:
            log.info("no unionid for this follower", extra={"errcode": exc.errcode})
    async with app[DATABASE].transaction() as session:
        user, created = await links.user_for_follower(
            session, openid=openid, unionid=unionid, unionid_linking=settings.wechat_unionid_linking
        )
        if not user.is_active:
            return [ChatReply(text="您的账号已停用，请联系主管部门。")]
        sign_in = await links.issue_sign_in_link(session, user, ttl=ttl)
        follower_link = (
            None if settings.wechat_unionid_linking else await links.issue_follower_link(session, openid, ttl=ttl)
        )
    if created:
        await app[CACHE].bump(USERS_NAMESPACE)
    minutes = max(1, ttl // 60)
    url = f"{settings.public_base}/console/m/signin#t={sign_in}"
    text = (
        f'在电脑或其他浏览器中登录：<a href="{url}">一次性登录链接</a>\n'
        f"{minutes} 分钟内有效，只能使用一次；请勿转发给他人。"
    )
    if follower_link is not None:
        text += (
            f'\n\n已在小程序中登录过？<a data-miniprogram-appid="{settings.wechat_appid}" '
            f'data-miniprogram-path="pages/account/link?t={follower_link}">在小程序中关联本公众号</a>，'
            "两边就是同一个账号。"
        )
    return [ChatReply(text=text)]


async def _seconds_to_wait(app: web.Application, message: Inbound) -> int | None:
    """Count this message against its sender's chat limit: None when within it, else the seconds to the next
    window. A cache that cannot count skips the limit (logged by the limiter)."""
    try:
        await app[WECHAT].limiter.hit_sender(app[CACHE], "chat", f"wx:{message.openid}")
    except RateLimited as exc:
        log.info("wechat sender past the chat limit", extra={"key": message.dedup_key, "retry_after": exc.retry_after})
        return exc.retry_after
    return None


async def _chosen_payload(cache: Cache, message: Inbound) -> tuple[str, str] | None:
    """A tapped choice link (bizmsgmenuid), a typed number, or a choice's title → (payload, language)."""
    raw = await cache.get(f"wechat:choices:{message.openid}")
    if raw is None:
        return None
    offered = json.loads(raw)
    language = str(offered.get("language", "zh"))
    choices = [ChatButton.model_validate(c) for c in offered.get("choices", [])]
    text = message.content.strip()
    number = ascii_int(message.menu_id or text, max_digits=6)
    if number is not None and 1 <= number <= len(choices):
        return choices[number - 1].payload, language
    for choice in choices:
        if text == choice.title:
            return choice.payload, language
    return None


USERS_NAMESPACE = "wechat-users"


async def _principal(app: web.Application, runtime: WeChatRuntime, openid: str) -> Principal | None:
    """The user behind an official-account openid: the same openid (a user created from it), else the same
    unionid (the mini-program's user; WeChat gives each app its own openid, only the unionid links them, and it is
    read from `cgi-bin/user/info`). Cached for a minute, strangers too, under a namespace version that a first
    WeChat login bumps, so a user who just logged in is recognised at once."""
    cache = app[CACHE]
    version = await cache.version(USERS_NAMESPACE)
    key = f"wechat:principal:{version}:{openid}"
    cached = await cache.get(key) if version is not None else None
    if cached is not None:
        data = json.loads(cached)
        return None if data is None else Principal(**{**data, "role": Role(data["role"])})
    async with app[DATABASE].reader() as session:
        principal = await links.principal_for_follower(session, openid)
        if principal is None:
            principal = await accounts.principal_for_openid(session, openid)
    if principal is None and app[SETTINGS].wechat_unionid_linking:
        try:
            unionid = await runtime.client.user_unionid(openid)
        except WeChatError as exc:
            log.info("no unionid for this follower", extra={"errcode": exc.errcode, "error": exc.errmsg})
            unionid = None
        if unionid is not None:
            async with app[DATABASE].reader() as session:
                principal = await accounts.principal_for_unionid(session, unionid)
    if version is not None:
        payload = None if principal is None else {**asdict(principal), "role": principal.role.value}
        await cache.set(key, json.dumps(payload), PRINCIPAL_TTL)
    return principal


async def _ask(app: web.Application, message: Inbound, text: str, language: str, reply_by: float) -> list[ChatReply]:
    principal = await _principal(app, app[WECHAT], message.openid)
    engine = app.get(CHAT_ENGINE) or MenuEngine()
    turn = ChatTurn(
        sender_id=f"wx:{message.openid}",
        text=text,
        channel="wechat",
        principal=principal,
        wechat_openid=message.openid,
        metadata={"language": language, "msg_key": message.dedup_key},
        reply_by=reply_by,
    )
    return await asyncio.wait_for(engine.reply(turn), timeout=ENGINE_TIMEOUT)


# ---------------------------------------------------------------- customer-service messages


_T = TypeVar("_T")


def _transient(error: Exception) -> bool:
    """A database failure that another try may not meet: pool exhausted, connection lost or refused."""
    if isinstance(error, db_errors.TimeoutError | db_errors.OperationalError | db_errors.InterfaceError):
        return True
    if isinstance(error, db_errors.DBAPIError):
        return bool(error.connection_invalidated)
    return isinstance(error, ConnectionError | TimeoutError)


async def _write(db: Database, write: Callable[[AsyncSession], Awaitable[_T]]) -> _T:
    """`write` in its own transaction, tried again after a transient database failure (`DB_WRITE_ATTEMPTS`)."""
    for attempt in range(1, DB_WRITE_ATTEMPTS + 1):
        try:
            async with db.transaction() as session:
                return await write(session)
        except Exception as error:
            if attempt == DB_WRITE_ATTEMPTS or not _transient(error):
                raise
            log.warning("database busy; writing again", extra={"attempt": attempt, "error": type(error).__name__})
            await asyncio.sleep(DB_WRITE_BACKOFF.seconds(attempt))
    raise AssertionError("unreachable")


async def send_custom(
    db: Database, client: WeChatClient, openid: str, key: str, chunks: list[str], *, first_seq: int
) -> None:
    """Send pieces of an answer via custom/send, each recorded first so it goes out once.

    45015 (window over / unfollowed), 45047 (count limit), 48001 (no permission) and other final errors are
    recorded and end the answer; network trouble is retried a few times with backoff. The records are written
    again when the database is busy (`_write`).
    """
    for seq, content in enumerate(chunks, start=first_seq):

        async def start(session: AsyncSession, seq: int = seq, content: str = content) -> int | None:
            return await repository.start_custom_message(
                session, openid=openid, inbound_key=key, seq=seq, content=content
            )

        message_id = await _write(db, start)
        if message_id is None:
            continue
        error: WeChatError | None = None
        for attempt in range(1, CUSTOM_SEND_ATTEMPTS + 1):
            try:
                await client.send_custom_text(openid, content)
                error = None
                break
            except WeChatError as exc:
                error = exc
                if exc.final:
                    break
                await asyncio.sleep(CUSTOM_SEND_BACKOFF.seconds(attempt))

        async def finish(
            session: AsyncSession, message_id: int = message_id, error: WeChatError | None = error
        ) -> None:
            await repository.finish_custom_message(
                session,
                message_id,
                sent=error is None,
                errcode=None if error is None else error.errcode,
                error="" if error is None else error.errmsg,
            )

        await _write(db, finish)
        if error is not None:
            level = logging.INFO if isinstance(error, ReplyWindowClosed | ReplyCountExceeded) else logging.WARNING
            log.log(level, "custom/send failed", extra={"key": key, "errcode": error.errcode, "error": error.errmsg})
            return
