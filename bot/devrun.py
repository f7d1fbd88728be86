"""The Rasa server(s) `python server.py dev` (`make run`) starts beside the backend.

One `rasa run --enable-api` per local URL in `RASA_URL` (several instances: several ports), as the Rasa side's
`make -f mk/rasa.mk rasa-run` starts it: the trained model, the REST channel, the backend's `/bot/actions` as
the action server, and with `REDIS_URL` the Redis tracker and lock stores (`bot/endpoints.redis.yml`) so the
instances share conversations. Skipped with a hint while there is no trained model or no `.venv-rasa`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from urllib.parse import urlsplit

from core.devrun import Process
from core.settings import Settings

RASA_BIN = Path(".venv-rasa/bin/rasa")
MODEL = Path("bot/models/current.tar.gz")
ENDPOINTS = Path("bot/endpoints.yml")
REDIS_ENDPOINTS = Path("bot/endpoints.redis.yml")
CREDENTIALS = Path("bot/credentials.yml")
DEFAULT_ACTIONS_URL = "http://localhost:8080/bot/actions"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
# As mk/rasa.mk runs it: no telemetry (no network), quieter TensorFlow and SQLAlchemy.
RASA_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONWARNINGS": "ignore",
}


def _redis_env(redis_url: str) -> dict[str, str]:
    """RASA_REDIS_* for bot/endpoints.redis.yml, derived by the Rasa side's own script (one source of truth)."""
    spec = importlib.util.spec_from_file_location("ipa_redis_env", Path("bot/scripts/redis_env.py"))
    if spec is None or spec.loader is None:
        raise RuntimeError("bot/scripts/redis_env.py is missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    derived: dict[str, str] = module.derive(redis_url)
    return derived


def _endpoints(settings: Settings, actions_url: str) -> tuple[Path, dict[str, str]]:
    if settings.redis_url is not None:
        return REDIS_ENDPOINTS, {**_redis_env(str(settings.redis_url)), "ACTION_ENDPOINT_URL": actions_url}
    if actions_url == DEFAULT_ACTIONS_URL:
        return ENDPOINTS, {}
    local = Path("var/rasa-endpoints.yml")
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_text(ENDPOINTS.read_text(encoding="utf-8").replace(DEFAULT_ACTIONS_URL, actions_url), "utf-8")
    return local, {}


def rasa_processes(settings: Settings) -> list[Process]:
    local = [u for u in settings.rasa_urls if urlsplit(u).hostname in LOCAL_HOSTS]
    if not local:
        return []  # Rasa runs elsewhere
    actions_url = f"http://localhost:{settings.port}/bot/actions"
    endpoints, env = _endpoints(settings, actions_url)
    requires, hint = (MODEL, "no trained model yet: `make -f mk/rasa.mk rasa-train` (make run trains it)")
    if not RASA_BIN.exists():
        requires, hint = (RASA_BIN, "no .venv-rasa yet: `make -f mk/rasa.mk rasa-venv`")
    out = []
    for n, url in enumerate(local, start=1):
        argv = [str(RASA_BIN), "run", "--enable-api", "--port", str(urlsplit(url).port or 5005), "-m", str(MODEL)]
        argv += ["--endpoints", str(endpoints), "--credentials", str(CREDENTIALS)]
        if settings.rasa_auth_token:
            argv += ["--auth-token", settings.rasa_auth_token]
        name = "rasa" if len(local) == 1 else f"rasa{n}"
        out.append(Process(name, argv, env={**RASA_ENV, **env}, requires=requires, requires_hint=hint))
    return out
