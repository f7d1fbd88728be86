"""Print `export` lines for bot/endpoints.redis.yml, derived from REDIS_URL.

REDIS_URL = redis://[[user]:password@]host[:port][/db].  Variables already set in the
environment win.  The lock store gets db+1 (RASA_REDIS_LOCK_DB) so that it never shares
keys with the tracker store; RASA_REDIS_KEY_PREFIX defaults to `ipassistant` (letters and digits
only: Rasa silently ignores another prefix).  Used by `make -f mk/rasa.mk rasa-run`:
    eval "$(python bot/scripts/redis_env.py)"
"""

from __future__ import annotations

import os
import shlex
import sys
from urllib.parse import unquote, urlsplit

DEFAULT_KEY_PREFIX = "ipassistant"


def key_prefix_ok(prefix: str) -> bool:
    """Rasa 3.6 keeps a key prefix only when it is letters and digits (otherwise it falls back silently)."""
    return prefix.isascii() and prefix.isalnum()


def derive(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ValueError(f"REDIS_URL is not a redis:// URL: {url!r}")
    db = (parts.path or "/0").lstrip("/") or "0"
    if not db.isdigit():
        raise ValueError(f"REDIS_URL database must be a number: {db!r}")
    return {
        "RASA_REDIS_HOST": parts.hostname,
        "RASA_REDIS_PORT": str(parts.port or 6379),
        "RASA_REDIS_DB": db,
        "RASA_REDIS_LOCK_DB": str(int(db) + 1),
        "RASA_REDIS_PASSWORD": unquote(parts.password or ""),
        "RASA_REDIS_KEY_PREFIX": DEFAULT_KEY_PREFIX,
    }


def main() -> int:
    try:
        values = derive(os.environ.get("REDIS_URL", ""))
    except ValueError as exc:
        print(f"echo {shlex.quote(str(exc))} >&2; exit 1")
        return 1
    values = {key: os.environ.get(key) or value for key, value in values.items()}
    if not key_prefix_ok(values["RASA_REDIS_KEY_PREFIX"]):
        print(f"echo {shlex.quote('RASA_REDIS_KEY_PREFIX must be letters and digits only')} >&2; exit 1")
        return 1
    for key, value in values.items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
