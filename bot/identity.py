"""Who is talking, as the chat gateway tells Rasa and the custom actions read it back.

The gateway sends the user's identity as message metadata; Rasa stores it on the user event and hands the whole
tracker to `/bot/actions`. Anyone who could write a tracker could claim anyone, so the identity is signed
(HMAC-SHA256 with `BOT_METADATA_SECRET`) over the conversation id, the message's text and a timestamp, and an
action trusts it only for that message, and only for `MAX_AGE_SECONDS`: the action runs right after each message
(a form's too), so the latest message's signature is always fresh, while the signatures a tracker keeps are bound
to old messages and stale within minutes — nothing in a tracker replays as a credential.

A signature that holds names a verified sender: a signed-in user (a principal), or an anonymous one (a WeChat
follower known by openid, no account). No signature, a broken one or a stale one: not verified.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from core.auth import Principal, Role

SIGNATURE_KEY = "ipa_sig"
MAX_AGE_SECONDS = 5 * 60
# Names this scheme in what is signed, so a signature of another shape or purpose never verifies as this one.
_PURPOSE = "ipa-identity-2"
_IDENTITY_KEYS = ("user_id", "role", "enterprise_id", "agency_id", "openid", "ts")


@dataclass(frozen=True, slots=True)
class VerifiedSender:
    """The sender of a message whose signature holds: `principal` None is an anonymous user."""

    principal: Principal | None
    openid: str


def _digest(secret: str, sender_id: str, text: str, fields: dict[str, str]) -> str:
    signed = [_PURPOSE, sender_id, text.strip(), [fields.get(k, "") for k in _IDENTITY_KEYS]]
    canonical = json.dumps(signed, separators=(",", ":"))  # ASCII: lone surrogates are escaped, never encoded
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def identity_metadata(
    secret: str,
    sender_id: str,
    text: str,
    principal: Principal | None,
    openid: str | None,
    *,
    now: float | None = None,
) -> dict[str, str]:
    """The signed identity fields to send along with the message `text` (empty values for an anonymous user).

    Rasa strips the text it stores; the signature covers the stripped text."""
    fields = {
        "user_id": str(principal.user_id) if principal else "",
        "role": principal.role.value if principal else "",
        "enterprise_id": str(principal.enterprise_id) if principal and principal.enterprise_id else "",
        "agency_id": str(principal.agency_id) if principal and principal.agency_id else "",
        "openid": openid or "",
        "ts": str(int(now if now is not None else time.time())),
    }
    return {**fields, SIGNATURE_KEY: _digest(secret, sender_id, text, fields)}


def verified_sender(
    secret: str, sender_id: str, text: str, metadata: dict[str, Any] | None, *, now: float | None = None
) -> VerifiedSender | None:
    """Who sent the message `text`, if the metadata stored with it is signed for it and fresh; None otherwise."""
    if not secret or not metadata or not isinstance(metadata.get(SIGNATURE_KEY), str):
        return None
    fields = {k: str(metadata.get(k) or "") for k in _IDENTITY_KEYS}
    expected = _digest(secret, sender_id, text, fields).encode()
    if not hmac.compare_digest(expected, metadata[SIGNATURE_KEY].encode("utf-8", "surrogatepass")):
        return None
    stamp = _number(fields["ts"])
    current = now if now is not None else time.time()
    if stamp is None or abs(current - stamp) > MAX_AGE_SECONDS:
        return None
    return VerifiedSender(principal=_principal(fields), openid=fields["openid"])


def _number(value: str) -> int | None:
    """An id or timestamp as the gateway writes it: ASCII digits (`isdigit` alone also takes "²")."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def _principal(fields: dict[str, str]) -> Principal | None:
    user_id = _number(fields["user_id"])
    if user_id is None:
        return None
    try:
        role = Role(fields["role"])
    except ValueError:
        return None
    return Principal(
        user_id=user_id,
        username="",
        role=role,
        enterprise_id=_number(fields["enterprise_id"]),
        agency_id=_number(fields["agency_id"]),
    )


def verified_principal(
    secret: str, sender_id: str, text: str, metadata: dict[str, Any] | None, *, now: float | None = None
) -> Principal | None:
    """The signed-in user who sent `text`, if the signature holds and is fresh; None otherwise (anonymous)."""
    sender = verified_sender(secret, sender_id, text, metadata, now=now)
    return sender.principal if sender is not None else None
