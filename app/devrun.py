"""`python server.py dev` (what `make run` starts): every process of the system in the foreground.

Each process gets a name prefix on its output; Ctrl-C (or any process dying) stops all of them.

Rasa: one `rasa run --enable-api` per local URL in `RASA_URL` (several instances: several ports), as the Rasa
side's `make -f mk/rasa.mk rasa-run` starts it: on loopback only, its API behind `RASA_AUTH_TOKEN`, the trained
model, the token-checking REST channel (`bot/credentials.yml`), the backend's `/bot/actions` as the action server
(sent `BOT_ACTIONS_TOKEN`), and with `REDIS_URL` the Redis tracker and lock stores (`bot/endpoints.redis.yml`) so
the instances share conversations. Skipped with a hint while there is no trained model or no `.venv-rasa`.

Secrets not set in the environment or `.env` come from `var/secrets.env`, generated on the first run
(`app.local_secrets`); every process gets the same values.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from app import local_secrets
from core.settings import Settings, load_settings, require_secrets

RASA_BIN = Path(".venv-rasa/bin/rasa")
MODEL = Path("bot/models/current.tar.gz")
ENDPOINTS = Path("bot/endpoints.yml")
REDIS_ENDPOINTS = Path("bot/endpoints.redis.yml")
CREDENTIALS = Path("bot/credentials.yml")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
# As mk/rasa.mk runs it: no telemetry (no network), quieter TensorFlow and SQLAlchemy.
RASA_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONWARNINGS": "ignore",
}


@dataclass
class Process:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    # Only started when this file exists (e.g. a trained model); otherwise a line says why it is skipped.
    requires: Path | None = None
    requires_hint: str = ""


def backend_processes(settings: Settings) -> list[Process]:
    """WORKERS backend processes sharing PORT; with more than one, metrics are aggregated across them."""
    python = sys.executable
    if settings.workers == 1:
        return [Process("backend", [python, "server.py", "run"])]
    metrics_dir = Path("var/prometheus")
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir.resolve())}
    return [
        Process(f"backend{n}", [python, "server.py", "run", "--reuse-port"], env=env)
        for n in range(1, settings.workers + 1)
    ]


def _redis_env(redis_url: str) -> dict[str, str]:
    """RASA_REDIS_* for bot/endpoints.redis.yml, derived by the Rasa side's own script (one source of truth)."""
    spec = importlib.util.spec_from_file_location("ipa_redis_env", Path("bot/scripts/redis_env.py"))
    if spec is None or spec.loader is None:
        raise RuntimeError("bot/scripts/redis_env.py is missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    derived: dict[str, str] = module.derive(redis_url)
    # As with `make -f mk/rasa.mk rasa-run`: values already in the environment win (e.g. RASA_REDIS_KEY_PREFIX).
    return {key: os.environ.get(key) or value for key, value in derived.items()}


def rasa_processes(settings: Settings) -> list[Process]:
    local = [u for u in settings.rasa_urls if urlsplit(u).hostname in LOCAL_HOSTS]
    if not local:
        return []  # Rasa runs elsewhere
    if not (settings.rasa_auth_token and settings.bot_actions_token):
        raise ValueError("Rasa is started only with RASA_AUTH_TOKEN and BOT_ACTIONS_TOKEN set")
    # The endpoints files read these from the environment (Rasa expands ${NAME} and refuses to start without it).
    env = {
        **RASA_ENV,
        "ACTION_ENDPOINT_URL": f"http://localhost:{settings.port}/bot/actions",
        "BOT_ACTIONS_TOKEN": settings.bot_actions_token,
        "RASA_AUTH_TOKEN": settings.rasa_auth_token,
    }
    endpoints = ENDPOINTS
    if settings.redis_url is not None:
        endpoints, env = REDIS_ENDPOINTS, {**env, **_redis_env(str(settings.redis_url))}
    requires, hint = (MODEL, "no trained model yet: `make -f mk/rasa.mk rasa-train` (make run trains it)")
    if not RASA_BIN.exists():
        requires, hint = (RASA_BIN, "no .venv-rasa yet: `make -f mk/rasa.mk rasa-venv`")
    out = []
    for n, url in enumerate(local, start=1):
        # Loopback only: the backend on this machine is its one client (Rasa's default is every interface).
        interface = "::1" if urlsplit(url).hostname == "::1" else "127.0.0.1"
        argv = [str(RASA_BIN), "run", "--enable-api", "-i", interface, "--port", str(urlsplit(url).port or 5005)]
        argv += ["-m", str(MODEL), "--endpoints", str(endpoints), "--credentials", str(CREDENTIALS)]
        argv += ["--auth-token", settings.rasa_auth_token]
        name = "rasa" if len(local) == 1 else f"rasa{n}"
        out.append(Process(name, argv, env=env, requires=requires, requires_hint=hint))
    return out


def processes(settings: Settings) -> list[Process]:
    return [
        *backend_processes(settings),
        # The local WeChat stand-in on WECHAT_API_BASE (8081): token, code2session, custom/subscribe send.
        Process("wechat", [sys.executable, "-m", "wechat_standin", "serve"]),
        # Rasa on each local RASA_URL (5005), once a model is trained; its actions call back /bot/actions.
        *rasa_processes(settings),
    ]


async def _pump(name: str, stream: asyncio.StreamReader) -> None:
    width = 8
    while line := await stream.readline():
        sys.stdout.write(f"{name:<{width}}| {line.decode(errors='replace')}")
        sys.stdout.flush()


async def supervise(settings: Settings) -> int:
    running: list[tuple[Process, asyncio.subprocess.Process]] = []
    pumps: list[asyncio.Task[None]] = []
    for proc in processes(settings):
        if proc.requires is not None and not proc.requires.exists():
            print(f"{proc.name}: not started — {proc.requires_hint or f'{proc.requires} is missing'}")
            continue
        child = await asyncio.create_subprocess_exec(
            *proc.argv,
            env={**os.environ, **proc.env},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        assert child.stdout is not None
        pumps.append(asyncio.create_task(_pump(proc.name, child.stdout)))
        running.append((proc, child))
    print(
        f"console: http://localhost:{settings.port}/console/ (officials, agency staff) · "
        f"http://localhost:{settings.port}/console/m/ (enterprise phone view)",
        flush=True,
    )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    waits = {asyncio.create_task(child.wait()): proc for proc, child in running}
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({*waits, stopper}, return_when=asyncio.FIRST_COMPLETED)
    code = 0
    for task in done:
        if task in waits:
            print(f"{waits[task].name}: exited with {task.result()}; stopping everything")
            code = 1
    for _proc, child in running:
        if child.returncode is None:
            os.killpg(child.pid, signal.SIGTERM)
    for _proc, child in running:
        try:
            await asyncio.wait_for(child.wait(), timeout=10)
        except TimeoutError:
            os.killpg(child.pid, signal.SIGKILL)
    for pump in pumps:
        pump.cancel()
    return code


def run_dev(settings: Settings) -> int:
    """Every process with the same secrets: those configured, the rest generated once into var/secrets.env."""
    os.environ.update(local_secrets.resolved())
    settings = load_settings()  # read again: the children inherit this environment, and so must our view of it
    require_secrets(settings)
    return asyncio.run(supervise(settings))
