"""Backups as a person runs them: ``backup.create`` and ``backup.drill``, decided and audited.

The service holds the custody that keys every backup, so a nightly backup and its
drill need no custodian; restoring into a new vault for real needs their quorum
(``etanche restore``, a bootstrap command).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from etanche.access import Actor
from etanche.audit import DetailValue, Outcome
from etanche.crypto import KeyProvider
from etanche.errors import UsageError
from etanche.names import Action
from etanche.service._backup import create_backup, newest_backup, quorum_of, read_backup
from etanche.service._operations import Operations
from etanche.service._restore import drill
from etanche.service._shred_ledger import ShredLedger
from etanche.service._trail import Trail
from etanche.vault import Vault

BACKUP = "backup"


def _absolute(path: str, option: str) -> Path:
    given = Path(path)
    if not given.is_absolute():
        raise UsageError(f"{option} {path}: give an absolute path on the service's host")
    return given


class BackupService(Operations):
    """One person's backups and drills (a network-wide lab admin; drills: auditors too)."""

    def __init__(
        self,
        vault: Vault,
        trail: Trail,
        actor: Actor,
        provider: KeyProvider,
        ledger: Path | None,
        *,
        client: str | None = None,
    ) -> None:
        super().__init__(vault, trail, actor, client=client)
        self._provider = provider
        self._ledger = ledger

    def _ledger_path(self) -> Path:
        if self._ledger is None:
            raise UsageError(
                "backup: no shred ledger (set ETANCHE_SHRED_LEDGER for a PostgreSQL vault)"
            )
        return self._ledger

    def create(self, out: str) -> dict[str, Any]:
        """A new encrypted backup under ``out``; its manifest (public parts)."""
        details: dict[str, DetailValue] = {"operation": "create"}
        self._decide(Action.BACKUP_CREATE, BACKUP, None, details)

        def work() -> dict[str, Any]:
            folder = _absolute(out, "--out")
            ShredLedger(self._ledger_path(), self.vault).sync()
            return create_backup(self.vault, self.trail, quorum_of(self._provider), folder)

        manifest = self._run(Action.BACKUP_CREATE, details, work)
        counts = manifest["counts"]
        self._record(
            Action.BACKUP_CREATE,
            Outcome.OK,
            {
                **details,
                "backup": manifest["id"],
                "patients": counts["patients"],
                "erased": counts["erased"],
                "tree_size": manifest["audit"]["tree_size"],
                "sha256": manifest["payload"]["sha256"],
            },
        )
        return {k: v for k, v in manifest.items() if k not in ("custody", "identity")}

    def drill(self, folder: str, scratch: str | None = None) -> dict[str, Any]:
        """Restore the newest backup under ``folder`` into a scratch location, verify, report."""
        details: dict[str, DetailValue] = {"operation": "drill"}
        self._decide(Action.BACKUP_DRILL, BACKUP, None, details)

        def work() -> dict[str, Any]:
            backup = read_backup(newest_backup(_absolute(folder, "--from")))
            return drill(backup, quorum_of(self._provider), self._ledger_path(), scratch)

        report = self._run(Action.BACKUP_DRILL, details, work)
        self._record(
            Action.BACKUP_DRILL,
            Outcome.OK if report["verified"] else Outcome.FAILED,
            {
                **details,
                "backup": report["backup"],
                "verified": report["verified"],
                "patients": report["records_decrypted"],
                "erasures_reapplied": report["erasures_reapplied"],
                "erased_resurrected": report["erased_resurrected"],
            },
        )
        return report
