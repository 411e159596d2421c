"""Seed derivation and time-ordered, invertible patient ids.

A patient id has the UUIDv7 layout the vault gives new records (docs/key-hierarchy.md):
a 48-bit millisecond clock, then random-looking bits. The clock is a seeded epoch
plus the patient's stream index (one millisecond per patient), so a synthetic
network loads in id order and appends to the primary-key B-trees like a live vault;
the other bits are a keyed Feistel permutation of the index, so the id says nothing
about the identity. ``SynthNetwork.specimens(patient)`` finds the patient's index
(hence its specimens) again from the clock, without keeping half a million ids.
"""

from __future__ import annotations

import hashlib

_M64 = (1 << 64) - 1
_EPOCH_MS = 1_577_836_800_000  # 2020-01-01 UTC: synthetic records "created" from then
_SPAN_MS = 365 * 86_400_000  # a seed moves its network's clock within one year
_RAND_A = (1 << 12) - 1
_RAND_B = (1 << 62) - 1


def v7_hex(millis: int, bits: int) -> str:
    """32 hex digits in the UUIDv7 layout: ``millis`` first, 74 of ``bits`` after."""
    value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | ((bits >> 62) & _RAND_A) << 64
    return f"{value | 0b10 << 62 | (bits & _RAND_B):032x}"


def derive_seed(seed: int, *labels: object) -> int:
    """A 64-bit seed for one purpose (``labels``), stable across runs and platforms."""
    text = ":".join(str(x) for x in (seed, *labels)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def mix64(x: int) -> int:
    """SplitMix64 finaliser: a cheap bijective scramble of a 64-bit integer."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


class IdCipher:
    """Index <-> id: the clock carries the index, a four-round Feistel the rest."""

    __slots__ = ("_epoch", "_keys")

    def __init__(self, seed: int) -> None:
        self._keys = tuple(derive_seed(seed, "patient-id", r) for r in range(4))
        self._epoch = _EPOCH_MS + derive_seed(seed, "patient-clock") % _SPAN_MS

    def millis(self, index: int) -> int:
        """The creation clock (ms since 1970) of the patient at ``index``."""
        return self._epoch + index

    def _bits(self, index: int) -> int:
        left, right = index >> 64, index & _M64
        for k in self._keys:
            left, right = right, left ^ mix64(right ^ k)
        return (left << 64) | right

    def encode(self, index: int) -> str:
        """The 32-hex id of the patient at ``index``."""
        return v7_hex(self._epoch + index, self._bits(index))

    def decode(self, patient_id: str) -> int:
        """The stream index an ``encode``d id came from; -1 for any other id."""
        index = (int(patient_id, 16) >> 80) - self._epoch
        if index < 0 or self.encode(index) != patient_id.lower():
            return -1
        return index
