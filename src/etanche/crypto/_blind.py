"""Blind indexes: equality search over encrypted fields.

Each index has its own key, derived by HKDF-SHA256 from one index root key with
domain separation (table, field, index name), so two indexes of the same value
never coincide. Values are normalised before hashing (by the caller, with the
domain normalisers) and the HMAC-SHA256 output is truncated to the length chosen
per index: short enough that equal digests do not prove equal values, long
enough that a lookup returns few false candidates (docs/blind-indexes.md).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from hashlib import sha256

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


@dataclass(frozen=True, slots=True)
class BlindIndexSpec:
    """One blind index: its domain and its truncation length in bytes.

    ``bits`` (when not 0) truncates further, inside the last byte: a 12-bit
    index keeps 2 bytes with the last 4 bits zeroed, so a bucket holds many
    values (CipherSweet's truncated indexes for low-entropy fields).
    """

    table: str
    field: str
    name: str
    length: int
    bits: int = 0

    @property
    def info(self) -> bytes:
        return f"etanche/blind-index/v1/{self.table}/{self.field}/{self.name}".encode()


class BlindIndexer:
    """Computes truncated HMAC digests for a set of index specs."""

    def __init__(self, root_key: bytes, specs: tuple[BlindIndexSpec, ...]) -> None:
        if len(root_key) < 32:
            raise ValueError("index root key must be at least 256 bits")
        self._keys: dict[str, tuple[bytes, int, int]] = {}
        for spec in specs:
            derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=spec.info).derive(
                root_key
            )
            mask = 0xFF
            if spec.bits:
                if not 0 < spec.bits <= 8 * spec.length:
                    raise ValueError(f"index {spec.name}: bits must fit in {spec.length} bytes")
                mask = (0xFF << (8 * spec.length - spec.bits)) & 0xFF
            self._keys[spec.name] = (derived, spec.length, mask)

    def digest(self, index: str, normalised_value: str) -> bytes:
        """Digest of an already-normalised value for the named index."""
        key, length, mask = self._keys[index]
        digest = hmac.new(key, normalised_value.encode("utf-8"), sha256).digest()[:length]
        if mask != 0xFF:
            digest = digest[:-1] + bytes([digest[-1] & mask])
        return digest

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._keys)
