"""What the WeChat domain keeps on the app: the API client and its background work."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from core.ratelimit import RateLimiter
from core.wechat.client import WeChatClient
from core.wechat.crypto import SafeMode
from core.wechat.platform import WeChatPlatform

if TYPE_CHECKING:
    from wechat.worker import PushWorker


@dataclass
class WeChatRuntime:
    client: WeChatClient
    safe_mode: SafeMode | None
    worker: PushWorker
    limiter: RateLimiter  # the chat limit per sender (openid), counted in the shared cache
    platform: WeChatPlatform  # wechatpy's clients: web authorization, JS-SDK, menu, QR codes
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # This process's recent answers by message key (None: deferred), for WeChat's retries when the shared copy in
    # the cache could not be written (Redis timing out under load); each is forgotten after a minute.
    answers: dict[str, str | None] = field(default_factory=dict)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Background work that must outlive the request (answers past the deadline); kept until done."""
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


WECHAT: web.AppKey[WeChatRuntime] = web.AppKey("wechat", WeChatRuntime)
