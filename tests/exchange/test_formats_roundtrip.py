"""synth -> writer -> reader -> build_patient gives back the patients, for every format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from etanche.domain import Patient, Specimen
from etanche.exchange import (
    SourceIssue,
    SourceRecord,
    build_patient,
    open_source,
    patient_fields,
    write_canonical_csv,
    write_fhir,
    write_hl7v2,
    write_hprim,
)
from etanche.synth import SynthNetwork

Pairs = list[tuple[Patient, list[Specimen]]]


def _write_csv(net: SynthNetwork, pairs: Pairs, path: Path) -> None:
    write_canonical_csv((patient_fields(p, s) for p, s in pairs), path)


WRITERS: dict[str, tuple[str, Callable[[SynthNetwork, Pairs, Path], object]]] = {
    "hprim": ("hprim", lambda net, pairs, path: write_hprim(net, path)),
    "hl7v2": ("hl7v2", lambda net, pairs, path: write_hl7v2(net, path)),
    "fhir-bundle": ("fhir", lambda net, pairs, path: write_fhir(net, path)),
    "fhir-ndjson": ("fhir", lambda net, pairs, path: write_fhir(pairs, path, ndjson=True)),
    "canonical-csv": ("csv", _write_csv),
}


def _without_ids(specimens: list[Specimen]) -> list[Specimen]:
    return [replace(s, id="") for s in specimens]


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_round_trip_gives_back_every_patient_and_specimen(
    name: str, exchange_network: SynthNetwork, exchange_pairs: Pairs, tmp_path: Path
) -> None:
    fmt, write = WRITERS[name]
    path = tmp_path / f"export.{name}"
    write(exchange_network, exchange_pairs, path)
    items = list(open_source(fmt, path))
    assert [i for i in items if isinstance(i, SourceIssue)] == []
    records = [i for i in items if isinstance(i, SourceRecord)]
    assert len(records) == len(exchange_pairs)
    for (patient, specimens), record in zip(exchange_pairs, records, strict=True):
        built, built_specimens = build_patient(
            record, patient_id=patient.id, lab_id=record.fields["lab"]
        )
        assert built == patient
        assert _without_ids(built_specimens) == _without_ids(specimens)


def test_specimen_ids_are_stable_across_formats(exchange_pairs: Pairs, tmp_path: Path) -> None:
    pairs = exchange_pairs[:20]
    write_hl7v2(pairs, tmp_path / "a.hl7")
    write_fhir(pairs, tmp_path / "a.json")
    ids = []
    for fmt, path in (("hl7v2", tmp_path / "a.hl7"), ("fhir", tmp_path / "a.json")):
        records = [r for r in open_source(fmt, path) if isinstance(r, SourceRecord)]
        ids.append(
            [
                s.id
                for (p, _), r in zip(pairs, records, strict=True)
                for s in build_patient(r, patient_id=p.id, lab_id=p.lab_id)[1]
            ]
        )
    assert ids[0] == ids[1]
    assert len(set(ids[0])) == len(ids[0]) == sum(len(s) for _, s in pairs)


def test_records_carry_the_dossier_when_written_from_a_network(
    exchange_network: SynthNetwork, tmp_path: Path
) -> None:
    path = tmp_path / "net.hpr"
    write_hprim(exchange_network, path)
    first = next(r for r in open_source("hprim", path) if isinstance(r, SourceRecord))
    patient = next(exchange_network.patients())
    assert first.fields["dossier"] == exchange_network.dossier_number(patient)
