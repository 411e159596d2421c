"""Packages: minimal by construction, encrypted, signed, verified, closed for good."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from migrate_support import Migration, approved

from conftest import PASSPHRASE, mode_of
from etanche.crypto import AgeIdentity, KdfCost, Signer, age_decrypt
from etanche.errors import IntegrityError, PackageRejected, PlanNotApproved
from etanche.migrate import (
    PACKAGE_KIND,
    build_package,
    check_plan,
    close_plan,
    import_rows,
    load_plan,
    open_package,
    shred_expired,
    verify_certificate,
)
from etanche.vault import Documents, Vault, parse_location


def _rows(directory: Path, identity: AgeIdentity) -> list[dict[str, object]]:
    manifest = json.loads((directory / "manifest.json").read_bytes())
    rows = []
    for part in manifest["parts"]:
        plain = age_decrypt((directory / part["name"]).read_bytes(), [identity], what="part")
        rows += [json.loads(line) for line in plain.splitlines()]
    return rows


def _public_key(vault: Vault) -> bytes:
    from etanche.migrate import Plans

    return Plans(vault).signer.public_key_pem()


def test_nothing_runs_on_an_unapproved_plan(migration: Migration) -> None:
    plan = load_plan(migration.write_plan())
    with pytest.raises(PlanNotApproved):
        build_package(plan, migration.vault, migration.folder / "pkg", actor="pgirard")
    assert not (migration.folder / "pkg").exists()


def test_run_verify_import_reconciles(migration: Migration, tmp_path: Path) -> None:
    plan = approved(migration, migration.write_plan())
    report = check_plan(plan)
    out = tmp_path / "pkg"
    result = build_package(plan, migration.vault, out, actor="pgirard")
    assert result.records == report.valid  # invalid and out-of-scope records stay home
    rows = _rows(out, migration.recipient)
    assert {r["lab"] for r in rows} == {"L01", "L02"}
    for row in rows:
        assert set(row["fields"]) <= plan.allowed  # type: ignore[arg-type]
    checked = open_package(out, [migration.recipient], signer_key_pem=_public_key(migration.vault))
    assert checked.pinned
    target = Vault.create(
        parse_location(str(tmp_path / "target")), PASSPHRASE, kdf_cost=KdfCost.fast_for_tests()
    )
    with target:
        reconciliation = import_rows(checked, target)
        assert reconciliation.matches and reconciliation.imported == result.records
        assert target.count() == result.records
        patient = target.get(target.patient_ids("L01")[0])
        assert patient.emails == () and patient.addresses == ()  # not in the allow-list
        assert {lab.id for lab in target.labs()} >= {"L01", "L02"}


def test_no_personal_value_on_disk_and_stock_age_decrypts(
    migration: Migration, tmp_path: Path
) -> None:
    plan = approved(migration, migration.write_plan())
    out = tmp_path / "pkg"
    build_package(plan, migration.vault, out, actor="pgirard")
    stored = b"".join(p.read_bytes() for p in out.iterdir())
    for patient in list(migration.network.patients())[:100]:
        for value in (patient.nir, patient.birth_name):
            if value and len(value) > 4:
                assert value.encode() not in stored
    assert not list(out.glob("*.tmp")) and not (out / ".run-state.json").exists()
    if shutil.which("age") is None:
        if os.environ.get("CI"):
            pytest.fail("the stock age CLI is missing: scripts/test-suite.sh installs it")
        pytest.skip("Debian's age is installed by scripts/test-suite.sh")
    key = tmp_path / "key.txt"
    key.write_text(migration.recipient.secret_text() + "\n")
    plain = subprocess.run(
        ["age", "-d", "-i", str(key), str(out / "part-00001.ndjson.age")],
        capture_output=True,
        check=True,
    ).stdout
    first = json.loads(plain.splitlines()[0])
    assert set(first) == {"ref", "lab", "fields", "specimens"}


@pytest.mark.parametrize("damage", ["part", "manifest", "signature", "missing", "wrong_key"])
def test_a_tampered_package_is_refused(migration: Migration, tmp_path: Path, damage: str) -> None:
    plan = approved(migration, migration.write_plan())
    out = tmp_path / "pkg"
    build_package(plan, migration.vault, out, actor="pgirard")
    pinned = _public_key(migration.vault)
    if damage == "part":
        part = out / "part-00001.ndjson.age"
        data = bytearray(part.read_bytes())
        data[len(data) // 2] ^= 1
        part.write_bytes(bytes(data))
    elif damage == "manifest":
        manifest = json.loads((out / "manifest.json").read_bytes())
        manifest["counts"]["per_lab"]["L01"]["patients"] += 1
        (out / "manifest.json").write_text(json.dumps(manifest, sort_keys=True, indent=1))
    elif damage == "signature":
        (out / "manifest.sig").write_text("AAAA" * 22 + "\n")
    elif damage == "missing":
        (out / "part-00001.ndjson.age").unlink()
    else:  # signed by another network's key than the one the recipient pinned
        pinned = Signer.from_seed(bytes(32)).public_key_pem()
    with pytest.raises(PackageRejected):
        open_package(out, [migration.recipient], signer_key_pem=pinned)


def test_a_stranger_cannot_open_the_package(migration: Migration, tmp_path: Path) -> None:
    plan = approved(migration, migration.write_plan())
    out = tmp_path / "pkg"
    build_package(plan, migration.vault, out, actor="pgirard")
    with pytest.raises(PackageRejected, match="does not decrypt"):
        open_package(out, [AgeIdentity.generate()], signer_key_pem=None)


def test_close_leaves_nothing_decryptable_and_certifies(
    migration: Migration, tmp_path: Path
) -> None:
    plan = approved(migration, migration.write_plan())
    out = tmp_path / "pkg"
    build_package(plan, migration.vault, out, actor="pgirard")
    docs = Documents(migration.vault)
    assert len(docs.list(PACKAGE_KIND)) == 1
    signed = close_plan(migration.vault, plan.id, actor="alefevre", reason="on demand")
    assert not out.exists()
    assert docs.list(PACKAGE_KIND) == []  # the sender copy key is gone with its record
    certificate = signed["certificate"]
    assert {a["file"] for a in certificate["artefacts"]} >= {"manifest.json", "canaries.age"}
    assert all(a["deleted"] for a in certificate["artefacts"] if "sha256" in a)
    assert len(certificate["keys_shredded"]) == 1
    verify_certificate(signed, _public_key(migration.vault))
    certificate["artefacts"].pop()
    with pytest.raises(IntegrityError):
        verify_certificate(signed)
    with pytest.raises(PlanNotApproved, match="closed"):
        build_package(plan, migration.vault, tmp_path / "again", actor="pgirard")


def test_expired_plans_are_shredded_by_the_next_command(
    migration: Migration, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    plan = approved(migration, migration.write_plan())
    out = tmp_path / "pkg"
    build_package(plan, migration.vault, out, actor="pgirard")
    assert shred_expired(migration.vault) == []
    later = datetime.now(UTC) + timedelta(days=365 * 100)
    assert shred_expired(migration.vault, now=later) == [plan.id]
    assert not out.exists()


def test_workers_give_the_same_report_and_content(migration: Migration, tmp_path: Path) -> None:
    plan = approved(migration, migration.write_plan())
    assert check_plan(plan, workers=2).to_dict() == check_plan(plan).to_dict()
    one = build_package(plan, migration.vault, tmp_path / "a", actor="pgirard")
    two = build_package(plan, migration.vault, tmp_path / "b", actor="pgirard", workers=2)
    assert one.content_sha256 == two.content_sha256


def test_package_files_are_private_from_temporary_to_manifest(
    umask_022: None, migration: Migration, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import etanche._files as files

    seen: dict[str, tuple[int, int]] = {}  # file -> (temporary mode, renamed mode)
    rename = os.replace

    def spy(source: str | Path, target: str | Path) -> None:
        before = mode_of(Path(source))
        rename(source, target)
        seen[Path(target).name] = (before, mode_of(Path(target)))

    monkeypatch.setattr(files.os, "replace", spy)
    plan = approved(migration, migration.write_plan())
    out = tmp_path / "pkg"
    out.mkdir(mode=0o755)  # an empty folder made beforehand, under the umask
    build_package(plan, migration.vault, out, actor="pgirard")
    assert mode_of(out) == 0o700
    assert {".run-state.json", "manifest.json", "manifest.sig", "canaries.age"} <= set(seen)
    assert any(name.startswith("part-") for name in seen)
    assert set(seen.values()) == {(0o600, 0o600)}
    assert {p.name: mode_of(p) for p in out.iterdir()} == dict.fromkeys(
        (p.name for p in out.iterdir()), 0o600
    )
