"""No secret has a usable default: the server refuses to start without each one, or with a published or short one,
in one line naming it; the commands that only touch the database run without any; `make run` generates strong
local ones once (var/secrets.env, mode 0600) that every process it starts shares."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web

from app import devrun, local_secrets
from app.cli import main
from app.devrun import processes, rasa_processes
from core.settings import (
    REQUIRED_SECRETS,
    Settings,
    SettingsError,
    load_settings,
    missing_secrets,
    require_secrets,
)
from tests.conftest import TEST_SECRETS

ROOT = Path(__file__).resolve().parents[2]
SECRET_NAMES = [name.upper() for name in REQUIRED_SECRETS]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A folder with no `.env` and no `var/secrets.env`, and an environment without any secret; a server that
    would start fails the test at once instead of serving."""
    for name in local_secrets.GENERATORS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)

    def started(*_args: object, **_kwargs: object) -> None:
        pytest.fail("the server started")

    monkeypatch.setattr(web, "run_app", started)
    return tmp_path


def stderr_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_the_server_does_not_start_without_its_secrets(bare: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SettingsError) as stopped:
        main(["run"])
    assert stopped.value.code == 2
    line = stderr_line(capsys)
    assert line.startswith("invalid setting BOT_METADATA_SECRET: must be set"), line
    assert missing_secrets(load_settings()) == SECRET_NAMES


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_each_missing_secret_is_named(
    bare: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    for other in SECRET_NAMES:
        if other != name:
            monkeypatch.setenv(other, TEST_SECRETS[other])
    with pytest.raises(SettingsError):
        require_secrets(load_settings())
    assert stderr_line(capsys).startswith(f"invalid setting {name}: must be set")


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("BOT_METADATA_SECRET", "ipa-dev-bot-metadata-secret", "published default"),
        ("WECHAT_TOKEN", "ipa-dev-token", "published default"),
        ("WECHAT_SECRET", "dev-secret", "published default"),
        ("BOT_ACTIONS_TOKEN", "short-token", "too short"),
        ("RASA_AUTH_TOKEN", "123456789012345", "too short"),
    ],
)
def test_a_published_or_short_secret_stops_start_up_naming_it(
    bare: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, value: str, reason: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as stopped:
        main(["run"])
    assert stopped.value.code == 2
    line = stderr_line(capsys)
    assert line.startswith(f"invalid setting {name}:") and reason in line, line


def test_commands_that_only_touch_the_database_need_no_secret(bare: Path) -> None:
    (bare / "alembic.ini").symlink_to(ROOT / "alembic.ini")
    (bare / "migrations").symlink_to(ROOT / "migrations")
    env = {k: v for k, v in os.environ.items() if k not in local_secrets.GENERATORS}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{bare / 'db.sqlite3'}"
    env.pop("REDIS_URL", None)
    server = [sys.executable, str(ROOT / "server.py")]
    for command in (
        ["migrate"],
        ["create-user", "--role", "official", "--username", "clerk", "--password", "correct-horse-battery"],
    ):
        done = subprocess.run([*server, *command], cwd=bare, env=env, capture_output=True, text=True, timeout=120)  # noqa: S603
        assert done.returncode == 0, done.stderr


def test_local_secrets_are_generated_once_strong_and_private(bare: Path) -> None:
    first = local_secrets.resolved()
    path = bare / "var" / "secrets.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_secrets.resolved() == first  # once: a second run keeps them
    assert len(set(first.values())) == len(first)
    settings = load_settings(**{name.lower(): value for name, value in first.items()})
    require_secrets(settings)  # strong enough for the server
    assert settings.wechat_aes_key == first["WECHAT_AES_KEY"]
    assert first["WECHAT_TOKEN"].isalnum() and len(first["WECHAT_TOKEN"]) <= 32  # what WeChat's console accepts
    # core.settings reads the file too (after the environment and .env): `server.py wechat-chat` agrees.
    assert load_settings().wechat_token == first["WECHAT_TOKEN"]


def test_configured_secrets_win_over_the_generated_ones(bare: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generated = local_secrets.resolved()
    (bare / ".env").write_text('WECHAT_SECRET="a-wechat-secret-from-dotenv"\n', encoding="utf-8")
    monkeypatch.setenv("RASA_AUTH_TOKEN", "a-rasa-token-from-the-environment")
    monkeypatch.setenv("WECHAT_AES_KEY", "")  # plain mode, asked for
    now = local_secrets.resolved()
    assert now["WECHAT_SECRET"] == "a-wechat-secret-from-dotenv" == load_settings().wechat_secret
    assert now["RASA_AUTH_TOKEN"] == "a-rasa-token-from-the-environment" == load_settings().rasa_auth_token
    assert now["WECHAT_AES_KEY"] == "" and load_settings().wechat_aes_key is None
    assert now["BOT_METADATA_SECRET"] == generated["BOT_METADATA_SECRET"] == load_settings().bot_metadata_secret


def test_the_rasa_side_reads_the_same_secrets(bare: Path) -> None:
    """`mk/rasa.mk` evals the script's exports with Rasa's own Python (3.10, stdlib only)."""
    python = str(RASA_PYTHON) if RASA_PYTHON.exists() else sys.executable
    script = str(ROOT / "app" / "local_secrets.py")
    done = subprocess.run([python, script, "--export"], cwd=bare, capture_output=True, text=True, timeout=60)  # noqa: S603
    assert done.returncode == 0, done.stderr
    exported = dict(shlex.split(line)[1].split("=", 1) for line in done.stdout.splitlines())
    assert exported == local_secrets.resolved()


def test_make_run_starts_rasa_on_loopback_with_its_tokens(bare: Path) -> None:
    secrets = local_secrets.resolved()
    settings = load_settings(**{name.lower(): value for name, value in secrets.items()}, redis_url=None, port=8090)
    (rasa,) = rasa_processes(settings)
    assert rasa.argv[rasa.argv.index("-i") + 1] == "127.0.0.1"
    assert rasa.argv[rasa.argv.index("--auth-token") + 1] == secrets["RASA_AUTH_TOKEN"]
    assert rasa.env["BOT_ACTIONS_TOKEN"] == secrets["BOT_ACTIONS_TOKEN"]
    assert rasa.env["ACTION_ENDPOINT_URL"] == "http://localhost:8090/bot/actions"
    # Nothing else is handed a secret of its own: every process inherits the same environment (run_dev).
    assert all(not set(p.env) & {"WECHAT_TOKEN", "WECHAT_SECRET"} for p in processes(settings))


def test_make_run_needs_no_setting_from_a_newcomer(bare: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`server.py dev` in a fresh clone: the secrets are generated, and every process it starts inherits them."""
    seen: list[Settings] = []

    async def supervise(settings: Settings) -> int:
        seen.append(settings)
        return 0

    monkeypatch.setattr(devrun, "supervise", supervise)
    assert main(["dev"]) == 0
    (settings,) = seen
    assert missing_secrets(settings) == []
    generated = local_secrets.read_env_file(bare / "var" / "secrets.env")
    assert all(os.environ[name] == value for name, value in generated.items())  # what the children inherit
    assert (
        settings.wechat_secret == generated["WECHAT_SECRET"] and settings.wechat_aes_key == generated["WECHAT_AES_KEY"]
    )
