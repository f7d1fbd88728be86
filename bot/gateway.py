"""The chat gateway: the `core.chat.ChatEngine` that sends a user's text to Rasa and turns the answer into replies.

One turn is one HTTP call to the conversation's Rasa instance: `POST /webhooks/rest/webhook` with `sender`,
`message` and `metadata`: the channel, the language (zh / en, detected here) and the user's identity, signed for
this message (`bot.identity`) so the actions in `/bot/actions` can trust it. The language travels as `set_lang`:
Rasa (`bot/rasa_patches.py`, installed by our REST channel) sets the `lang` slot from it before logging the
message, in the same tracker update — so Rasa's responses and our actions answer in the user's language without
a second call. A tapped button's payload (`/intent…`) carries no `set_lang`: it says nothing about the language.

Every call carries Rasa's token (`RASA_AUTH_TOKEN` as `?token=`, how `rasa run --auth-token` takes it; the REST
channel, `bot/rasa_channel.py`, checks the same); it is cut out of every error this module raises.

Several instances (`RASA_URL=http://a:5005,http://b:5005`): each conversation goes to one by rendezvous hashing
of its sender id (stable; removing an instance moves only its own conversations), and to the next in its order
when that one refuses the connection or fails with a 5xx. A timeout is not retried elsewhere: the message may
already be processed there, and the deadline is spent. An instance that failed is skipped for a few seconds.

In flight: at most `RASA_MAX_IN_FLIGHT` turns of this process are at one instance at once; the others wait in
line for a place (Rasa answers one turn at a time on its CPU, so more in flight only makes every turn slower).
A turn that is still waiting at the deadline, or gets its place with less time left than a turn takes there (a
moving average), gets the busy fallback at once (outcome `busy`): the instance is not marked as failing, it is
only full, and no work is sent that would be abandoned half-way.

Rasa down or slow: within `CHAT_DEADLINE_SECONDS` (WeChat waits 5 s in all) the user gets an official's answer to
a question like theirs when there is one (the knowledge loop, `bot.knowledge.serve`: no model needed), else the
service menu plus a link to the agency search, in their language. The lookup of that answer gets at most
`KNOWLEDGE_SECONDS`, and never more than the time left before the turn's `reply_by` (the WeChat webhook's 4.5 s
passive-reply deadline): with less than `KNOWLEDGE_LEAST_SECONDS` left the menu is the answer at once, so the
fallback is still a passive reply instead of running past the deadline into a deferred one.

`/readyz` reports `rasa` (up when at least one instance has a model loaded).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import ValidationError

from bot.identity import identity_metadata
from core.chat import MENU, ChatButton, ChatCard, ChatReply, ChatTurn, detect_language
from core.settings import Settings
from core.state import HTTP_CLIENT

log = logging.getLogger(__name__)

# After a failure an instance is skipped this long (unless every instance is failing).
COOL_DOWN_SECONDS = 5.0
# The metadata key Rasa's side (bot/rasa_patches.py) sets the `lang` slot from.
LANG_METADATA_KEY = "set_lang"
# A turn that waited longer than this for its place and then timed out does not mark the instance as failing.
QUEUE_GRACE_SECONDS = 0.05
AGENCY_SEARCH_LINK = "pages/agency/search"
# How long the fallback may look for an official answer (a read of a few rows) before giving the menu, at most;
# bounded by the time left before the turn's `reply_by`, and not tried with less than KNOWLEDGE_LEAST_SECONDS left.
KNOWLEDGE_SECONDS = 1.0
KNOWLEDGE_LEAST_SECONDS = 0.05

# The official answer to a turn's question, as the text to say (None: there is none).
KnowledgeLookup = Callable[[ChatTurn], Awaitable[str | None]]


class RasaUnavailable(RuntimeError):
    pass


class _NoTimeLeft(Exception):
    """A place came free, but too late for a turn to finish before the deadline."""


def rendezvous_order(urls: list[str], sender_id: str) -> list[str]:
    """The instances in this conversation's preference order: highest hash of (url, sender) first."""

    def weight(url: str) -> int:
        return int.from_bytes(hashlib.sha256(f"{url}\x00{sender_id}".encode()).digest()[:8], "big")

    return sorted(urls, key=weight, reverse=True)


def fallback_replies(lang: str) -> list[ChatReply]:
    """What the user gets when the assistant cannot answer in time: the menu and a link to agency search."""
    menu = MENU["en" if lang == "en" else "zh"]
    note = (
        "The assistant is busy right now; here is what I can do."
        if lang == "en"
        else "智能助手暂时繁忙，您可以先看看这些："
    )
    search = ChatCard(
        title="Search agencies" if lang == "en" else "查找代理机构",
        subtitle="By city, service and credit level" if lang == "en" else "按城市、服务、信用等级筛选",
        link=AGENCY_SEARCH_LINK,
    )
    return [ChatReply(text=f"{note}\n{menu.text}", buttons=list(menu.buttons), cards=[search])]


