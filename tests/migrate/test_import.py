"""Import on workers: the vault an inline import would fill; a bad row lands nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from migrate_support import Migration, approved

from conftest import PASSPHRASE
from etanche.crypto import KdfCost, age_decrypt, age_encrypt, content_hash
from etanche.errors import PackageRejected, UsageError, ValidationError
from etanche.leak.trace import unmark_row
from etanche.migrate import (
    Plans,
    Reconciliation,
    build_package,
    import_rows,
    open_package,
    package_rows,
)
from etanche.migrate._package import manifest_message
from etanche.service import marker_for
from etanche.vault import Vault, parse_location


def _marked_package(migration: Migration, out: Path) -> Path:
    plan = approved(migration, migration.write_plan())
    marker = marker_for(plan, migration.vault)
    build_package(plan, migration.vault, out, actor="pgirard", outbound=marker, workers=2)
    return out


def _target(path: Path) -> Vault:
    return Vault.create(parse_location(str(path)), PASSPHRASE, kdf_cost=KdfCost.fast_for_tests())


def _stored(vault: Vault) -> list[tuple[object, ...]]:
    """Every stored patient's values, ids left out (they are drawn anew at each import)."""
    out = []
    for lab in ("L01", "L02"):
        for patient in vault.get_many(vault.patient_ids(lab)):
            out.append(
                (lab, patient.birth_name, patient.first_names, patient.nir, patient.phones,
                 patient.birth_date, patient.sex, patient.clinical)
            )  # fmt: skip
    return sorted(out, key=repr)


def test_workers_store_what_an_inline_import_stores(migration: Migration, tmp_path: Path) -> None:
    """Parts checked first (a conversion's way) or in the import's own pass: same result."""
    package = _marked_package(migration, tmp_path / "pkg")
    pin = Plans(migration.vault).signer.public_key_pem()
    stored, reports = [], []
    for workers, parts in ((0, True), (2, True), (0, False), (2, False)):
        checked = open_package(package, [migration.recipient], signer_key_pem=pin, parts=parts)
        with _target(tmp_path / f"target-{workers}-{parts}") as target:
            report = import_rows(checked, target, workers=workers, normalise=unmark_row)
            assert report.matches and report.canaries_dropped >= 2
            reports.append(report.to_dict())
            stored.append(_stored(target))
    assert all(r == reports[0] for r in reports) and all(s == stored[0] for s in stored)
    assert len(stored[0]) == reports[0]["imported"] > 0


def _resign(migration: Migration, package: Path, manifest: dict[str, Any]) -> None:
    """The sender signs the manifest as edited (a sender's bug, or a sender gone bad)."""
    manifest_bytes = json.dumps(manifest, sort_keys=True, indent=1).encode()
    signature = Plans(migration.vault).signer.sign(manifest_message(manifest_bytes))
    (package / "manifest.json").write_bytes(manifest_bytes)
    (package / "manifest.sig").write_bytes(base64.b64encode(signature) + b"\n")


def _rewrite_first_part(
    migration: Migration, package: Path, edit: Callable[[list[dict[str, Any]]], None]
) -> None:
    """The first part's rows edited, re-encrypted, its hashes updated and the manifest
    signed again: only what the manifest's counts say can tell."""
    manifest = json.loads((package / "manifest.json").read_bytes())
    part = manifest["parts"][0]
    plain = age_decrypt((package / part["name"]).read_bytes(), [migration.recipient], what="p")
    rows = [json.loads(line) for line in plain.splitlines()]
    edit(rows)
    plain = b"".join(json.dumps(row).encode() + b"\n" for row in rows)
    blob = age_encrypt(plain, [migration.recipient.public_text(), manifest["sender_copy"]])
    (package / part["name"]).write_bytes(blob)
    part.update(
        plaintext_sha256=content_hash(plain).hexdigest(),
        ciphertext_sha256=content_hash(blob).hexdigest(),
        bytes=len(blob),
    )
    _resign(migration, package, manifest)


