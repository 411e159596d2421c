"""Authenticated encryption of one value, bound to where it lives.

AES-256-GCM with a random 96-bit nonce. The associated data binds the format
version, table, row id, lab, compartment, key version and the value's revision,
so a ciphertext copied to another row, lab, compartment or key version, or an
older ciphertext written back over its row, fails to open instead of returning
another patient's data or last month's.
"""

from __future__ import annotations

import os
from functools import lru_cache
from hashlib import sha256
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from etanche.errors import IntegrityError

FORMAT_VERSION = 1
KEY_BYTES = 32
_NONCE_BYTES = 12
_HEADER = bytes([FORMAT_VERSION])
_OVERHEAD = len(_HEADER) + _NONCE_BYTES + 16
_AAD_PREFIX = f"etanche-aad/{FORMAT_VERSION}/"


class Context(NamedTuple):
    """Where a ciphertext belongs; becomes the AEAD associated data.

    Immutable; a named tuple rather than a frozen dataclass because a bulk load
    builds millions of them and a tuple is built several times faster.
    """

    table: str
    row_id: str
    lab_id: str
    compartment: str
    key_version: int
    # Which write of this value: 0 for values sealed before revisions existed,
    # whose associated data stays what it was so they still open.
    revision: int = 0

    def encode(self) -> bytes:
        """Length-prefixed fields: unambiguous whatever the field contents.

        Each field is led by its length in characters and a colon. Only the row
        id changes from one value to the next in a bulk load: the rest is encoded
        once per place (``_head``, ``_tail``).
        """
        row_id = self.row_id
        return (
            _head(self.table)
            + f"{len(row_id)}:{row_id}".encode()
            + _tail(self.lab_id, self.compartment, self.key_version, self.revision)
        )

    def describe(self) -> str:
        """Names the record without any personal value (ids are pseudonymous)."""
        revision = f", revision {self.revision}" if self.revision else ""
        return f"{self.table} {self.row_id} ({self.compartment}, key v{self.key_version}{revision})"


@lru_cache(maxsize=64)
def _head(table: str) -> bytes:
    return f"{_AAD_PREFIX}{len(table)}:{table}".encode()


@lru_cache(maxsize=4096)
def _tail(lab_id: str, compartment: str, key_version: int, revision: int) -> bytes:
    """Lab, compartment, key version and revision: places, never personal values."""
    parts = [lab_id, compartment, str(key_version)]
    if revision:
        parts.append(str(revision))
    return "".join(f"{len(p)}:{p}" for p in parts).encode()


def new_key() -> bytes:
    """A fresh random 256-bit key."""
    return AESGCM.generate_key(bit_length=256)


class Sealer:
    """One key's AEAD, set up once for the many values it seals or opens.

    A lab key wraps every patient key of its lab and a patient's admin key seals
    its specimens too: the cipher is built once, each value still gets a fresh
    random nonce and its own associated data.
    """

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, context: Context) -> bytes:
        """Encrypt ``plaintext`` for ``context``: version byte, nonce, ciphertext+tag."""
        nonce = os.urandom(_NONCE_BYTES)
        return _HEADER + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, blob: bytes, context: Context) -> bytes:
        """Decrypt a ``seal`` output, or raise IntegrityError naming the record."""
        if len(blob) < _OVERHEAD or blob[0] != FORMAT_VERSION:
            raise IntegrityError(
                f"{context.describe()}: ciphertext is truncated or of unknown format"
            )
        nonce = blob[1 : 1 + _NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, blob[1 + _NONCE_BYTES :], context.encode())
        except InvalidTag:
            raise IntegrityError(
                f"{context.describe()}: ciphertext failed authentication "
                "(altered, moved from another record, or an older revision written back)"
            ) from None


def seal(key: bytes, plaintext: bytes, context: Context) -> bytes:
    """Encrypt ``plaintext`` for ``context``: version byte, nonce, ciphertext+tag."""
    return Sealer(key).seal(plaintext, context)


def ciphertext_digest(blob: bytes) -> bytes:
    """SHA-256 of a stored ciphertext: what the audit log keeps of each write."""
    return sha256(blob).digest()


def open_sealed(key: bytes, blob: bytes, context: Context) -> bytes:
    """Decrypt a ``seal`` output, or raise IntegrityError naming the record."""
    return Sealer(key).open(blob, context)
