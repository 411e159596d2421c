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
    """One blind index: its domain and its truncation length in bytes."""

    table: str
    field: str
    name: str
    length: int

    @property
    def info(self) -> bytes:
        return f"etanche/blind-index/v1/{self.table}/{self.field}/{self.name}".encode()


class BlindIndexer:
    """Computes truncated HMAC digests for a set of index specs."""

    def __init__(self, root_key: bytes, specs: tuple[BlindIndexSpec, ...]) -> None:
        if len(root_key) < 32:
            raise ValueError("index root key must be at least 256 bits")
        self._keys: dict[str, tuple[bytes, int]] = {}
        for spec in specs:
            derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=spec.info).derive(
                root_key
            )
            self._keys[spec.name] = (derived, spec.length)

    def digest(self, index: str, normalised_value: str) -> bytes:
        """Digest of an already-normalised value for the named index."""
        key, length = self._keys[index]
        return hmac.new(key, normalised_value.encode("utf-8"), sha256).digest()[:length]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._keys)