def _forge_invalid_row(migration: Migration, package: Path) -> str:
    """The sender signs a package whose first part carries an invalid NIR."""
    bad = "199991299999999"

    def edit(rows: list[dict[str, Any]]) -> None:
        victim = next(r for r in rows if r["fields"].get("nir"))
        victim["fields"]["nir"] = bad

    _rewrite_first_part(migration, package, edit)
    return bad


@pytest.mark.parametrize("workers", [0, 2])
def test_an_invalid_row_in_a_signed_package_lands_nothing(
    migration: Migration, tmp_path: Path, workers: int
) -> None:
    package = _marked_package(migration, tmp_path / "pkg")
    bad = _forge_invalid_row(migration, package)
    pin = Plans(migration.vault).signer.public_key_pem()
    checked = open_package(package, [migration.recipient], signer_key_pem=pin)  # signed: passes
    with _target(tmp_path / "target") as target:
        with pytest.raises(ValidationError) as refused:
            import_rows(checked, target, workers=workers, normalise=unmark_row)
        assert "part-00001.ndjson.age line" in str(refused.value) and "nir" in str(refused.value)
        assert bad not in str(refused.value)
        assert target.count() == 0


def _drop_a_row(rows: list[dict[str, Any]]) -> None:
    rows.pop()


def _add_a_row(rows: list[dict[str, Any]]) -> None:
    rows.append({**rows[0], "ref": "00000000-0000-5000-8000-000000000000"})


def _damage(migration: Migration, package: Path, damage: str) -> str:
    """Each way a package can be wrong that only its parts tell; returns what the refusal says."""
    part = package / "part-00001.ndjson.age"
    if damage == "flipped_byte":
        data = bytearray(part.read_bytes())
        data[len(data) // 2] ^= 1
        part.write_bytes(bytes(data))
        return "ciphertext hash differs"
    if damage == "missing_part":
        part.unlink()
        return "missing or unreadable"
    if damage in ("row_dropped", "row_added"):
        _rewrite_first_part(
            migration, package, _drop_a_row if damage == "row_dropped" else _add_a_row
        )
        return "record count differs"
    # every part as announced, but the totals the sender signed say otherwise
    manifest = json.loads((package / "manifest.json").read_bytes())
    manifest["counts"]["per_lab"]["L01"]["patients"] += 1
    _resign(migration, package, manifest)
    return "counts differ from the manifest"


@pytest.mark.parametrize(
    ("damage", "workers"),
    [
        ("flipped_byte", 2),
        ("missing_part", 0),
        ("row_dropped", 2),
        ("row_added", 0),
        ("totals", 0),
        ("totals", 2),
    ],
)
def test_the_one_pass_import_refuses_a_bad_part_before_anything_lands(
    migration: Migration, tmp_path: Path, damage: str, workers: int
) -> None:
    """Opened without checking its parts first, a package whose parts or counts are
    wrong is still refused whole: the import's transaction never commits."""
    package = _marked_package(migration, tmp_path / "pkg")
    says = _damage(migration, package, damage)
    pin = Plans(migration.vault).signer.public_key_pem()
    checked = open_package(package, [migration.recipient], signer_key_pem=pin, parts=False)
    with _target(tmp_path / "target") as target:
        with pytest.raises(PackageRejected, match=says):
            import_rows(checked, target, workers=workers, normalise=unmark_row)
        assert target.count() == 0
    with pytest.raises(PackageRejected, match=says):  # the full check says the same
        open_package(package, [migration.recipient], signer_key_pem=pin)


def test_a_conversion_reads_only_a_package_whose_parts_were_checked(
    migration: Migration, tmp_path: Path
) -> None:
    package = _marked_package(migration, tmp_path / "pkg")
    pin = Plans(migration.vault).signer.public_key_pem()
    unchecked = open_package(package, [migration.recipient], signer_key_pem=pin, parts=False)
    report = Reconciliation(unchecked.manifest)
    with pytest.raises(UsageError, match="parts not verified"):
        next(package_rows(unchecked, report))
    checked = open_package(package, [migration.recipient], signer_key_pem=pin)
    assert sum(1 for _ in package_rows(checked, report)) > 0 and report.matches
