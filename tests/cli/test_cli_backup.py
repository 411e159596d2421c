"""``etanche backup``, ``restore drill`` through the service, and ``restore`` with shares."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _backup import quorum_site
from _cli import run
from _service import running_service
from _staff import Staff
from etanche.access import Role
from etanche.audit import events_of
from etanche.names import Action
from etanche.vault import Vault, parse_location


def test_backup_drill_and_restore_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    location = parse_location(str(tmp_path / "v"))
    site = quorum_site(tmp_path, location, patients=30)
    store = Vault.open_with(location, site.provider)
    staff = Staff(store)
    staff._ensure_root()
    session = tmp_path / "session"
    session.write_text(str(staff.root_token))
    session.chmod(0o600)
    monkeypatch.setenv("ETANCHE_SESSION_FILE", str(session))
    # the service keeps its ledger beside the vault folder (the default)
    monkeypatch.setenv("ETANCHE_SHRED_LEDGER", str(tmp_path / "v-shred-ledger.jsonl"))
    backups = tmp_path / "backups"
    victim = store.patient_ids()[0]
    biologist = tmp_path / "biologist"
    biologist.write_text(
        staff.add("jmartin", "Jeanne Martin", Role.BIOLOGIST, [store.lab_of(victim)])
    )
    biologist.chmod(0o600)
    try:
        with running_service(location, site.provider, tmp_path / "run") as address:
            monkeypatch.setenv("ETANCHE_SERVICE", address)
            code, out, err = run(capsys, "backup", "--out", str(backups), "--json")
            assert code == 0, err
            manifest = json.loads(out)
            assert manifest["counts"]["patients"] == 30
            assert "identity" not in manifest and "custody" not in manifest
            monkeypatch.setenv("ETANCHE_SESSION_FILE", str(biologist))
            code, _, err = run(capsys, "erase", victim, "--yes")
            assert code == 0, err
            monkeypatch.setenv("ETANCHE_SESSION_FILE", str(session))
            code, out, err = run(capsys, "restore", "drill", "--from", str(backups))
            assert code == 0, err
            assert "verified" in out and "1 erasures re-applied" in out
            assert "0 erased patients resurrected" in out
        actions = {event.action for _, event in events_of(store.engine, Action.BACKUP_CREATE)}
        assert actions == {"backup.create"}
        assert list(events_of(store.engine, Action.BACKUP_DRILL))
    finally:
        store.close()
    shares = []
    for name in ("aleroux", "ylegoff"):
        path = tmp_path / f"{name}.share"
        path.write_text(site.shares[name])
        shares += ["--share-file", str(path)]
    target = tmp_path / "restored"
    code, out, err = run(
        capsys, "restore", "--from", str(backups), "--to", str(target), *shares, "--json"
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["verified"] is True
    assert report["erasures_reapplied"] == 1
    code, _, err = run(capsys, "restore", "--from", str(backups), "--to", str(tmp_path / "r2"))
    assert code == 2
    assert "shares are needed" in err


def test_a_tampered_backup_is_one_clear_line_and_exit_5(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site = quorum_site(tmp_path, parse_location(str(tmp_path / "v")), patients=20)
    payload = site.backup_now(tmp_path / "backups") / "vault.age"
    data = bytearray(payload.read_bytes())
    data[100] ^= 0x80
    payload.write_bytes(bytes(data))
    share = tmp_path / "share"
    share.write_text(site.shares["aleroux"])
    monkeypatch.setenv("ETANCHE_SHRED_LEDGER", str(site.ledger))
    code, out, err = run(
        capsys,
        "restore",
        "--from",
        str(tmp_path / "backups"),
        "--to",
        str(tmp_path / "r"),
        "--share-file",
        str(share),
    )
    assert code == 5
    assert out == ""
    assert err.strip().count("\n") == 0 and "does not match its manifest" in err
    assert "Traceback" not in err
    assert not (tmp_path / "r").exists()
