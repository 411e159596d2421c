"""Key-encryption-key (KEK) providers.

The KEK never encrypts data: it only wraps the per-lab data keys and the blind
index root key, so rotating it rewraps a few dozen keys and nothing else.
``KeyProvider`` is the interface an external KMS (an HSM, a cloud KMS, Vault
transit) implements; ``PassphraseKeyFile`` keeps the KEKs in a local file,
each encrypted under a key derived from a passphrase with Argon2id.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from etanche._files import write_private
from etanche.crypto._aead import Context, new_key, open_sealed, seal
from etanche.errors import IntegrityError, KeyNotFound, KeyProviderError, WrongPassphrase

KEYFILE_FORMAT = "etanche-keyfile/1"
_LOG_AAD = b"etanche-keyfile/audit-log-key/1"


@runtime_checkable
class KeyProvider(Protocol):
    """What the vault needs from a KEK holder (local file or external KMS).

    ``wrap``/``unwrap`` must authenticate ``context`` (AEAD associated data or
    the KMS's encryption context), so a wrapped key cannot be swapped.
    """

    @property
    def active_kek_id(self) -> str:
        """Id of the KEK that wraps new keys."""
        ...

    def wrap(self, key: bytes, context: Context) -> tuple[str, bytes]:
        """Wrap a data key with the active KEK; returns (kek id, wrapped key)."""
        ...

    def unwrap(self, kek_id: str, wrapped: bytes, context: Context) -> bytes:
        """Unwrap a data key wrapped by KEK ``kek_id``."""
        ...

    def rotate(self) -> str:
        """Create a new active KEK and return its id; older KEKs stay usable."""
        ...

    def retire(self, kek_id: str) -> None:
        """Destroy an old KEK once nothing is wrapped by it any more."""
        ...


@dataclass(frozen=True, slots=True)
class KdfCost:
    """Argon2id cost; stored in the key file so opening uses the same cost."""

    memory_kib: int = 64 * 1024
    iterations: int = 3
    lanes: int = 4

    @classmethod
    def fast_for_tests(cls) -> KdfCost:
        """Cheap parameters: only for throw-away test and demo vaults."""
        return cls(memory_kib=8 * 1024, iterations=1, lanes=1)


def _read_doc(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KeyProviderError(f"key file {path.name}: unreadable ({type(exc).__name__})") from None
    return doc if isinstance(doc, dict) else {}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


class PassphraseKeyFile:
    """KEKs kept in a JSON file, each sealed under an Argon2id-derived key.

    The file holds no key in clear; without the passphrase it is useless.
    Writes go through ``write_private`` (0600, temporary file then rename) so a
    crash never leaves a half-written key file.
    """

    def __init__(self, path: Path, passphrase: str) -> None:
        self._path = path
        self._passphrase = passphrase.encode("utf-8")
        self._doc: dict[str, Any] = {}
        self._keks: dict[str, bytes] = {}
        self._log_seed: bytes | None = None

    # -- creation and opening -------------------------------------------------
    @classmethod
    def create(cls, path: Path, passphrase: str, cost: KdfCost | None = None) -> PassphraseKeyFile:
        """Write a new key file with one fresh KEK."""
        if len(passphrase) < 12:
            raise KeyProviderError("passphrase: must be at least 12 characters")
        if path.exists():
            raise KeyProviderError(f"key file {path.name}: already exists")
        cost = cost or KdfCost()
        salt = os.urandom(16)
        provider = cls(path, passphrase)
        provider._doc = {
            "format": KEYFILE_FORMAT,
            "kdf": {
                "name": "argon2id",
                "salt": _b64(salt),
                "memory_kib": cost.memory_kib,
                "iterations": cost.iterations,
                "lanes": cost.lanes,
            },
            "active": None,
            "keks": {},
        }
        provider._add_kek()
        provider.audit_log_seed()  # drawn now, so processes sharing the file agree on it
        return provider

    @classmethod
    def open(cls, path: Path, passphrase: str) -> PassphraseKeyFile:
        """Open an existing key file; WrongPassphrase if it does not open."""
        provider = cls(path, passphrase)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KeyProviderError(f"key file {path}: not found") from None
        except (OSError, ValueError) as exc:
            raise KeyProviderError(
                f"key file {path.name}: unreadable ({type(exc).__name__})"
            ) from None
        if not isinstance(doc, dict) or doc.get("format") != KEYFILE_FORMAT:
            raise KeyProviderError(f"key file {path.name}: not an Étanche key file")
        provider._doc = doc
        wrapping = provider._wrapping_key()
        for kek_id, entry in doc["keks"].items():
            try:
                provider._keks[kek_id] = AESGCM(wrapping).decrypt(
                    _unb64(entry["nonce"]), _unb64(entry["sealed"]), kek_id.encode()
                )
            except InvalidTag:
                raise WrongPassphrase("passphrase: does not open the vault key file") from None
        return provider

    def _wrapping_key(self) -> bytes:
        kdf = self._doc["kdf"]
        return Argon2id(
            salt=_unb64(kdf["salt"]),
            length=32,
            iterations=int(kdf["iterations"]),
            lanes=int(kdf["lanes"]),
            memory_cost=int(kdf["memory_kib"]),
        ).derive(self._passphrase)

    def _add_kek(self) -> str:
        kek_id = "kek-" + secrets.token_hex(6)
        kek = new_key()
        nonce = os.urandom(12)
        sealed = AESGCM(self._wrapping_key()).encrypt(nonce, kek, kek_id.encode())
        self._doc["keks"][kek_id] = {"nonce": _b64(nonce), "sealed": _b64(sealed)}
        self._doc["active"] = kek_id
        self._keks[kek_id] = kek
        self._save()
        return kek_id

    def _save(self) -> None:
        write_private(self._path, json.dumps(self._doc, indent=2))

    # -- KeyProvider ----------------------------------------------------------
    @property
    def active_kek_id(self) -> str:
        return str(self._doc["active"])

    def wrap(self, key: bytes, context: Context) -> tuple[str, bytes]:
        kek_id = self.active_kek_id
        return kek_id, seal(self._keks[kek_id], key, context)

    def unwrap(self, kek_id: str, wrapped: bytes, context: Context) -> bytes:
        try:
            kek = self._keks[kek_id]
        except KeyError:
            raise KeyNotFound(f"{context.describe()}: wrapped by unknown KEK {kek_id}") from None
        try:
            return open_sealed(kek, wrapped, context)
        except IntegrityError as exc:
            raise IntegrityError(f"wrapped data key: {exc}") from None

    def rotate(self) -> str:
        return self._add_kek()

    def retire(self, kek_id: str) -> None:
        if kek_id == self.active_kek_id:
            raise KeyProviderError(f"KEK {kek_id}: is the active KEK and cannot be retired")
        self._doc["keks"].pop(kek_id, None)
        self._keks.pop(kek_id, None)
        self._save()

    @property
    def kek_ids(self) -> tuple[str, ...]:
        return tuple(self._keks)

    def audit_log_seed(self) -> bytes:
        """The audit log's Ed25519 seed, sealed in the key file beside the KEKs.

        Not a data key of the vault: only the passphrase opens it. Drawn on first
        use, so key files made before it existed get one then.
        """
        if self._log_seed is None:
            entry = self._doc.get("audit_log")
            if entry is None:  # another process may have drawn it since we opened the file
                entry = _read_doc(self._path).get("audit_log")
            aead = AESGCM(self._wrapping_key())
            if entry is None:
                seed, nonce = os.urandom(32), os.urandom(12)
                self._doc["audit_log"] = {
                    "nonce": _b64(nonce),
                    "sealed": _b64(aead.encrypt(nonce, seed, _LOG_AAD)),
                }
                self._save()
            else:
                try:
                    seed = aead.decrypt(_unb64(entry["nonce"]), _unb64(entry["sealed"]), _LOG_AAD)
                except (InvalidTag, KeyError, TypeError, ValueError):
                    raise IntegrityError(
                        f"key file {self._path.name}: the audit log key does not open"
                    ) from None
            self._log_seed = seed
        return self._log_seed
