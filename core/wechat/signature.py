"""Request authenticity: WeChat's signature over (token, timestamp, nonce), and the replay window."""

from __future__ import annotations

import time

from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import WeChatSigner, check_signature


def signature_ok(token: str, signature: str, timestamp: str, nonce: str) -> bool:
    try:
        check_signature(token, signature, timestamp, nonce)
    except InvalidSignatureException:
        return False
    return True


def sign(token: str, timestamp: str, nonce: str, *extra: str) -> str:
    """The signature WeChat sends (and, with the Encrypt text as `extra`, the `msg_signature`)."""
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce, *extra)
    return str(signer.signature)


def timestamp_fresh(timestamp: str, window_seconds: int, now: float | None = None) -> bool:
    """True when `timestamp` is within the window around now.

    WeChat's retries carry the first delivery's timestamp, ~5 and ~10 s later, so the window must be wider than
    that; the dedup record (not the window) is what stops a retry being processed twice.
    """
    if not timestamp.isdigit() or len(timestamp) > 12:
        return False
    current = time.time() if now is None else now
    return abs(current - int(timestamp)) <= window_seconds
