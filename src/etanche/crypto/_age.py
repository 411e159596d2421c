"""age encryption of bulk outputs (pyrage) and SHA-256 content hashes.

Migration packages are encrypted to their recipients' X25519 age keys so that
the stock ``age`` command decrypts them: the recipient needs no Étanche code to
read what was sent. Content hashes name the bytes a manifest vouches for.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import sha256
from typing import Protocol

import pyrage
import pyrage.passphrase
from pyrage import x25519

from etanche.errors import IntegrityError, UsageError

__all__ = [
    "AgeIdentity",
    "ContentHash",
    "age_decrypt",
    "age_encrypt",
    "age_encrypt_passphrase",
    "age_recipient",
    "content_hash",
]


class ContentHash(Protocol):
    """Incremental SHA-256: feed bytes, read the hex digest."""

    def update(self, data: bytes, /) -> None: ...
    def hexdigest(self) -> str: ...


def content_hash(data: bytes = b"") -> ContentHash:
    """A SHA-256 hasher (hex digests in manifests and certificates)."""
    return sha256(data)


def age_recipient(text: str, *, field: str = "recipient") -> x25519.Recipient:
    """Parse an ``age1…`` public key, or UsageError naming ``field``."""
    try:
        return x25519.Recipient.from_str(text.strip())
    except (pyrage.RecipientError, ValueError):
        raise UsageError(f"{field}: not an age X25519 public key (age1…)") from None


class AgeIdentity:
    """An age X25519 secret key: the sender's own copy key, or a recipient's in tests."""

    def __init__(self, identity: x25519.Identity) -> None:
        self._identity = identity

    @classmethod
    def generate(cls) -> AgeIdentity:
        return cls(x25519.Identity.generate())

    @classmethod
    def from_text(cls, text: str, *, field: str = "identity") -> AgeIdentity:
        """Read ``AGE-SECRET-KEY-1…`` (comment lines of an age key file are skipped)."""
        lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
        if len(lines) != 1:
            raise UsageError(f"{field}: expected one AGE-SECRET-KEY-1… line")
        try:
            return cls(x25519.Identity.from_str(lines[0]))
        except (pyrage.IdentityError, ValueError):
            raise UsageError(f"{field}: not an age X25519 secret key") from None

    def secret_text(self) -> str:
        return str(self._identity)

    def public_text(self) -> str:
        return str(self._identity.to_public())

    @property
    def raw(self) -> x25519.Identity:
        return self._identity


def age_encrypt(plaintext: bytes, recipients: Sequence[str]) -> bytes:
    """Encrypt to every recipient (binary age format, readable by ``age -d``)."""
    parsed = [age_recipient(r) for r in recipients]
    return pyrage.encrypt(plaintext, parsed)


MIN_PASSPHRASE = 12


def age_encrypt_passphrase(plaintext: bytes, passphrase: str) -> bytes:
    """Encrypt to a passphrase (age scrypt recipient: ``age -d`` asks for it)."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise UsageError(f"passphrase: at least {MIN_PASSPHRASE} characters")
    return pyrage.passphrase.encrypt(plaintext, passphrase)


def age_decrypt(ciphertext: bytes, identities: Sequence[AgeIdentity], *, what: str) -> bytes:
    """Decrypt, or IntegrityError naming ``what`` (wrong key, truncated or altered)."""
    try:
        return pyrage.decrypt(ciphertext, [i.raw for i in identities])
    except pyrage.DecryptError:
        raise IntegrityError(f"{what}: does not decrypt with the given identity") from None
