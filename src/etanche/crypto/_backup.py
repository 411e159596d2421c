"""Backup encryption: one age identity per backup, sealed under a key of the custody.

The backup file is standard age (streamed, authenticated chunks) to a fresh X25519
identity drawn for that backup. The identity is sealed (AES-256-GCM, bound to the
backup id) under a key derived from the custody's wrapping key, which only the
unsealed service or a fresh quorum of custodians' shares rebuilds. The manifest is
MACed under the same key, so neither its hash nor its counts can be swapped.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from hashlib import sha256
from pathlib import Path

import pyrage
from pyrage import x25519

from etanche.crypto._aead import Context, open_sealed, seal
from etanche.crypto._age import AgeIdentity
from etanche.errors import IntegrityError

__all__ = [
    "file_sha256",
    "manifest_mac",
    "open_backup",
    "open_backup_identity",
    "seal_backup",
]

_CHUNK = 1 << 20


def _context(backup_id: str) -> Context:
    return Context("backups", backup_id, "*", "backup", 1)


def seal_backup(src: Path, dst: Path, key: bytes, backup_id: str) -> str:
    """Encrypt ``src`` to ``dst`` under a fresh age identity; returns it sealed (base64)."""
    identity = x25519.Identity.generate()
    pyrage.encrypt_file(str(src), str(dst), [identity.to_public()])
    sealed = seal(key, str(identity).encode("ascii"), _context(backup_id))
    return base64.b64encode(sealed).decode("ascii")


def open_backup_identity(key: bytes, backup_id: str, sealed: str) -> AgeIdentity:
    """The backup's age identity, or IntegrityError (another custody, or altered)."""
    try:
        text = open_sealed(key, base64.b64decode(sealed, validate=True), _context(backup_id))
    except (binascii.Error, ValueError, IntegrityError):
        raise IntegrityError(
            f"backup {backup_id}: its key does not open (other shares, or an altered manifest)"
        ) from None
    return AgeIdentity.from_text(text.decode("ascii"), field=f"backup {backup_id}: identity")


def open_backup(src: Path, dst: Path, identity: AgeIdentity, *, what: str) -> None:
    """Decrypt ``src`` to ``dst``; any altered byte fails (age's authenticated chunks)."""
    try:
        pyrage.decrypt_file(str(src), str(dst), [identity.raw])
    except pyrage.DecryptError:
        dst.unlink(missing_ok=True)
        raise IntegrityError(f"{what}: does not decrypt (altered or truncated)") from None


def manifest_mac(key: bytes, body: bytes) -> str:
    """HMAC-SHA256 (hex) of a manifest's canonical bytes under the backup's key."""
    return hmac.new(key, b"etanche/backup/manifest/v1\n" + body, sha256).hexdigest()


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
