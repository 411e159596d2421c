"""HPRIM Santé: delimiters from the H line, escapes, A continuations, issues."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from etanche.domain import Clinical, Patient, Specimen
from etanche.errors import SourceError
from etanche.exchange import (
    Delimiters,
    SourceIssue,
    SourceRecord,
    build_patient,
    open_source,
    write_hprim,
)

Pairs = list[tuple[Patient, list[Specimen]]]
TRICKY = "O'Brien|Dupont^Martin~Léa&Co\\fin"


def _tricky(pairs: Pairs) -> Pairs:
    patient, specimens = pairs[0]
    patient = replace(
        patient,
        birth_name=TRICKY,
        used_name="Ünal ş",
        clinical=Clinical(comments=("ligne 1 | ligne 2 ^ suite~", "x" * 500)),
    )
    return [(patient, specimens), *pairs[1:5]]


def _records(path: Path) -> list[SourceRecord | SourceIssue]:
    return list(open_source("hprim", path))


@pytest.mark.parametrize(
    "delimiters",
    [Delimiters("|", "~", "^", "\\", "&"), Delimiters("!", "^", "~", "#", "@")],
    ids=["hprim-default", "swapped"],
)
def test_delimiters_declared_in_h_are_used_and_values_escaped(
    delimiters: Delimiters, exchange_pairs: Pairs, tmp_path: Path
) -> None:
    pairs = _tricky(exchange_pairs)
    path = tmp_path / "r.hpr"
    write_hprim(pairs, path, delimiters=delimiters)
    head = path.read_bytes().decode("latin-1").split("\r\n", 1)[0]
    assert head.startswith("H" + delimiters.field + delimiters.encoding_chars + delimiters.field)
    items = _records(path)
    assert len(items) == len(pairs)
    for (patient, specimens), record in zip(pairs, items, strict=True):
        assert isinstance(record, SourceRecord)
        built, built_specimens = build_patient(record, patient_id=patient.id, lab_id=patient.lab_id)
        assert built == patient
        assert [s.accession for s in built_specimens] == [s.accession for s in specimens]


def test_hprim_default_is_component_tilde_repetition_caret(tmp_path: Path) -> None:
    path = tmp_path / "r.hpr"
    path.write_text(
        "H|~^\\&|R.HPR||L01~Labo||ORU|||||P|H2.2~C|202001011200\r"
        "P|1||D1||DURAND~Marie~Anne Louise||19800102|F||1 rue A~~Caen~~14000^2 rue B~~Rouen~~76000|"
        "|0231000000^0600000000\r"
        "L|1\r",
        encoding="latin-1",
    )
    (record,) = _records(path)
    assert isinstance(record, SourceRecord)
    assert record.fields["birth_name"] == "DURAND"
    assert record.fields["first_names"] == "Marie Anne Louise"
    assert record.fields["city"] == "Caen\nRouen"
    assert record.fields["phone"] == "0231000000\n0600000000"


def test_long_records_continue_in_a_records(exchange_pairs: Pairs, tmp_path: Path) -> None:
    path = tmp_path / "r.hpr"
    write_hprim(_tricky(exchange_pairs), path)
    lines = path.read_bytes().decode("latin-1").split("\r\n")
    assert max(len(line) for line in lines) <= 220
    assert any(line.startswith("A|") for line in lines)


def test_unencodable_characters_are_escaped_in_latin1(
    exchange_pairs: Pairs, tmp_path: Path
) -> None:
    path = tmp_path / "r.hpr"
    write_hprim(_tricky(exchange_pairs), path)
    text = path.read_bytes().decode("latin-1")
    assert "\\XC59F\\" in text  # ş as UTF-8 hex
    assert "ş" not in text


def test_record_problems_are_issues_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "r.hpr"
    path.write_bytes(
        b"H|~^\\&|R.HPR||L01||ORU|||||P|H2.2~C|202001011200\r\n"
        b"OBR|1||ACC1\r\n"
        b"ZZZ|what\r\n"
        b"P|1||D1||DURAND~Marie||19800102|F" + b"|" * 60 + b"\r\n"
        b"OBR|1||ACC2||||20200101120000\r\n"
        b"P|2||D2||MARTIN~Paul||19700304|M\r\n"
        b"OBX|1|NM|GLU~Glucose~L||5.2\r\n"
        b"L|1\r\n"
    )
    reader = open_source("hprim", path)
    items = list(reader)
    issues = [i for i in items if isinstance(i, SourceIssue)]
    assert [i.location for i in issues] == ["line 2 (OBR)", "line 3", "line 4 (P)"]
    assert [i.reason for i in issues] == [
        "OBR record outside a patient",
        "unknown record type",
        "69 fields, at most 36 expected",
    ]
    records = [i for i in items if isinstance(i, SourceRecord)]
    assert [r.fields["birth_name"] for r in records] == ["MARTIN"]
    assert "OBX GLU" in reader.unmapped


def test_a_file_without_h_record_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "r.hpr"
    path.write_text("P|1||D1\r\n", encoding="latin-1")
    with pytest.raises(SourceError, match="line 1: not an HPRIM file"):
        list(open_source("hprim", path))
