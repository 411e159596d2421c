"""``etanche restore``: a backup into a new vault, opened by a fresh quorum of custodians.

A bootstrap operation (no service runs for a vault that does not exist yet): the
custodians' shares rebuild the backup's key and open the restored custody; the
shred ledger is re-applied and the restore is the restored log's newest event.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from etanche.service._backup import newest_backup, read_backup
from etanche.service._bootstrap import custody_folder
from etanche.service._restore import quorum_opener, restore, verdict, verify_restored
from etanche.vault import parse_location

_NO_KEY_FILE = "unused-key-file"  # quorum custody: a PostgreSQL location needs no key file


def restore_from_backup(
    source: Path, target: str, custody: str | None, ledger: Path, shares: Sequence[str]
) -> dict[str, Any]:
    """Restore the backup at ``source`` (or the newest under it) into ``target``, verified."""
    location = parse_location(target, _NO_KEY_FILE if "://" in target else None)
    folder = custody_folder(location, custody)
    backup = read_backup(newest_backup(source))
    opener = quorum_opener(shares)
    report = restore(backup, location, folder, opener, ledger)
    _, provider, _ = opener(folder, backup.id)
    report |= verify_restored(backup, location, provider)
    report["custody"] = str(folder)
    report["verified"] = verdict(report)
    return report
