"""Typed keys for what the app factory puts on the application and each request, all listed here for the domains.

Each key is defined beside the type it keys (so the core modules that read one import it from there, and nothing
in core goes round in a circle through this list); the three below key types of no module of ours.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web

from core.auth import PRINCIPAL, TOKEN_RESOLVER
from core.cache import CACHE
from core.chat import CHAT_ENGINE
from core.db import DATABASE, UNIT_OF_WORK
from core.events import EVENTS
from core.http import API
from core.metrics import METRICS
from core.settings import SETTINGS

__all__ = [
    "API",
    "CACHE",
    "CHAT_ENGINE",
    "DATABASE",
    "EVENTS",
    "HTTP_CLIENT",
    "METRICS",
    "PRINCIPAL",
    "READINESS_CHECKS",
    "REQUEST_ID",
    "SETTINGS",
    "TOKEN_RESOLVER",
    "UNIT_OF_WORK",
]

HTTP_CLIENT: web.AppKey[aiohttp.ClientSession] = web.AppKey("http_client")
# Readiness probes beyond database and cache (e.g. Rasa) register here: name -> async check raising on failure.
READINESS_CHECKS: web.AppKey[dict[str, Any]] = web.AppKey("readiness_checks")
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id")
