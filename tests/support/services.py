"""Private servers for the tests that break things: a Redis and a PostgreSQL cluster of their own on free ports,
and real backend workers (`python server.py run --reuse-port`) on a port they share.

The machine's shared PostgreSQL (5432) and Redis (6379) are never stopped or reconfigured here: other test runs
use them at the same time. Everything started here is stopped at the end, by its own process id.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.harness import free_port

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / "var" / "test-servers"


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


def postgres_bin_dir() -> Path | None:
    """Debian's PostgreSQL binaries (initdb, pg_ctl), newest version first."""
    base = Path("/usr/lib/postgresql")
    for version in sorted(base.glob("*"), key=lambda p: int(p.name) if p.name.isdigit() else 0, reverse=True):
        if (version / "bin" / "initdb").exists():
            return version / "bin"
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def missing_tools() -> str | None:
    """Why the private servers cannot run here, or None."""
    if redis_server_binary() is None:
        return "redis-server is not installed"
    if postgres_bin_dir() is None:
        return "PostgreSQL's initdb/pg_ctl are not installed"
    return None


# ---------------------------------------------------------------- Redis


@dataclass
class PrivateRedis:
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = redis_server_binary()
        assert binary is not None
        argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True)  # noqa: S603
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if _port_open(self.port):
                return
            time.sleep(0.05)
        raise RuntimeError(f"private redis did not start; see {self.log_path}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    LOGS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = PrivateRedis(port=port, log_path=LOGS / f"redis-{port}.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------- PostgreSQL


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class PrivatePostgres:
    port: int
    folder: Path
    bin_dir: Path
    log_path: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        argv = [str(self.bin_dir / "pg_ctl"), "-D", str(self.folder / "data"), "-l", str(self.log_path)]
        subprocess.run(_as_postgres([*argv, "-o", options, *args]), check=True, capture_output=True, timeout=60)  # noqa: S603

    def start(self) -> None:
        self._pg_ctl("-w", "start")

    def stop(self) -> None:
        self._pg_ctl("-w", "-m", "fast", "stop")

    def create_database(self, name: str) -> str:
        subprocess.run(  # noqa: S603
            _as_postgres(
                [str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name]
            ),
            check=True,
            capture_output=True,
            timeout=30,
        )
        return self.url(name)


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    bin_dir = postgres_bin_dir()
    assert bin_dir is not None
    LOGS.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="ipa-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    port = free_port()
    log_path = folder / "server.log"
    subprocess.run(  # noqa: S603
        _as_postgres(
            [str(bin_dir / "initdb"), "-D", str(folder / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = PrivatePostgres(port=port, folder=folder, bin_dir=bin_dir, log_path=log_path)
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            server._pg_ctl("-w", "-m", "immediate", "stop")
        with contextlib.suppress(OSError):
            shutil.copy(log_path, LOGS / f"postgres-{port}.log")
        shutil.rmtree(folder, ignore_errors=True)


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# ---------------------------------------------------------------- the backend


def server_command(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python server.py <args>` (migrate, create-user, vouchers check…) with `env` on top of ours."""
    return subprocess.run(  # noqa: S603
        [sys.executable, "server.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@dataclass
class Worker:
    """One `server.py run --reuse-port` process on a port it may share with other workers."""

    port: int
    env: dict[str, str]
    name: str
    process: asyncio.subprocess.Process | None = None
    log_path: Path = field(default_factory=Path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self, *, ready_timeout: float = 60) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log_path = LOGS / f"{self.name}-{self.port}.log"
        env = {**os.environ, "PORT": str(self.port), "LOG_LEVEL": "WARNING", **self.env}
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "server.py",
                "run",
                "--reuse-port",
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        await self._wait_ready(ready_timeout)

    async def _wait_ready(self, limit: float) -> None:
        """Ready when this process (not a sibling sharing the port) has bound: its /proc shows the listening socket,
        and the port answers /healthz."""
        assert self.process is not None
        deadline = time.monotonic() + limit
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
                if _listens(self.process.pid, self.port):
                    with contextlib.suppress(aiohttp.ClientError):
                        async with session.get(f"{self.url}/healthz") as response:
                            if response.status == 200:
                                return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {limit}s; see {self.log_path}")

    async def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        if self.process is None or self.process.returncode is not None:
            return self.process.returncode if self.process and self.process.returncode is not None else 0
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            return await asyncio.wait_for(self.process.wait(), timeout=15)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            return await self.process.wait()

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _listens(pid: int, port: int) -> bool:
    """Whether process `pid` holds a listening TCP socket on `port` (SO_REUSEPORT lets several do so)."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    hex_port = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                if parts[1].endswith(hex_port) and parts[3] == "0A" and parts[9] in inodes:
                    return True
    return False


@contextlib.asynccontextmanager
async def workers(count: int, env: dict[str, str], *, port: int | None = None) -> AsyncIterator[list[Worker]]:
    """`count` workers sharing one port (started one after the other), all stopped at the end."""
    shared = port or free_port()
    started = [Worker(port=shared, env=env, name=f"worker{n + 1}") for n in range(count)]
    try:
        for worker in started:
            await worker.start()
        yield started
    finally:
        for worker in started:
            await worker.stop()


def prepared_database(postgres: PrivatePostgres, name: str) -> str:
    """A new database on the private cluster, migrated by `server.py migrate`."""
    url = postgres.create_database(name)
    result = server_command("migrate", env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr[-2000:]
    return url
