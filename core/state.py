"""Typed keys for what the app factory puts on the application and each request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

if TYPE_CHECKING:
    from core.auth import Principal, TokenResolver
    from core.cache import Cache
    from core.chat import ChatEngine
    from core.db import Database, UnitOfWork
    from core.http import Api
    from core.metrics import Metrics
    from core.settings import Settings

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
DATABASE: web.AppKey[Database] = web.AppKey("database")
CACHE: web.AppKey[Cache] = web.AppKey("cache")
HTTP_CLIENT: web.AppKey[aiohttp.ClientSession] = web.AppKey("http_client")
API: web.AppKey[Api] = web.AppKey("api")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
TOKEN_RESOLVER: web.AppKey[TokenResolver] = web.AppKey("token_resolver")
# The assistant behind every chat channel; channels fall back to core.chat.MenuEngine when absent.
CHAT_ENGINE: web.AppKey[ChatEngine] = web.AppKey("chat_engine")
# Readiness probes beyond database and cache (e.g. Rasa) register here: name -> async check raising on failure.
READINESS_CHECKS: web.AppKey[dict[str, Any]] = web.AppKey("readiness_checks")

UNIT_OF_WORK: web.RequestKey[UnitOfWork] = web.RequestKey("unit_of_work")
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal")
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id")
