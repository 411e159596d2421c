"""Signatures of outgoing payloads (alert webhooks): HMAC-SHA256 with a shared secret.

The receiver recomputes the HMAC over the exact bytes it got and compares in
constant time, so a forged or altered alert is refused without leaking how much
of the signature matched.
"""

from __future__ import annotations

import hmac
from hashlib import sha256

SIGNATURE_PREFIX = "sha256="
MIN_SECRET_BYTES = 16


def _key(secret: bytes | str) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"signing secret: at least {MIN_SECRET_BYTES} bytes are needed")
    return key


def sign_payload(secret: bytes | str, body: bytes) -> str:
    """The header value ``sha256=<hex HMAC-SHA256 of body>``."""
    return SIGNATURE_PREFIX + hmac.new(_key(secret), body, sha256).hexdigest()


def verify_payload(secret: bytes | str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``body`` under ``secret`` (constant time)."""
    if not header:
        return False
    expected = sign_payload(secret, body).encode("ascii")
    return hmac.compare_digest(expected, header.strip().encode("utf-8", "replace"))