def _cards(raw: object) -> list[ChatCard]:
    cards = []
    for item in raw if isinstance(raw, list) else []:
        try:
            cards.append(ChatCard.model_validate(item))
        except ValidationError:
            log.warning("dropped a malformed card from Rasa", extra={"card": str(item)[:200]})
    return cards


def _buttons(raw: object) -> list[ChatButton]:
    buttons = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict) and item.get("title") and item.get("payload"):
            buttons.append(ChatButton(title=str(item["title"]), payload=str(item["payload"])))
    return buttons


def to_replies(messages: object) -> list[ChatReply]:
    """Rasa's REST channel output → replies. Rasa sends an action's text (with buttons) and its custom payload as
    two messages; cards in a custom payload join the reply before them."""
    replies: list[ChatReply] = []
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict):
            continue
        custom = message.get("custom")
        if isinstance(custom, dict):
            cards = _cards(custom.get("cards"))
            text = custom.get("text")
            if isinstance(text, str) and text:
                replies.append(ChatReply(text=text, buttons=_buttons(custom.get("buttons")), cards=cards))
            elif replies:
                replies[-1].cards.extend(cards)
            elif cards:
                replies.append(ChatReply(text="", cards=cards))
            continue
        text = message.get("text")
        buttons = _buttons(message.get("buttons"))
        image = message.get("image")
        if isinstance(image, str) and image:
            text = f"{text}\n{image}" if text else image
        if (isinstance(text, str) and text) or buttons:
            replies.append(ChatReply(text=text if isinstance(text, str) else "", buttons=buttons))
    return replies


