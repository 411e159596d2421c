"""The shred ledger: ids of every crypto-shredded patient, kept apart from the backups.

A backup holds the wrapped keys of patients erased after it was taken; restoring
it would bring them back. So every committed erasure is appended here (one JSON
line per patient), outside the vault's database and never inside a backup, and a
restore shreds again every id of the ledger before the restored vault serves.

Each line is MACed under a key derived from the vault's system key, chained to
the line before: a forged, edited or removed line is refused with its number.
Cutting the end of the file cannot be told from the file alone; keep a copy off
the server (docs/operations.md).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from etanche._files import open_private, write_private
from etanche.errors import IntegrityError, UsageError
from etanche.vault import Vault, VaultLocation

_PURPOSE = "shred-ledger/v1"
_START = "0" * 64


def default_ledger(location: VaultLocation, given: str | None) -> Path | None:
    """ETANCHE_SHRED_LEDGER, or beside (never inside) a SQLite vault's folder."""
    if given:
        return Path(given).expanduser().resolve()
    if location.directory is None:
        return None
    return location.directory.with_name(location.directory.name + "-shred-ledger.jsonl")


class ShredLedger:
    """Append-only list of shredded patient ids, each line MACed and chained."""

    def __init__(self, path: Path, vault: Vault) -> None:
        self.path = path
        self._vault = vault

    def _mac(self, seq: int, patient: str, at: str, prev: str) -> str:
        return self._vault.client_digest(_PURPOSE, f"{seq}|{patient}|{at}|{prev}")

    def read(self) -> list[str]:
        """Every id in order, after checking each line; IntegrityError names a bad line."""
        if not self.path.exists():
            return []
        ids: list[str] = []
        prev = _START
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            raise UsageError(f"shred ledger {self.path}: unreadable") from None
        for number, line in enumerate(lines, start=1):
            try:
                entry = json.loads(line)
                seq, patient, at, mac = entry["seq"], entry["patient"], entry["at"], entry["mac"]
            except (ValueError, KeyError, TypeError):
                raise IntegrityError(
                    f"shred ledger {self.path}: line {number} is malformed"
                ) from None
            if seq != number or mac != self._mac(seq, str(patient), str(at), prev):
                raise IntegrityError(
                    f"shred ledger {self.path}: line {number} was altered, moved or forged"
                )
            ids.append(str(patient))
            prev = mac
        return ids

    def append(self, patient_ids: Sequence[str]) -> None:
        """Add ids (one committed erasure or purge batch); serialised between workers."""
        if not patient_ids:
            return
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open_private(self.path, "a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                seq, prev = self._tail()
                at = datetime.now(UTC).isoformat(timespec="seconds")
                for patient in patient_ids:
                    seq += 1
                    mac = self._mac(seq, patient, at, prev)
                    entry = {"seq": seq, "patient": patient, "at": at, "mac": mac}
                    handle.write(json.dumps(entry) + "\n")
                    prev = mac
                handle.flush()
                os.fsync(handle.fileno())
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _tail(self) -> tuple[int, str]:
        """(seq, MAC) of the last line, checked in full by ``read`` at each restore."""
        lines = self.path.read_text(encoding="utf-8").splitlines()
        if not lines:
            return 0, _START
        try:
            last = json.loads(lines[-1])
            return int(last["seq"]), str(last["mac"])
        except (ValueError, KeyError, TypeError):
            raise IntegrityError(f"shred ledger {self.path}: its last line is malformed") from None

    def sync(self) -> int:
        """Append the vault's tombstones the ledger does not hold yet (erasures made
        before it existed); how many were added."""
        if not self.path.exists():
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_private(self.path, b"")
        known = set(self.read())
        missing = [pid for pid in self._vault.erased_ids() if pid not in known]
        self.append(missing)
        return len(missing)

    def reapply(self) -> tuple[int, list[str]]:
        """Shred again every listed patient still alive in the vault (a restored copy);
        (ledger entries, ids shredded now)."""
        listed = self.read()
        live = set(self._vault.patient_ids())
        return len(listed), self._vault.erase_many([pid for pid in listed if pid in live])
