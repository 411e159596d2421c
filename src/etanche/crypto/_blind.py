"""Blind indexes: equality search over encrypted fields.

Each index has its own key, derived by HKDF-SHA256 from one index root key with
domain separation (table, field, index name), so two indexes of the same value
never coincide. Values are normalised before hashing (by the caller, with the
domain normalisers) and the HMAC-SHA256 output is truncated to the length chosen
per index: short enough that equal digests do not prove equal values, long
enough that a lookup returns few false candidates (docs/blind-indexes.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, hmac
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
        self._keys: dict[str, tuple[hmac.HMAC, int, int]] = {}
        for spec in specs:
            derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=spec.info).derive(
                root_key
            )
            mask = 0xFF
            if spec.bits:
                if not 0 < spec.bits <= 8 * spec.length:
                    raise ValueError(f"index {spec.name}: bits must fit in {spec.length} bytes")
                mask = (0xFF << (8 * spec.length - spec.bits)) & 0xFF
            # keyed once; each digest copies it (cheaper than keying an HMAC per value)
            self._keys[spec.name] = (hmac.HMAC(derived, hashes.SHA256()), spec.length, mask)
        self._tags: dict[tuple[str, str], bytes] = {}

    def digest(self, index: str, normalised_value: str) -> bytes:
        """Digest of an already-normalised value for the named index."""
        keyed, length, mask = self._keys[index]
        mac = keyed.copy()
        mac.update(normalised_value.encode("utf-8"))
        digest = mac.finalize()[:length]
        if mask != 0xFF:
            digest = digest[:-1] + bytes([digest[-1] & mask])
        return digest

    def tag(self, index: str, value: str) -> bytes:
        """``digest`` of a value that is not personal (a lab id), kept once computed:
        a bulk load asks for the same few thousand times."""
        found = self._tags.get((index, value))
        if found is None:
            found = self._tags[(index, value)] = self.digest(index, value)
        return found

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._keys)
