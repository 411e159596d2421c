"""Encrypted backups of the vault: a consistent copy, age-encrypted, with a MACed manifest.

A backup is a folder ``<id>/`` holding ``vault.age`` (the database copy, age to a
fresh identity) and ``manifest.json``: engine, schema revision, time, row counts,
the audit log's signed head at backup time, the SHA-256 of ``vault.age``, the
custody's public file and its sealed KEK file, and the backup's identity sealed
under a key of the custody. Only the unsealed service or a quorum of custodians
rebuilds that key. The shred ledger is never inside a backup.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etanche._files import private_dir, write_private
from etanche.crypto import QuorumKeyProvider, file_sha256, manifest_mac, seal_backup
from etanche.errors import IntegrityError, UsageError
from etanche.service._trail import Trail
from etanche.vault import Vault, copy_database, schema_revision

FORMAT = "etanche-backup/1"
MANIFEST = "manifest.json"
PAYLOAD = "vault.age"
_COPY = "copy.tmp"
_FIELDS: dict[str, type] = {
    "id": str,
    "engine": str,
    "counts": dict,
    "audit": dict,
    "payload": dict,
    "custody": dict,
    "identity": str,
    "mac": str,
}


def quorum_of(provider: object) -> QuorumKeyProvider:
    """Backups are keyed by a quorum custody; an HSM custody is refused (documented)."""
    if not isinstance(provider, QuorumKeyProvider):
        raise UsageError(
            "backup: needs a custodians' quorum custody (an HSM custody backs up its token "
            "with the HSM's own tools)"
        )
    return provider


def canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _new_id() -> str:
    return f"backup-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def create_backup(
    vault: Vault, trail: Trail, provider: QuorumKeyProvider, out: Path
) -> dict[str, Any]:
    """Write a new backup folder under ``out``; returns its manifest."""
    if vault.location.directory is not None and out.resolve().is_relative_to(
        vault.location.directory
    ):
        raise UsageError(f"backup --out {out}: inside the vault's folder; choose another")
    backup_id = _new_id()
    folder = private_dir(out.resolve() / backup_id)
    trail.flush()
    head = trail.log.sign_head()  # in the copy: a drill finds the same head there
    copy = folder / _COPY
    try:
        counts = copy_database(vault.location, copy)
        payload = folder / PAYLOAD
        write_private(payload, b"")
        sealed = seal_backup(copy, payload, provider.backup_key(backup_id), backup_id)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # no half-written backup is left
        raise
    finally:
        copy.unlink(missing_ok=True)
    files = provider.custody_files()
    body: dict[str, Any] = {
        "format": FORMAT,
        "id": backup_id,
        "engine": "sqlite" if vault.location.is_sqlite else "postgresql",
        "revision": schema_revision(vault.location),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "counts": counts,
        "audit": {
            "tree_size": head.tree_size,
            "root": head.root.hex(),
            "signed_at": head.signed_at.isoformat(),
        },
        "payload": {
            "file": PAYLOAD,
            "sha256": file_sha256(payload),
            "bytes": payload.stat().st_size,
        },
        "custody": {name: base64.b64encode(data).decode("ascii") for name, data in files.items()},
        "identity": sealed,
    }
    manifest = {**body, "mac": manifest_mac(provider.backup_key(backup_id), canonical(body))}
    write_private(folder / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return manifest


@dataclass(frozen=True)
class Backup:
    """A backup folder whose payload matches its manifest's hash (MAC checked later)."""

    folder: Path
    manifest: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.manifest["id"])

    @property
    def payload(self) -> Path:
        return self.folder / PAYLOAD

    def check_mac(self, key: bytes) -> None:
        body = {k: v for k, v in self.manifest.items() if k != "mac"}
        if manifest_mac(key, canonical(body)) != self.manifest.get("mac"):
            raise IntegrityError(f"backup {self.id}: its manifest was altered (MAC)")

    def custody_file(self, name: str) -> bytes:
        try:
            return base64.b64decode(self.manifest["custody"][name], validate=True)
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise IntegrityError(
                f"backup {self.id}: its custody file {name} is malformed"
            ) from None


def read_backup(folder: Path) -> Backup:
    """Read a backup folder; a changed byte of ``vault.age`` is refused here, by hash."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"backup {folder}: no {MANIFEST}") from None
    except (OSError, ValueError):
        raise IntegrityError(f"backup {folder}: {MANIFEST} is unreadable") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IntegrityError(f"backup {folder}: not an Étanche backup manifest")
    for name, kind in _FIELDS.items():
        if not isinstance(manifest.get(name), kind):
            raise IntegrityError(f"backup {folder}: {MANIFEST} field {name} is malformed")
    backup = Backup(folder, manifest)
    if not backup.payload.exists():
        raise UsageError(f"backup {backup.id}: {PAYLOAD} is missing")
    if file_sha256(backup.payload) != manifest.get("payload", {}).get("sha256"):
        raise IntegrityError(
            f"backup {backup.id}: {PAYLOAD} does not match its manifest (SHA-256); refused"
        )
    return backup


def newest_backup(folder: Path) -> Path:
    """The newest backup folder under ``folder`` (ids sort by time), or ``folder`` itself."""
    if (folder / MANIFEST).exists():
        return folder
    found = sorted(p for p in folder.glob("backup-*") if (p / MANIFEST).exists())
    if not found:
        raise UsageError(f"backups {folder}: no backup found")
    return found[-1]
