"""How Accord events are signed: HMAC-SHA256 over ``<timestamp>.<body>`` with the workspace's signing secret.

    X-Accord-Timestamp: 1795340400                 (Unix seconds when the request was sent)
    X-Accord-Signature: v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd

The signature is the lowercase hex HMAC-SHA256 of the timestamp, a ``.``, and the raw request body, keyed
with the signing secret. The header may carry several comma-separated signatures (``v1=<a>,v1=<b>``), so a
sender rotating its secret can sign with the old and the new one for a while; one match is enough. A
timestamp more than five minutes from our clock, either way, is refused, so a captured request cannot be
replayed later. Comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

SIGNATURE_HEADER = "X-Accord-Signature"
TIMESTAMP_HEADER = "X-Accord-Timestamp"
SCHEME = "v1"
TOLERANCE_SECONDS = 300


class SignatureRejected(Exception):
    """The request is not provably from the workspace's Accord sender; ``reason`` says why, for the 401."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def compute_signature(secret: str, timestamp: int | str, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_headers(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The headers a sender adds to ``body`` (the simulator and tests use this; so can a real sender)."""
    sent_at = int(time.time()) if timestamp is None else timestamp
    return {
        TIMESTAMP_HEADER: str(sent_at),
        SIGNATURE_HEADER: f"{SCHEME}={compute_signature(secret, sent_at, body)}",
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def verify_signature(
    secret: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    now: float | None = None,
    tolerance_seconds: int = TOLERANCE_SECONDS,
) -> int:
    """Check the signature and the timestamp window; return the timestamp, or raise ``SignatureRejected``."""
    raw_timestamp = _header(headers, TIMESTAMP_HEADER)
    raw_signature = _header(headers, SIGNATURE_HEADER)
    if not raw_timestamp:
        raise SignatureRejected(f"the {TIMESTAMP_HEADER} header is missing")
    if not raw_signature:
        raise SignatureRejected(f"the {SIGNATURE_HEADER} header is missing")
    text = raw_timestamp.strip()
    if not text.isdigit() or len(text) > 12:
        hint = " (this looks like milliseconds)" if text.isdigit() and len(text) == 13 else ""
        raise SignatureRejected(f"{TIMESTAMP_HEADER} must be Unix time in whole seconds{hint}")
    timestamp = int(text)
    candidates = []
    for part in raw_signature.split(","):
        scheme, _, value = part.strip().partition("=")
        if scheme == SCHEME and value:
            candidates.append(value.strip().lower())
    if not candidates:
        raise SignatureRejected(f"{SIGNATURE_HEADER} has no {SCHEME}=<hex> signature")
    expected = compute_signature(secret, text, body)
    # Every candidate is compared, so the time taken does not depend on which one matched.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(candidate.encode("ascii", "replace"), expected.encode("ascii"))
    if not matched:
        raise SignatureRejected(
            "the signature does not match the body; sign '<timestamp>.<raw body>' with HMAC-SHA256 and the "
            "workspace's Accord signing secret"
        )
    skew = (time.time() if now is None else now) - timestamp
    if abs(skew) > tolerance_seconds:
        direction = "old" if skew > 0 else "in the future"
        raise SignatureRejected(
            f"the timestamp is {abs(int(skew))} seconds {direction}; requests are accepted within "
            f"{tolerance_seconds // 60} minutes of our clock"
        )
    return timestamp
