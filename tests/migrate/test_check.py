"""The dry run reports what is wrong, where, and never a value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from migrate_support import Migration

from etanche.exchange import write_fhir, write_hl7v2, write_hprim
from etanche.migrate import check_plan, load_plan


def test_legacy_export_report(migration: Migration) -> None:
    plan = load_plan(migration.write_plan())
    report = check_plan(plan)
    data = report.to_dict()
    assert data["records"] == 240
    assert data["in_scope"] + data["out_of_scope"] == 240
    assert set(data["per_lab"]) == {"L01", "L02", "L03"} and data["per_lab"]["L03"]["out_of_scope"]
    assert data["counts"]["invalid_nir_key"] >= 1  # the network has 5 % wrong keys
    first = data["problems"]["invalid_nir_key"][0]
    assert first["location"].startswith("line ") and first["field"] == "nir"
    assert {"Identifiant portail", "Mot de passe portail"} <= set(
        data["columns"]["refused_credentials"]
    )
    assert data["counts"].get("probable_duplicate", 0) >= 1  # 3 % re-registered elsewhere
    text = json.dumps(data) + report.to_html()
    for patient in migration.network.patients():
        assert patient.birth_name not in text
        assert not patient.nir or patient.nir not in text


def test_encoding_problems_are_located(migration: Migration, tmp_path: Path) -> None:
    text = migration.source.read_bytes().decode("cp1252")
    raw = text.encode("utf-8").split(b"\r\n")
    raw[5] = raw[5] + b"\xff\xfe"  # not UTF-8
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"\r\n".join(raw))
    source = {"format": "legacy-csv", "path": str(broken), "encoding": "utf-8"}
    plan = load_plan(migration.write_plan(source=source))
    data = check_plan(plan).to_dict()
    problems = [p for kind in ("encoding", "malformed") for p in data["problems"].get(kind, [])]
    assert any(p["location"] == "line 6" for p in problems), data["counts"]


@pytest.mark.parametrize("fmt", ["hprim", "hl7v2", "fhir"])
def test_every_source_format_checks_alike(migration: Migration, fmt: str) -> None:
    source = migration.folder / f"source.{fmt}"
    writer = {"hprim": write_hprim, "hl7v2": write_hl7v2, "fhir": write_fhir}[fmt]
    writer(migration.network, source)
    legacy = check_plan(load_plan(migration.write_plan())).to_dict()
    other = check_plan(
        load_plan(migration.write_plan(f"{fmt}.yaml", source={"format": fmt, "path": str(source)}))
    ).to_dict()
    assert other["records"] == legacy["records"] == 240
    assert other["valid"] == legacy["valid"] and other["out_of_scope"] == legacy["out_of_scope"]
