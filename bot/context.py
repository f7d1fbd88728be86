"""What a custom action may use while it runs: set by the `/bot/actions` handler for that one request.

rasa_sdk calls `Action.run(dispatcher, tracker, domain)` with no room for our app, so the handler puts the
request's unit of work (session), the cache, the settings and the limiter of the actions' writes in a context
variable; `bot.lookups` reads it.
Nothing here is global: each request (and each asyncio task) sees its own value.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core.cache import Cache
from core.ratelimit import RateLimiter
from core.settings import Settings


@dataclass(frozen=True, slots=True)
class ActionContext:
    session: AsyncSession
    cache: Cache
    settings: Settings
    limiter: RateLimiter


_current: ContextVar[ActionContext | None] = ContextVar("bot_action_context", default=None)


class NoActionContext(RuntimeError):
    pass


def current() -> ActionContext:
    context = _current.get()
    if context is None:
        raise NoActionContext("custom actions run only inside the /bot/actions request")
    return context


@contextmanager
def action_context(context: ActionContext) -> Iterator[None]:
    token = _current.set(context)
    try:
        yield
    finally:
        _current.reset(token)
