"""Rasa's REST channel with a lock: a message is taken only with Rasa's API token (`?token=`), checked in constant time.

Rasa's `--auth-token` guards its HTTP API, not its channels: the stock `rest` webhook takes a message for any
sender, with any metadata, from whoever reaches the port. This channel is that webhook (same name, same path
`/webhooks/rest/webhook`, same answers) refusing a request without the token before it is read. The gateway, its
only client, sends the token on every call, as it does to the HTTP API.

Loaded by Rasa from `bot/credentials.yml` (`token: ${RASA_AUTH_TOKEN}`), so it runs in Rasa's own Python (3.10):
it imports nothing of the backend. Importing it also installs our Rasa speed-ups (`bot/rasa_patches.py`: the
jsonschema meta-check once per schema, the `lang` slot set from the message's metadata, a parse cache).
"""

from __future__ import annotations

import hmac
from typing import Any

from rasa.core.channels.rest import RestInput
from sanic import response  # Rasa's web framework, in Rasa's venv

from bot import rasa_patches

rasa_patches.install()


class TokenRestInput(RestInput):  # type: ignore[misc]  # rasa is untyped here
    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("the REST channel needs a token (credentials.yml: token: ${RASA_AUTH_TOKEN})")
        self._token = token.encode()

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TokenRestInput:
        return cls(str((credentials or {}).get("token") or ""))

    def token_ok(self, provided: str | None) -> bool:
        return hmac.compare_digest((provided or "").encode("utf-8", "surrogatepass"), self._token)

    def blueprint(self, on_new_message: Any) -> Any:
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")  # type: ignore[untyped-decorator]
        async def require_token(request: Any) -> Any:
            if self.token_ok(request.args.get("token")):
                return None
            return response.json(
                {"error": {"code": "unauthenticated", "message": "this channel needs Rasa's API token"}}, status=401
            )

        return webhook
