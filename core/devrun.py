"""`python server.py dev` (what `make run` starts): every process of the system in the foreground.

Each process gets a name prefix on its output; Ctrl-C (or any process dying) stops all of them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from core.settings import Settings


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


def processes(settings: Settings) -> list[Process]:
    from bot.devrun import rasa_processes

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
    return asyncio.run(supervise(settings))
