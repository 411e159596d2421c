"""Hashing of bearer tokens (sessions, API tokens) before they are stored.

Tokens are 256-bit random strings, so a plain SHA-256 is enough: there is nothing
to brute-force, and a stolen table of hashes opens no session.
"""

from __future__ import annotations

import hashlib

TOKEN_HASH_BYTES = 32


def hash_token(token: str) -> bytes:
    """SHA-256 of a bearer token: what the database keeps instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).digest()