class RasaGateway:
    def __init__(
        self,
        settings: Settings,
        client: Callable[[], aiohttp.ClientSession],
        *,
        clock: Callable[[], float] = time.monotonic,
        observe: Callable[[str, float], None] | None = None,
        knowledge: KnowledgeLookup | None = None,
    ) -> None:
        self._knowledge = knowledge
        self.urls = settings.rasa_urls
        self.deadline = settings.chat_deadline_seconds
        self.secret = settings.bot_metadata_secret
        self.token = settings.rasa_auth_token
        self.max_in_flight = settings.rasa_max_in_flight
        self._client = client
        self._clock = clock
        # Told each turn's outcome ("answered", "empty", "busy", "timeout", "unavailable") and its seconds (metrics).
        self._observe = observe
        self._down_until: dict[str, float] = {}
        # One semaphore per instance, created on first use (inside the running loop).
        self._places: dict[str, asyncio.Semaphore] = {}
        # How long a turn takes at each instance once sent (moving average of answered turns).
        self._turn_seconds: dict[str, float] = {}

    @classmethod
    def for_app(
        cls,
        app: web.Application,
        settings: Settings,
        observe: Callable[[str, float], None] | None = None,
        knowledge: KnowledgeLookup | None = None,
    ) -> RasaGateway:
        # The HTTP client exists once the app has started (cleanup_ctx); look it up per call.
        return cls(settings, lambda: app[HTTP_CLIENT], observe=observe, knowledge=knowledge)

    def _outcome(self, outcome: str, started: float) -> None:
        if self._observe is not None:
            self._observe(outcome, self._clock() - started)

    def order_for(self, sender_id: str) -> list[str]:
        """The instances to try for the conversation, in its preference order, skipping those cooling down after a
        failure. Empty when every instance is cooling down: the user gets the fallback at once instead of waiting
        out the deadline on a server that just failed (it is tried again after `COOL_DOWN_SECONDS`)."""
        now = self._clock()
        return [u for u in rendezvous_order(self.urls, sender_id) if self._down_until.get(u, 0.0) <= now]

    def _place(self, url: str) -> asyncio.Semaphore:
        place = self._places.get(url)
        if place is None:
            place = self._places[url] = asyncio.Semaphore(self.max_in_flight)
        return place

    def _params(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        params = dict(extra or {})
        if self.token:
            params["token"] = self.token
        return params

    def _redacted(self, error: object) -> str:
        """An error's text without the token (aiohttp's errors may quote the URL with its query)."""
        text = str(error)
        return text.replace(self.token, "<RASA_AUTH_TOKEN>") if self.token else text

    async def reply(self, turn: ChatTurn) -> list[ChatReply]:
        started = self._clock()
        # A tapped button sends its payload ("/find_agency{...}"): that says nothing about the user's language, so
        # the conversation keeps the one it has (and a fallback answers in Chinese, the default).
        is_payload = turn.text.startswith("/")
        hinted = turn.metadata.get("language")
        detected = hinted if hinted in ("zh", "en") else detect_language(turn.text)
        lang = "zh" if is_payload else detected
        metadata: dict[str, Any] = {
            "lang": lang,
            "channel": turn.channel,
            **identity_metadata(self.secret, turn.sender_id, turn.text, turn.principal, turn.wechat_openid),
        }
        if not is_payload:
            metadata[LANG_METADATA_KEY] = lang
        failure = "unavailable"
        for url in self.order_for(turn.sender_id):
            remaining = self.deadline - (self._clock() - started)
            if remaining <= 0.05:
                failure = "timeout"
                break
            in_line = self._clock()
            admitted: float | None = None
            try:
                async with asyncio.timeout(remaining):
                    async with self._place(url):
                        admitted = self._clock()
                        # Sent with less time left than a turn takes, it would only be abandoned mid-way, its
                        # work wasted while others wait: the user gets the busy answer now instead.
                        if self.deadline - (admitted - started) < self._turn_seconds.get(url, 0.0):
                            raise _NoTimeLeft
                        messages = await self._send(url, turn.sender_id, turn.text, metadata)
            except (TimeoutError, _NoTimeLeft) as exc:
                if admitted is None or isinstance(exc, _NoTimeLeft):
                    # Still in line at the deadline: the instance is full, not failing — no cool-down.
                    log.info("rasa busy: no place in time", extra={"rasa": url, "sender": turn.sender_id})
                    failure = "busy"
                    break
                if admitted - in_line < QUEUE_GRACE_SECONDS:  # it had its whole time and did not answer
                    self._down_until[url] = self._clock() + COOL_DOWN_SECONDS
                log.warning("rasa did not answer in time", extra={"rasa": url, "sender": turn.sender_id})
                failure = "timeout"
                break
            except RasaUnavailable as exc:
                self._down_until[url] = self._clock() + COOL_DOWN_SECONDS
                log.warning("rasa failed; trying the next instance", extra={"rasa": url, "error": str(exc)})
                continue
            self._down_until.pop(url, None)
            took = self._clock() - admitted
            self._turn_seconds[url] = 0.8 * self._turn_seconds.get(url, took) + 0.2 * took
            replies = to_replies(messages)
            self._outcome("answered" if replies else "empty", started)
            # Rasa answering nothing at all leaves the user hanging: show what the service offers.
            return replies or [MENU[lang]]
        self._outcome(failure, started)
        official = await self._official_answer(turn, self.knowledge_budget(turn))
        if official is not None:
            menu = MENU["en" if lang == "en" else "zh"]
            return [ChatReply(text=official, buttons=list(menu.buttons))]
        return fallback_replies(lang)

    def knowledge_budget(self, turn: ChatTurn) -> float:
        """Seconds the fallback may spend looking for an official answer now: `KNOWLEDGE_SECONDS`, cut to the time
        left before the turn's `reply_by`; 0 when less than `KNOWLEDGE_LEAST_SECONDS` is left (no lookup)."""
        budget = KNOWLEDGE_SECONDS
        if turn.reply_by is not None:
            budget = min(budget, turn.reply_by - self._clock())
        return budget if budget >= KNOWLEDGE_LEAST_SECONDS else 0.0

    async def _official_answer(self, turn: ChatTurn, budget: float) -> str | None:
        """An official's answer to the turn's question while Rasa cannot answer, looked up within `budget` seconds;
        None when there is none, no time for it, or the lookup fails (the menu then, as before)."""
        if self._knowledge is None or turn.text.startswith("/") or budget <= 0:
            return None
        try:
            async with asyncio.timeout(budget):
                return await self._knowledge(turn)
        except Exception:  # the fallback must answer whatever the database does
            log.warning("no official answer looked up for the fallback", exc_info=True)
            return None

    async def _post(self, url: str, json_body: object, params: dict[str, str] | None = None) -> object:
        try:
            async with self._client().post(url, json=json_body, params=self._params(params)) as response:
                if response.status >= 500:
                    raise RasaUnavailable(f"{url} answered {response.status}")
                if response.status >= 400:
                    body = self._redacted((await response.text())[:300])
                    raise RasaUnavailable(f"{url} refused the request ({response.status}): {body}")
                return await response.json(content_type=None)
        except aiohttp.ClientError as exc:
            raise RasaUnavailable(f"{url}: {type(exc).__name__}: {self._redacted(exc)}") from exc
        except ValueError as exc:  # not JSON
            raise RasaUnavailable(f"{url}: the answer is not JSON") from exc

    async def _send(self, base: str, sender_id: str, text: str, metadata: dict[str, Any]) -> object:
        body = {"sender": sender_id, "message": text, "metadata": metadata}
        return await self._post(f"{base}/webhooks/rest/webhook", body)

    async def ready(self) -> None:
        """Readiness: at least one instance answers /status with a loaded model (all asked at once)."""
        results = await asyncio.gather(*(self._status(url) for url in self.urls))
        if any(problem is None for problem in results):
            return
        raise RasaUnavailable("; ".join(p for p in results if p))

    async def _status(self, url: str) -> str | None:
        """None when the instance is ready, else what is wrong."""
        try:
            async with asyncio.timeout(1.5):
                async with self._client().get(f"{url}/status", params=self._params()) as response:
                    if response.status != 200:
                        return f"{url}: {response.status}"
                    status = await response.json(content_type=None)
        except TimeoutError:
            return f"{url}: timeout"
        except (aiohttp.ClientError, ValueError) as exc:
            return f"{url}: {type(exc).__name__}"
        if isinstance(status, dict) and status.get("model_id"):
            return None
        return f"{url}: no model loaded"
