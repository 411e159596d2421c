"""Seed derivation and random-looking, invertible patient ids.

A patient id is a 128-bit Feistel permutation of the patient's stream index under
round keys drawn from the seeded RNG: it looks random, says nothing about the
identity, and lets ``SynthNetwork.specimens(patient)`` find the patient's index
(hence its specimens) again without keeping half a million ids in memory.
"""

from __future__ import annotations

import hashlib

_M64 = (1 << 64) - 1


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
    """Four-round Feistel network on 128-bit blocks (two 64-bit halves)."""

    __slots__ = ("_keys",)

    def __init__(self, seed: int) -> None:
        self._keys = tuple(derive_seed(seed, "patient-id", r) for r in range(4))

    def encode(self, index: int) -> str:
        """The 32-hex id of the patient at ``index``."""
        left, right = index >> 64, index & _M64
        for k in self._keys:
            left, right = right, left ^ mix64(right ^ k)
        return f"{(left << 64) | right:032x}"

    def decode(self, patient_id: str) -> int:
        """The stream index a ``encode``d id came from (garbage for a foreign id)."""
        value = int(patient_id, 16)
        left, right = value >> 64, value & _M64
        for k in reversed(self._keys):
            left, right = right ^ mix64(left ^ k), left
        return (left << 64) | right
