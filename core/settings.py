"""Settings read once from the environment (and an optional `.env`), validated before anything starts."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import AnyUrl, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/ip_assistant.sqlite3"


class Settings(BaseSettings):
    """Every setting the service reads. An unknown key in `.env` stops start-up (`extra="forbid"`)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="forbid", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    redis_url: AnyUrl | None = None
    # One Rasa server, or several comma-separated (each conversation sticks to one; the next takes over on error).
    rasa_url: str = "http://127.0.0.1:5005"
    # Rasa's HTTP API token (`rasa run --auth-token`), when it is protected.
    rasa_auth_token: str | None = None
    # How long a chat turn may wait for Rasa before the user gets the fallback menu (WeChat allows 5 s in all).
    chat_deadline_seconds: Annotated[float, Field(gt=0, le=30)] = 4.0
    # Signs the user identity the chat gateway sends to Rasa as message metadata; the custom actions in
    # /bot/actions trust only a valid signature (so a forged tracker cannot read someone else's vouchers).
    bot_metadata_secret: Annotated[str, Field(min_length=16)] = "ipa-dev-bot-metadata-secret"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    host: str = "127.0.0.1"
    log_level: str = "INFO"
    # Backend processes `server.py dev` starts on PORT (they share it with SO_REUSEPORT).
    workers: Annotated[int, Field(ge=1, le=64)] = 1

    # Bearer tokens: lifetime in seconds, and the failed-login throttle.
    token_ttl_seconds: Annotated[int, Field(ge=60)] = 12 * 3600
    # argon2id cost; the defaults are argon2-cffi's recommendation (RFC 9106 low-memory profile).
    password_hash_time_cost: Annotated[int, Field(ge=1, le=10)] = 3
    password_hash_memory_kib: Annotated[int, Field(ge=1024, le=1048576)] = 65536
    login_max_failures: Annotated[int, Field(ge=1)] = 5
    login_failure_window_seconds: Annotated[int, Field(ge=1)] = 15 * 60

    # Request limits per user and per client address (core/ratelimit.py), counted in the shared cache over a fixed
    # window, so every worker sees the same counts; 0 means no limit of that kind. RATE_LIMITS=false turns them off
    # (benchmarks that drive one user at machine speed).
    rate_limits: bool = True
    rate_limit_window_seconds: Annotated[int, Field(ge=1, le=3600)] = 60
    # Also each official-account follower's (openid's) messages to /wechat: the same Rasa turns, the same allowance.
    chat_limit_per_user: Annotated[int, Field(ge=0)] = 30
    chat_limit_per_address: Annotated[int, Field(ge=0)] = 120
    search_limit_per_user: Annotated[int, Field(ge=0)] = 120
    search_limit_per_address: Annotated[int, Field(ge=0)] = 600
    # Peers whose X-Forwarded-For names the client (the reverse proxy), comma-separated. A request from one of
    # them without the header is a local process (health checks, Rasa calling /bot/actions): no address limit.
    trusted_proxies: str = "127.0.0.1,::1"

    # Who may read /metrics: clients from these networks (comma-separated addresses or CIDR blocks; the client is
    # found as for the rate limits, so a trusted proxy's X-Forwarded-For counts), or any client sending
    # `Authorization: Bearer <METRICS_TOKEN>`. Everyone else gets 403.
    metrics_allow: str = "127.0.0.0/8,::1"
    metrics_token: Annotated[str, Field(min_length=16)] | None = None

    # Search results are cached this long; any write to an agency invalidates them at once.
    search_cache_ttl_seconds: Annotated[int, Field(ge=0)] = 300
    # Answers each process keeps in its own memory (core/nearcache.py), in MiB; 0 turns that layer off.
    near_cache_mb: Annotated[int, Field(ge=0, le=4096)] = 32
    # A key prefix isolates several deployments (or test runs) sharing one Redis.
    cache_prefix: str = "ipa"

    wechat_token: str = "ipa-dev-token"
    wechat_appid: str = "wx0000000000000000"
    wechat_secret: str = "dev-secret"
    wechat_aes_key: str | None = None
    # With WECHAT_AES_KEY set, only encrypted messages are accepted: a plain message's body is not covered by any
    # signature. True accepts plain ones too, as WeChat's "compatible mode" sends while an account switches over.
    wechat_compatible_mode: bool = False
    wechat_api_base: AnyUrl = AnyUrl("http://127.0.0.1:8081")
    # WeChat waits 5 s for a passive reply; past this deadline we acknowledge and send the answer later.
    wechat_reply_deadline_seconds: Annotated[float, Field(gt=0, le=4.8)] = 4.5
    # Signed webhook requests older/newer than this are refused (WeChat's retries reuse the first timestamp, ~10 s
    # old at the third delivery); a captured request replays for no longer than this.
    wechat_timestamp_window_seconds: Annotated[int, Field(ge=30, le=900)] = 300
    # The push outbox sender runs inside the backend; off lets tests drive it by hand.
    wechat_push_worker: bool = True
    wechat_push_poll_seconds: Annotated[float, Field(gt=0)] = 5.0
    # Subscribe-message template ids (from the mini-program's console).
    wechat_template_rating_changed: str = "tpl-rating-changed"
    wechat_template_voucher_changed: str = "tpl-voucher-changed"
    wechat_template_voucher_expiring: str = "tpl-voucher-expiring"
    wechat_template_ticket_answered: str = "tpl-ticket-answered"

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError("must start with postgresql+asyncpg:// or sqlite+aiosqlite://")
        return value

    @field_validator("redis_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: AnyUrl | None) -> AnyUrl | None:
        if value is not None and value.scheme not in ("redis", "rediss"):
            raise ValueError("must be a redis:// or rediss:// URL")
        return value

    @field_validator("workers")
    @classmethod
    def _workers_share_redis(cls, value: int, info: ValidationInfo) -> int:
        # Each process's in-process cache would hold its own logins, throttles, dedup records and searches.
        if value > 1 and info.data.get("redis_url") is None:
            raise ValueError("more than one worker needs REDIS_URL (processes share state only through Redis)")
        return value

    @field_validator("rasa_url")
    @classmethod
    def _rasa_urls(cls, value: str) -> str:
        urls = [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        if not urls:
            raise ValueError("must name at least one http:// URL")
        for url in urls:
            parsed = urlsplit(url)
            if parsed.scheme not in ("http", "https") or not parsed.hostname:
                raise ValueError(f"{url!r} is not an http:// or https:// URL")
            try:
                parsed.port  # noqa: B018 - raises on a malformed port
            except ValueError:
                raise ValueError(f"{url!r} has a malformed port") from None
        return ",".join(urls)

    @property
    def rasa_urls(self) -> list[str]:
        return self.rasa_url.split(",")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        parts = [part.strip() for part in value.split(",") if part.strip()]
        for part in parts:
            try:
                ipaddress.ip_address(part)
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address") from None
        return ",".join(parts)

    @field_validator("metrics_allow")
    @classmethod
    def _metrics_networks(cls, value: str) -> str:
        parts = [part.strip() for part in value.split(",") if part.strip()]
        for part in parts:
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or network") from None
        return ",".join(parts)

    @property
    def metrics_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(part, strict=False) for part in self.metrics_allow.split(",") if part]

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _blank_token_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return upper

    @field_validator("wechat_aes_key", mode="before")
    @classmethod
    def _aes_key(cls, value: object) -> object:
        if value in (None, ""):
            return None
        if not isinstance(value, str) or len(value) != 43:
            raise ValueError("must be the 43-character EncodingAESKey")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """The database file for a file-based SQLite URL, so start-up can create its folder."""
        if not self.is_sqlite:
            return None
        path = self.database_url.split(":///", 1)[1]
        return None if path in ("", ":memory:") else Path(path)


SETTINGS: web.AppKey[Settings] = web.AppKey("settings")


class SettingsError(SystemExit):
    """Start-up stops with one line naming the setting; raised as SystemExit so no traceback is printed."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = f"invalid setting {name}: {first['msg']}"
        print(message, file=sys.stderr)
        raise SettingsError(2) from None
