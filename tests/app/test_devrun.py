"""`make run` starts one Rasa per local RASA_URL, wired to the backend's /bot/actions."""

from __future__ import annotations

import pytest

from app.devrun import MODEL, RASA_BIN, REDIS_ENDPOINTS, rasa_processes
from core.settings import load_settings


def test_one_rasa_per_local_url_with_redis_stores_when_redis_is_set() -> None:
    settings = load_settings(
        rasa_url="http://127.0.0.1:5005,http://localhost:5006", redis_url="redis://127.0.0.1:6379/3", port=8090
    )
    first, second = rasa_processes(settings)
    assert (first.name, second.name) == ("rasa1", "rasa2")
    assert first.argv[first.argv.index("--port") + 1] == "5005"
    assert second.argv[second.argv.index("--port") + 1] == "5006"
    assert first.argv[first.argv.index("--endpoints") + 1] == str(REDIS_ENDPOINTS)
    assert first.env["ACTION_ENDPOINT_URL"] == "http://localhost:8090/bot/actions"
    assert (first.env["RASA_REDIS_DB"], first.env["RASA_REDIS_LOCK_DB"]) == ("3", "4")
    assert first.requires in (MODEL, RASA_BIN)


def test_the_default_is_one_rasa_on_5005_with_the_plain_endpoints() -> None:
    (rasa,) = rasa_processes(load_settings(redis_url=None, rasa_url="http://127.0.0.1:5005"))
    assert rasa.name == "rasa"
    assert rasa.argv[rasa.argv.index("--endpoints") + 1] == "bot/endpoints.yml"
    assert "--enable-api" in rasa.argv


def test_a_remote_rasa_is_not_started_here() -> None:
    assert rasa_processes(load_settings(rasa_url="http://rasa.internal:5005")) == []


@pytest.mark.parametrize("token", ["s3cret-token-of-the-api"])
def test_the_api_token_is_passed_on(token: str) -> None:
    (rasa,) = rasa_processes(load_settings(rasa_url="http://127.0.0.1:5005", rasa_auth_token=token))
    assert rasa.argv[-2:] == ["--auth-token", token]
