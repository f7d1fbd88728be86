"""Who is talking, as the chat gateway tells Rasa and the custom actions read it back.

The gateway sends the user's identity as message metadata; Rasa stores it on the user event and hands the whole
tracker to `/bot/actions`. Anyone who can reach Rasa's or the backend's HTTP API could write a tracker, so the
identity is signed (HMAC-SHA256 with `BOT_METADATA_SECRET`, bound to the conversation id and a timestamp) and an
action trusts it only when the signature holds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from core.auth import Principal, Role

SIGNATURE_KEY = "ipa_sig"
MAX_AGE_SECONDS = 24 * 3600
_IDENTITY_KEYS = ("user_id", "role", "enterprise_id", "agency_id", "openid", "ts")


def _digest(secret: str, sender_id: str, fields: dict[str, str]) -> str:
    canonical = json.dumps([sender_id, [fields.get(k, "") for k in _IDENTITY_KEYS]], separators=(",", ":"))
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def identity_metadata(
    secret: str, sender_id: str, principal: Principal | None, openid: str | None, *, now: float | None = None
) -> dict[str, str]:
    """The signed identity fields to send along with a message (empty values for an anonymous user)."""
    fields = {
        "user_id": str(principal.user_id) if principal else "",
        "role": principal.role.value if principal else "",
        "enterprise_id": str(principal.enterprise_id) if principal and principal.enterprise_id else "",
        "agency_id": str(principal.agency_id) if principal and principal.agency_id else "",
        "openid": openid or "",
        "ts": str(int(now if now is not None else time.time())),
    }
    return {**fields, SIGNATURE_KEY: _digest(secret, sender_id, fields)}


def verified_principal(
    secret: str, sender_id: str, metadata: dict[str, Any] | None, *, now: float | None = None
) -> Principal | None:
    """The principal the metadata names, if its signature holds and it is fresh; None otherwise (anonymous)."""
    if not metadata or not isinstance(metadata.get(SIGNATURE_KEY), str):
        return None
    fields = {k: str(metadata.get(k) or "") for k in _IDENTITY_KEYS}
    expected = _digest(secret, sender_id, fields)
    if not hmac.compare_digest(expected, metadata[SIGNATURE_KEY]):
        return None
    current = now if now is not None else time.time()
    if not fields["ts"].isdigit() or abs(current - int(fields["ts"])) > MAX_AGE_SECONDS:
        return None
    if not fields["user_id"].isdigit():
        return None
    try:
        role = Role(fields["role"])
    except ValueError:
        return None
    return Principal(
        user_id=int(fields["user_id"]),
        username="",
        role=role,
        enterprise_id=int(fields["enterprise_id"]) if fields["enterprise_id"].isdigit() else None,
        agency_id=int(fields["agency_id"]) if fields["agency_id"].isdigit() else None,
    )
