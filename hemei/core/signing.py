"""The one webhook signature, for requests Hemei receives (device vendors, `hemei.devices.webhook`)
and requests it sends (case events, `hemei.cases.hooks`).

Two headers: `X-Hemei-Timestamp` (Unix seconds) and `X-Hemei-Signature`, "sha256=" and the hex
HMAC-SHA256 of "<timestamp>." + body with the shared key. The timestamp is inside the MAC, so
a receiver that refuses stale timestamps (HEMEI_WEBHOOK_WINDOW, 300 s) refuses replays too.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP, SIGNATURE = "X-Hemei-Timestamp", "X-Hemei-Signature"


def sign(key: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of "<timestamp>." + body with `key`."""
    return hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(key: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The two headers for a request Hemei sends."""
    stamp = str(int(time.time() if now is None else now))
    return {TIMESTAMP: stamp, SIGNATURE: "sha256=" + sign(key, stamp, body)}


def verify(key: str, timestamp: str, signature: str, body: bytes, *, window: int, now: float | None = None) -> str:
    """Why a received signature is not good ("" when it is)."""
    given = signature.removeprefix("sha256=")
    if not timestamp.isdigit() or not given:
        return f"{TIMESTAMP} and {SIGNATURE} are required"
    if abs((time.time() if now is None else now) - int(timestamp)) > window:
        return f"timestamp outside the {window}s window"
    if not hmac.compare_digest(sign(key, timestamp, body), given):
        return "signature does not match"
    return ""
