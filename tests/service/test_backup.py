"""Backups that restore, on both engines: erasures survive, tampering and a missing
quorum are refused, and the drill verifies everything it restored."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from _backup import QuorumSite, quorum_site
from etanche.errors import (
    IntegrityError,
    KeyProviderError,
    RecordNotFound,
    UsageError,
    WrongShares,
)
from etanche.service._backup import create_backup, newest_backup, read_backup
from etanche.service._restore import drill, quorum_opener, restore
from etanche.vault import Vault, VaultLocation, database_empty, parse_location


@pytest.fixture
def site(backend: object, tmp_path: Path) -> QuorumSite:
    return quorum_site(tmp_path, backend.location)  # type: ignore[attr-defined]


def _target(backend: object, tmp_path: Path) -> tuple[VaultLocation, str | None]:
    server = getattr(backend, "server", None)
    if server is None:
        return parse_location(str(tmp_path / "restored")), None
    url = server.create_database("r_" + uuid.uuid4().hex[:12])
    return parse_location(url, tmp_path / "unused-keys.json"), url


def _backup_then_erase(site: QuorumSite, out: Path) -> tuple[Path, str, str]:
    """A backup, then one erasure after it; (backup folder, erased id, kept id)."""
    store, trail, _ = site.open()
    try:
        before, after, kept = store.patient_ids()[:3]
        store.erase(before)  # erased before the backup: a tombstone inside it
        manifest = create_backup(store, trail, site.provider, out)
        store.erase(after)  # erased after the backup: its keys are still in it
    finally:
        trail.close()
        store.close()
    assert manifest["counts"]["erased"] == 1
    return out / str(manifest["id"]), after, kept


def test_a_patient_erased_after_the_backup_stays_erased(
    site: QuorumSite, backend: object, tmp_path: Path
) -> None:
    folder, erased, kept = _backup_then_erase(site, tmp_path / "backups")
    target, _ = _target(backend, tmp_path)
    shares = [site.shares["aleroux"], site.shares["mkerbrat"]]
    report = restore(
        read_backup(folder),
        target,
        tmp_path / "restored-custody",
        quorum_opener(shares),
        site.ledger,
    )
    assert report["counts_match"] is True
    assert report["erasures_reapplied"] == 1
    assert report["erased_resurrected"] == 0
    with Vault.open_with(target, site.provider.opened_at(tmp_path / "restored-custody")) as store:
        ids = store.patient_ids()
        assert erased not in ids
        assert kept in ids
        assert store.get(kept).id == kept


def test_the_drill_verifies_and_reports(site: QuorumSite, backend: object, tmp_path: Path) -> None:
    _backup_then_erase(site, tmp_path / "backups")
    _, scratch = _target(backend, tmp_path)
    report = drill(
        read_backup(newest_backup(tmp_path / "backups")), site.provider, site.ledger, scratch
    )
    assert report["verified"] is True, report
    assert report["records_decrypted"] == 58
    assert report["erasures_reapplied"] == 1
    assert report["erased_resurrected"] == 0
    assert report["audit_head_found"] is True


def test_one_changed_byte_is_refused(site: QuorumSite, backend: object, tmp_path: Path) -> None:
    folder, _, _ = _backup_then_erase(site, tmp_path / "backups")
    payload = folder / "vault.age"
    data = bytearray(payload.read_bytes())
    data[len(data) // 2] ^= 0x01
    payload.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="does not match its manifest"):
        read_backup(folder)


def test_a_manifest_rehashed_by_the_operator_is_still_refused(
    site: QuorumSite, backend: object, tmp_path: Path
) -> None:
    import json

    from etanche.crypto import file_sha256

    folder, _, _ = _backup_then_erase(site, tmp_path / "backups")
    payload = folder / "vault.age"
    data = bytearray(payload.read_bytes())
    data[-40] ^= 0x01
    payload.write_bytes(bytes(data))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["payload"]["sha256"] = file_sha256(payload)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    target, _ = _target(backend, tmp_path)
    shares = [site.shares["aleroux"], site.shares["ylegoff"]]
    with pytest.raises(IntegrityError, match="manifest was altered"):
        restore(read_backup(folder), target, tmp_path / "c", quorum_opener(shares), site.ledger)


def test_a_restore_without_the_quorum_is_refused(
    site: QuorumSite, backend: object, tmp_path: Path
) -> None:
    folder, _, _ = _backup_then_erase(site, tmp_path / "backups")
    target, _ = _target(backend, tmp_path)
    with pytest.raises(KeyProviderError, match="1 of 2 shares"):
        restore(
            read_backup(folder),
            target,
            tmp_path / "c1",
            quorum_opener([site.shares["ylegoff"]]),
            site.ledger,
        )
    assert not (tmp_path / "c1").exists()  # nothing half-written
    assert database_empty(target)
    forged = site.shares["ylegoff"].rsplit(" ", 1)[0] + " " + "A" * 43 + "="
    with pytest.raises((WrongShares, UsageError)):
        restore(
            read_backup(folder),
            target,
            tmp_path / "c2",
            quorum_opener([site.shares["aleroux"], forged]),
            site.ledger,
        )


def test_a_restore_without_the_shred_ledger_is_refused(
    site: QuorumSite, backend: object, tmp_path: Path
) -> None:
    folder, _, _ = _backup_then_erase(site, tmp_path / "backups")
    target, _ = _target(backend, tmp_path)
    shares = [site.shares["aleroux"], site.shares["ylegoff"]]
    with pytest.raises(UsageError, match="shred ledger"):
        restore(read_backup(folder), target, tmp_path / "c", quorum_opener(shares), tmp_path / "x")


def test_an_edited_shred_ledger_is_refused(
    site: QuorumSite, backend: object, tmp_path: Path
) -> None:
    folder, _, _ = _backup_then_erase(site, tmp_path / "backups")
    lines = site.ledger.read_text().splitlines()
    site.ledger.write_text("\n".join(lines[1:]) + "\n")  # the first erasure removed
    target, _ = _target(backend, tmp_path)
    shares = [site.shares["aleroux"], site.shares["ylegoff"]]
    with pytest.raises(IntegrityError, match="line 1"):
        restore(read_backup(folder), target, tmp_path / "c", quorum_opener(shares), site.ledger)


def test_the_service_never_serves_a_patient_of_the_ledger(
    site: QuorumSite, backend: object, tmp_path: Path
) -> None:
    """Any way the database comes back (a PITR, a copied file): listed patients
    alive in it are shredded again when the service opens, before any request."""
    from etanche.service import Core, Custody
    from etanche.vault import copy_database, load_database

    old_copy = tmp_path / "old.copy"
    copy_database(site.location, old_copy)  # the database as it was, before the erasure
    store, trail, _ = site.open()
    try:
        erased = store.patient_ids()[5]
        store.erase(erased)
    finally:
        trail.close()
        store.close()
    target, _ = _target(backend, tmp_path)
    load_database(target, old_copy)
    core = Core(target, Custody.unsealed(site.provider), shred_ledger=site.ledger)
    try:
        assert erased not in core.vault.patient_ids()
        with pytest.raises(RecordNotFound):
            core.vault.get(erased)
    finally:
        core.close()
