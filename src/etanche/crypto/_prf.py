"""A keyed pseudo-random function for choices that must look random to others.

Export fingerprints pick, for each row and value, one of several renderings; the
pick must be unpredictable without the export's key and reproducible with it.
HMAC-SHA256 under a key derived by HKDF for one purpose (domain separation), read
as a 64-bit integer: the bias of ``value % k`` for small ``k`` is below 2**-60.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["KeyedPrf"]


class KeyedPrf:
    """HMAC-SHA256 PRF under ``key``, separated by ``purpose``."""

    __slots__ = ("_keyed",)

    def __init__(self, key: bytes, purpose: str) -> None:
        if len(key) < 32:
            raise ValueError("PRF key must be at least 256 bits")
        info = f"etanche/prf/v1/{purpose}".encode()
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)
        # keyed once; each message copies it (keying an HMAC costs more than a short message)
        self._keyed = hmac.HMAC(derived, hashes.SHA256())

    def _mac(self, message: str) -> bytes:
        mac = self._keyed.copy()
        mac.update(message.encode("utf-8"))
        return mac.finalize()

    def value(self, message: str) -> int:
        """A 64-bit integer, uniform for anyone without the key."""
        return int.from_bytes(self._mac(message)[:8], "big")

    def below(self, k: int, message: str) -> int:
        """A choice among ``k`` (``k`` >= 1)."""
        return self.value(message) % k

    def hexdigest(self, message: str, length: int = 16) -> str:
        """``length`` bytes of the PRF as hex (sealed lists, pseudonyms)."""
        return self._mac(message)[:length].hex()
