"""Request authenticity: WeChat's signature over (token, timestamp, nonce), and the replay window."""

from __future__ import annotations

import hmac
import time

from wechatpy.utils import WeChatSigner

from core.digits import ascii_int


def sign(token: str, timestamp: str, nonce: str, *extra: str) -> str:
    """The signature WeChat sends (and, with the Encrypt text as `extra`, the `msg_signature`)."""
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce, *extra)
    return str(signer.signature)


def signature_matches(expected: str, given: str) -> bool:
    """Compared in constant time (wechatpy's own checks use `!=`); as bytes, since `compare_digest` refuses a str
    that is not ASCII, and `given` is whatever the request carried."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def signature_ok(token: str, signature: str, timestamp: str, nonce: str) -> bool:
    return signature_matches(sign(token, timestamp, nonce), signature)


def timestamp_fresh(timestamp: str, window_seconds: int, now: float | None = None) -> bool:
    """True when `timestamp` is within the window around now.

    WeChat's retries carry the first delivery's timestamp, ~5 and ~10 s later, so the window must be wider than
    that; the dedup record (not the window) is what stops a retry being processed twice.
    """
    stamp = ascii_int(timestamp, max_digits=12)
    if stamp is None:
        return False
    current = time.time() if now is None else now
    return abs(current - stamp) <= window_seconds
