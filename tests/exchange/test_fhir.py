"""FHIR: our writer's resources validate with fhir.resources; reader detection and issues."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class

from etanche.domain import Patient, Specimen
from etanche.errors import SourceError
from etanche.exchange import SourceIssue, SourceRecord, open_source, write_fhir

Pairs = list[tuple[Patient, list[Specimen]]]


def test_bundle_and_its_resources_validate_as_fhir_r4(
    exchange_pairs: Pairs, tmp_path: Path
) -> None:
    path = tmp_path / "b.json"
    write_fhir(exchange_pairs[:15], path)
    data = json.loads(path.read_text(encoding="utf-8"))
    bundle = get_fhir_model_class("Bundle").model_validate(data)
    kinds = {entry.resource.get_resource_type() for entry in bundle.entry}
    assert {"Patient", "Practitioner", "Specimen", "Observation", "Coverage"} <= kinds
    patient = next(e.resource for e in bundle.entry if e.resource.get_resource_type() == "Patient")
    assert any(i.system == "urn:oid:1.2.250.1.213.1.4.8" for i in patient.identifier)


def test_ndjson_lines_validate_one_by_one(exchange_pairs: Pairs, tmp_path: Path) -> None:
    path = tmp_path / "b.ndjson"
    write_fhir(exchange_pairs[:10], path, ndjson=True)
    lines = path.read_text(encoding="utf-8").splitlines()
    for line in lines:
        resource = json.loads(line)
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    observation = next(json.loads(x) for x in lines if '"882-1"' in x)
    assert observation["code"]["coding"][0]["system"] == "http://loinc.org"


def test_collection_times_carry_the_paris_offset(exchange_pairs: Pairs, tmp_path: Path) -> None:
    path = tmp_path / "b.ndjson"
    write_fhir(exchange_pairs[:3], path, ndjson=True)
    specimen = next(json.loads(x) for x in path.read_text().splitlines() if '"Specimen"' in x)
    assert specimen["collection"]["collectedDateTime"][-6:] in ("+01:00", "+02:00")


def test_resources_before_their_patient_wait_and_after_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "x.ndjson"
    rows = [
        {
            "resourceType": "Observation",
            "status": "final",
            "subject": {"reference": "Patient/a"},
            "code": {"coding": [{"code": "882-1"}]},
            "valueCodeableConcept": {"text": "AB-"},
        },
        {
            "resourceType": "Patient",
            "id": "a",
            "name": [{"family": "Durand", "given": ["Léa"]}],
            "gender": "female",
            "birthDate": "1990-01-02",
        },
        {"resourceType": "Patient", "id": "b", "name": [{"family": "Martin"}]},
        {"resourceType": "Condition", "subject": {"reference": "Patient/a"}, "code": {"text": "x"}},
        {"resourceType": "Immunization", "patient": {"reference": "Patient/b"}},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n[1]\n", encoding="utf-8")
    reader = open_source("fhir", path)
    items = list(reader)
    records = [i for i in items if isinstance(i, SourceRecord)]
    assert records[0].fields["blood_group"] == "AB-"
    assert records[0].location == "line 2 (Patient)"
    issues = [(i.location, i.reason) for i in items if isinstance(i, SourceIssue)]
    assert issues == [
        ("line 4 (Condition)", "resource after its patient"),
        ("line 6", "not a JSON object"),
        ("line 7", "not a FHIR resource (JSON object expected)"),
    ]
    assert "Immunization" in reader.unmapped


def test_pretty_printed_bundle_is_read_whole(exchange_pairs: Pairs, tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    write_fhir(exchange_pairs[:5], path)
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(json.loads(path.read_text()), indent=2), encoding="utf-8")
    records = [r for r in open_source("fhir", pretty) if isinstance(r, SourceRecord)]
    assert len(records) == 5
    assert all(r.location.startswith("entry ") for r in records)
    assert all(r.location.endswith(" (Patient)") for r in records)


@pytest.mark.parametrize("content", [b"{ not json", b"\xff\xfe\x00"])
def test_unreadable_json_is_a_source_error(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(content)
    with pytest.raises(SourceError):
        list(open_source("fhir", path))
