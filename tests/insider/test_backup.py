"""The operator with a backup, the server's files and a shell: what a backup denies them.

Each test is one move of someone holding the backup folder, the vault's folder, the
custody folder and the shred ledger, but no custodian's share (or only their own).
"""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from _backup import QuorumSite, quorum_site
from etanche.crypto import (
    AgeIdentity,
    Custodian,
    Unsealer,
    create_quorum,
    file_sha256,
    open_backup_identity,
    open_share,
)
from etanche.errors import IntegrityError, KeyProviderError
from etanche.service._backup import read_backup
from etanche.service._restore import quorum_opener, restore
from etanche.synth import SynthConfig, generate
from etanche.vault import parse_location


@pytest.fixture
def backed_up(tmp_path: Path) -> tuple[QuorumSite, Path]:
    site = quorum_site(tmp_path, parse_location(str(tmp_path / "v")))
    return site, site.backup_now(tmp_path / "backups")


def _values() -> list[bytes]:
    found = []
    for patient in generate(SynthConfig(patients=60, labs=3, seed=5)).patients():
        values = [patient.birth_name, patient.nir or "", *patient.phones, *patient.emails]
        found += [v.encode() for v in values if len(v) >= 6]
    return found


def test_the_backup_holds_no_clear_value_and_no_copy_left(
    backed_up: tuple[QuorumSite, Path],
) -> None:
    _, folder = backed_up
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "vault.age"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    everything = b"".join(p.read_bytes() for p in folder.iterdir())
    assert (folder / "vault.age").read_bytes().startswith(b"age-encryption.org/v1")
    assert b"SQLite format" not in everything
    leaked = [v for v in _values() if v in everything]
    assert leaked == []


def test_the_server_files_do_not_open_the_backup(backed_up: tuple[QuorumSite, Path]) -> None:
    """custody.json and keks.json are in the manifest and on the server: no key in them."""
    site, folder = backed_up
    backup = read_backup(folder)
    with pytest.raises(KeyProviderError, match="0 of 2 shares"):
        Unsealer(site.custody).backup_key(backup.id)
    public = json.loads((site.custody / "custody.json").read_text())
    for guess in (base64.b64decode(public["check"]), bytes(32)):
        with pytest.raises(IntegrityError, match="does not open"):
            open_backup_identity(guess, backup.id, str(backup.manifest["identity"]))


def test_one_custodian_alone_cannot_restore(
    backed_up: tuple[QuorumSite, Path], tmp_path: Path
) -> None:
    site, folder = backed_up
    unsealer = Unsealer(site.custody)
    unsealer.add(site.shares["mkerbrat"])
    with pytest.raises(KeyProviderError, match="1 of 2 shares"):
        unsealer.backup_key(read_backup(folder).id)
    with pytest.raises(KeyProviderError, match="1 of 2 shares"):
        restore(
            read_backup(folder),
            parse_location(str(tmp_path / "mine")),
            tmp_path / "mine-custody",
            quorum_opener([site.shares["mkerbrat"]]),
            site.ledger,
        )


def test_a_custody_of_the_operator_swapped_into_the_manifest_opens_nothing(
    backed_up: tuple[QuorumSite, Path], tmp_path: Path
) -> None:
    """The operator makes a custody of their own (their shares), puts it in the
    manifest and rehashes: the backup's key is not theirs, nothing opens."""
    site, folder = backed_up
    key = AgeIdentity.generate()
    provider, encrypted = create_quorum(
        tmp_path / "own", [Custodian("operator", key.public_text())], threshold=1
    )
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in ("custody.json", "keks.json"):
        manifest["custody"][name] = base64.b64encode(
            (tmp_path / "own" / name).read_bytes()
        ).decode()
    manifest["payload"]["sha256"] = file_sha256(folder / "vault.age")
    (folder / "manifest.json").write_text(json.dumps(manifest))
    share = open_share(encrypted["operator"], key.secret_text())
    with pytest.raises(IntegrityError, match="manifest was altered"):
        restore(
            read_backup(folder),
            parse_location(str(tmp_path / "mine")),
            tmp_path / "mine-custody",
            quorum_opener([share]),
            site.ledger,
        )
    with pytest.raises(IntegrityError, match="does not open"):
        open_backup_identity(
            provider.backup_key(str(manifest["id"])), str(manifest["id"]), manifest["identity"]
        )


def test_a_backup_by_someone_without_the_right_is_refused_and_alerted(
    backed_up: tuple[QuorumSite, Path], tmp_path: Path
) -> None:
    """A lab admin of one lab (not network-wide) asks the service for a copy of everything."""
    from etanche.access import Actor, Role
    from etanche.errors import PermissionDenied
    from etanche.service import BackupService

    site, _ = backed_up
    store, trail, _ = site.open()
    try:
        actor = Actor("jmartin", "u-jm", Role.LAB_ADMIN, frozenset({"L01"}), session_id="s")
        service = BackupService(store, trail, actor, site.provider, site.ledger)
        with pytest.raises(PermissionDenied):
            service.create(str(tmp_path / "stolen"))
        with pytest.raises(PermissionDenied):
            service.drill(str(tmp_path / "backups"))
        assert not (tmp_path / "stolen").exists()
        rules = {a.rule for a in trail.alerts.list_alerts()}
        assert "refused" in rules
    finally:
        trail.close()
        store.close()
