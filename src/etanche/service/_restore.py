"""Restoring a backup, and the restore drill that proves backups restore.

A restore needs the backup's key: a fresh quorum of the custodians' shares
(``etanche restore``), or the unsealed service itself for a drill into a scratch
location it deletes afterwards. Either way, before the restored vault is handed
over, every patient of the shred ledger still alive in it is shredded again, so
no erasure made after the backup is undone.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from etanche._files import private_dir, write_private
from etanche.audit import Outcome
from etanche.crypto import (
    CUSTODY_FILE,
    KeyProvider,
    QuorumKeyProvider,
    Unsealer,
    open_backup,
    open_backup_identity,
)
from etanche.errors import IntegrityError, UsageError
from etanche.names import Action
from etanche.service._backup import Backup
from etanche.service._revisions import check_revisions, journal_for
from etanche.service._shred_ledger import ShredLedger
from etanche.service._trail import Trail
from etanche.vault import (
    Vault,
    VaultLocation,
    database_empty,
    drop_restored,
    load_database,
    parse_location,
    row_counts,
)

KEKS_FILE = "keks.json"
_PLAIN = "restore.tmp"
# custody folder, backup id -> (the backup's key, the restored custody opened)
Opener = Callable[[Path, str], tuple[bytes, KeyProvider, tuple[str, ...]]]


def quorum_opener(shares: Sequence[str]) -> Opener:
    """The custodians' shares, checked against the backup's own custody."""

    def opened(custody: Path, backup_id: str) -> tuple[bytes, KeyProvider, tuple[str, ...]]:
        unsealer = Unsealer(custody)
        try:
            for share in shares:
                unsealer.add(share.strip())
            return unsealer.backup_key(backup_id), unsealer.provider(), unsealer.given
        finally:
            unsealer.reset()

    return opened


def service_opener(provider: QuorumKeyProvider) -> Opener:
    """The unsealed service's custody (drills): no shares, same custody only."""

    def opened(custody: Path, backup_id: str) -> tuple[bytes, KeyProvider, tuple[str, ...]]:
        return provider.backup_key(backup_id), provider.opened_at(custody), ()

    return opened


def _write_custody(backup: Backup, custody: Path) -> None:
    if (custody / CUSTODY_FILE).exists():
        raise UsageError(f"restore --custody {custody}: a custody already exists there")
    private_dir(custody)
    for name in (CUSTODY_FILE, KEKS_FILE):
        write_private(custody / name, backup.custody_file(name))


def _load(backup: Backup, key: bytes, target: VaultLocation, custody: Path) -> None:
    """Check the manifest's MAC, open the identity, decrypt and load the copy."""
    backup.check_mac(key)
    identity = open_backup_identity(key, backup.id, str(backup.manifest["identity"]))
    plain = custody / _PLAIN
    write_private(plain, b"")
    try:
        open_backup(backup.payload, plain, identity, what=f"backup {backup.id}")
        try:
            load_database(target, plain)
        except BaseException:
            if target.is_sqlite:
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{target.sqlite_path}{suffix}").unlink(missing_ok=True)
            else:
                drop_restored(target)
            raise
    finally:
        plain.unlink(missing_ok=True)


def _undo(custody: Path, created: bool) -> None:
    if created:
        shutil.rmtree(custody, ignore_errors=True)
    else:
        for name in (CUSTODY_FILE, KEKS_FILE, _PLAIN):
            (custody / name).unlink(missing_ok=True)


