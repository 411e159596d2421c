"""Import on workers: the vault an inline import would fill; a bad row lands nothing."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from migrate_support import Migration, approved

from conftest import PASSPHRASE
from etanche.crypto import KdfCost, age_decrypt, age_encrypt, content_hash
from etanche.errors import ValidationError
from etanche.leak.trace import unmark_row
from etanche.migrate import Plans, build_package, import_rows, open_package
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
    package = _marked_package(migration, tmp_path / "pkg")
    pin = Plans(migration.vault).signer.public_key_pem()
    checked = open_package(package, [migration.recipient], signer_key_pem=pin)
    stored, reports = [], []
    for workers in (0, 2):
        with _target(tmp_path / f"target-{workers}") as target:
            report = import_rows(checked, target, workers=workers, normalise=unmark_row)
            assert report.matches and report.canaries_dropped >= 2
            reports.append(report.to_dict())
            stored.append(_stored(target))
    assert reports[0] == reports[1]
    assert stored[0] == stored[1] and len(stored[0]) == reports[0]["imported"] > 0


def _forge_invalid_row(migration: Migration, package: Path) -> str:
    """The sender signs a package whose first part carries an invalid NIR."""
    manifest = json.loads((package / "manifest.json").read_bytes())
    part = manifest["parts"][0]
    plain = age_decrypt((package / part["name"]).read_bytes(), [migration.recipient], what="p")
    lines = plain.splitlines()
    rows = [json.loads(line) for line in lines]
    victim = next(i for i, r in enumerate(rows) if r["fields"].get("nir"))
    bad = "199991299999999"
    rows[victim]["fields"]["nir"] = bad
    lines[victim] = json.dumps(rows[victim]).encode()
    plain = b"\n".join(lines) + b"\n"
    blob = age_encrypt(plain, [migration.recipient.public_text(), manifest["sender_copy"]])
    (package / part["name"]).write_bytes(blob)
    part.update(
        plaintext_sha256=content_hash(plain).hexdigest(),
        ciphertext_sha256=content_hash(blob).hexdigest(),
        bytes=len(blob),
    )
    manifest_bytes = json.dumps(manifest, sort_keys=True, indent=1).encode()
    signature = Plans(migration.vault).signer.sign(manifest_message(manifest_bytes))
    (package / "manifest.json").write_bytes(manifest_bytes)
    (package / "manifest.sig").write_bytes(base64.b64encode(signature) + b"\n")
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
