"""Authenticated encryption of one value, bound to where it lives.

AES-256-GCM with a random 96-bit nonce. The associated data binds the format
version, table, row id, lab, compartment, key version and the value's revision,
so a ciphertext copied to another row, lab, compartment or key version, or an
older ciphertext written back over its row, fails to open instead of returning
another patient's data or last month's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from hashlib import sha256

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from etanche.errors import IntegrityError

FORMAT_VERSION = 1
KEY_BYTES = 32
_NONCE_BYTES = 12
_HEADER = bytes([FORMAT_VERSION])
_OVERHEAD = len(_HEADER) + _NONCE_BYTES + 16
_AAD_PREFIX = f"etanche-aad/{FORMAT_VERSION}/"


@dataclass(frozen=True, slots=True)
class Context:
    """Where a ciphertext belongs; becomes the AEAD associated data."""

    table: str
    row_id: str
    lab_id: str
    compartment: str
    key_version: int
    # Which write of this value: 0 for values sealed before revisions existed,
    # whose associated data stays what it was so they still open.
    revision: int = 0

    def encode(self) -> bytes:
        """Length-prefixed fields: unambiguous whatever the field contents."""
        parts = [self.table, self.row_id, self.lab_id, self.compartment, str(self.key_version)]
        if self.revision:
            parts.append(str(self.revision))
        return (_AAD_PREFIX + "".join(f"{len(p)}:{p}" for p in parts)).encode("utf-8")

    def describe(self) -> str:
        """Names the record without any personal value (ids are pseudonymous)."""
        revision = f", revision {self.revision}" if self.revision else ""
        return f"{self.table} {self.row_id} ({self.compartment}, key v{self.key_version}{revision})"


def new_key() -> bytes:
    """A fresh random 256-bit key."""
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, context: Context) -> bytes:
    """Encrypt ``plaintext`` for ``context``: version byte, nonce, ciphertext+tag."""
    nonce = os.urandom(_NONCE_BYTES)
    return _HEADER + nonce + AESGCM(key).encrypt(nonce, plaintext, context.encode())


def ciphertext_digest(blob: bytes) -> bytes:
    """SHA-256 of a stored ciphertext: what the audit log keeps of each write."""
    return sha256(blob).digest()


def open_sealed(key: bytes, blob: bytes, context: Context) -> bytes:
    """Decrypt a ``seal`` output, or raise IntegrityError naming the record."""
    if len(blob) < _OVERHEAD or blob[0] != FORMAT_VERSION:
        raise IntegrityError(f"{context.describe()}: ciphertext is truncated or of unknown format")
    nonce = blob[1 : 1 + _NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, blob[1 + _NONCE_BYTES :], context.encode())
    except InvalidTag:
        raise IntegrityError(
            f"{context.describe()}: ciphertext failed authentication "
            "(altered, moved from another record, or an older revision written back)"
        ) from None
