"""Ed25519 signatures of the audit log (pyca/cryptography).

Asymmetric on purpose: the vault holds the 32-byte seed (wrapped by the KEK), and
anyone given the public key can verify tree heads and proofs without any secret.
A key is named by its ``key_id``: the first 16 hex digits of SHA-256 of the raw
public key, so a head signed by another key is told apart before the signature.
``note_key_hash`` is the 4-byte key ID of C2SP signed notes (checkpoints and
witness cosignatures), computed here because only this room hashes.
"""

from __future__ import annotations

import os
from hashlib import sha256

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)

from etanche.errors import CryptoError, IntegrityError, KeyProviderError

SEED_BYTES = 32
SIGNATURE_BYTES = 64
PUBLIC_KEY_BYTES = 32


def note_key_hash(name: str, signature_type: int, public_key: bytes) -> bytes:
    """SHA-256(name || 0x0A || type || public key)[:4]: the key ID of a signed-note key."""
    return sha256(name.encode("utf-8") + b"\n" + bytes([signature_type]) + public_key).digest()[:4]


def new_seed() -> bytes:
    """A fresh Ed25519 seed (a witness's own key)."""
    return os.urandom(SEED_BYTES)


def _key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return sha256(raw).hexdigest()[:16]


class Verifier:
    """Checks Ed25519 signatures with a public key only."""

    def __init__(self, public_key: Ed25519PublicKey) -> None:
        self._key = public_key
        self.key_id = _key_id(public_key)

    @classmethod
    def from_pem(cls, pem: bytes | str) -> Verifier:
        data = pem.encode("ascii", "replace") if isinstance(pem, str) else pem
        try:
            key = load_pem_public_key(data)
        except (ValueError, TypeError):
            raise CryptoError("public key: not a PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise CryptoError("public key: not an Ed25519 key")
        return cls(key)

    @classmethod
    def from_public_bytes(cls, raw: bytes) -> Verifier:
        """The 32-byte RFC 8032 encoding, as in a signed-note verifier key."""
        if len(raw) != PUBLIC_KEY_BYTES:
            raise CryptoError(f"public key: expected {PUBLIC_KEY_BYTES} bytes of Ed25519 key")
        return cls(Ed25519PublicKey.from_public_bytes(raw))

    def public_key_pem(self) -> bytes:
        return self._key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)

    def public_bytes(self) -> bytes:
        return self._key.public_bytes(Encoding.Raw, PublicFormat.Raw)

    def verify(self, message: bytes, signature: bytes) -> None:
        """Return if ``signature`` is valid for ``message``, else raise IntegrityError."""
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            raise IntegrityError(
                f"signature: does not verify under public key {self.key_id}"
            ) from None


class Signer:
    """Signs with the Ed25519 key derived from a 32-byte seed."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self._verifier = Verifier(private_key.public_key())

    @classmethod
    def from_seed(cls, seed: bytes) -> Signer:
        if len(seed) != SEED_BYTES:
            raise CryptoError(f"signing key: expected a {SEED_BYTES}-byte Ed25519 seed")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def key_id(self) -> str:
        return self._verifier.key_id

    @property
    def verifier(self) -> Verifier:
        return self._verifier

    def public_key_pem(self) -> bytes:
        return self._verifier.public_key_pem()

    def public_bytes(self) -> bytes:
        return self._verifier.public_bytes()

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def audit_log_signer(provider: object) -> Signer:
    """The audit log's signer, from custody (quorum, token, key file), never from the vault."""
    holder = getattr(provider, "audit_log_seed", None)
    if holder is None:
        raise KeyProviderError(
            f"custody: {type(provider).__name__} cannot hold the audit log's signing key"
        )
    seed = holder()
    if not isinstance(seed, bytes):
        raise KeyProviderError("custody: the audit log's signing key is not 32 bytes")
    return Signer.from_seed(seed)