def restore(
    backup: Backup,
    target: VaultLocation,
    custody: Path,
    opener: Opener,
    ledger_path: Path,
) -> dict[str, Any]:
    """Load ``backup`` into ``target`` (new), re-apply the shred ledger, log the restore."""
    if not ledger_path.is_file():
        raise UsageError(
            f"shred ledger {ledger_path}: not found; a restore re-applies the erasures it lists"
        )
    if backup.manifest["engine"] != ("sqlite" if target.is_sqlite else "postgresql"):
        raise UsageError(f"restore: backup {backup.id} is a {backup.manifest['engine']} backup")
    if not database_empty(target):
        raise UsageError(f"restore --to {target.describe()}: a vault already exists there")
    created = not custody.exists()
    _write_custody(backup, custody)
    try:
        key, provider, custodians = opener(custody, backup.id)
        _load(backup, key, target, custody)
    except BaseException:
        _undo(custody, created)  # nothing half-written is left behind
        raise
    counts = row_counts(target)
    with Vault.open_with(target, provider) as store:
        trail = Trail.for_vault(store)
        try:
            store.record_writes(journal_for(trail))
            ledger = ShredLedger(ledger_path, store)
            listed, reapplied = ledger.reapply()
            shredded = ledger.read()
            live = set(store.patient_ids())
            report: dict[str, Any] = {
                "backup": backup.id,
                "engine": backup.manifest["engine"],
                "target": target.describe(),
                "counts": counts,
                "counts_match": counts == backup.manifest["counts"],
                "ledger_entries": listed,
                "erasures_reapplied": len(reapplied),
                "erased_resurrected": len(live.intersection(shredded)),
            }
            trail.record(
                None,
                Action.BACKUP_RESTORE,
                Outcome.OK,
                client="custody",
                details={
                    "backup": backup.id,
                    "erasures_reapplied": len(reapplied),
                    "custodians": ",".join(custodians),
                },
            )
        finally:
            trail.close()
    if not report["counts_match"]:
        raise IntegrityError(f"backup {backup.id}: restored row counts differ from its manifest")
    return report


def verify_restored(backup: Backup, target: VaultLocation, provider: KeyProvider) -> dict[str, Any]:
    """Audit log and stored values (``vault verify``), every record decrypted with its
    blind indexes recomputed, and the manifest's audit head found in the restored log."""
    with Vault.open_with(target, provider) as store:
        trail = Trail.for_vault(store)
        try:
            revisions = check_revisions(store, trail)
            checked, mismatched = store.check_records()
            want = backup.manifest["audit"]
            head_found = any(
                h.tree_size == want["tree_size"] and h.root.hex() == want["root"]
                for h in trail.log.heads()
            )
        finally:
            trail.close()
    return {
        "audit_ok": not revisions.audit_problems,
        "values_ok": not revisions.findings,
        "records_decrypted": checked,
        "index_mismatches": len(mismatched),
        "audit_head_found": head_found,
    }


def drill(
    backup: Backup, provider: QuorumKeyProvider, ledger_path: Path, scratch: str | None = None
) -> dict[str, Any]:
    """Restore ``backup`` into a scratch location, verify it, report, delete the scratch."""
    work = Path(tempfile.mkdtemp(prefix="etanche-drill-"))  # 0700
    target = (
        parse_location(scratch, work / "unused-keys")
        if scratch
        else parse_location(str(work / "vault"))
    )
    if not database_empty(target):
        shutil.rmtree(work, ignore_errors=True)
        raise UsageError(f"drill --scratch {target.describe()}: not an empty database")
    try:
        opener = service_opener(provider)
        report = restore(backup, target, work / "custody", opener, ledger_path)
        restored = provider.opened_at(work / "custody")
        report |= verify_restored(backup, target, restored)
    finally:
        if not target.is_sqlite:
            drop_restored(target)
        shutil.rmtree(work, ignore_errors=True)
    report["verified"] = verdict(report)
    return report


def verdict(report: dict[str, Any]) -> bool:
    """Verified: counts as in the manifest, log and values sound, every record opens
    with its indexes, the backup's audit head found, and no erased patient back."""
    return bool(
        report["counts_match"]
        and report["audit_ok"]
        and report["values_ok"]
        and report["index_mismatches"] == 0
        and report["audit_head_found"]
        and report["erased_resurrected"] == 0
    )
