"""HL7 v2: INS identifiers, escapes, message grouping and issues."""

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
    write_hl7v2,
)

Pairs = list[tuple[Patient, list[Specimen]]]


def test_one_adt_then_one_oru_per_specimen(exchange_pairs: Pairs, tmp_path: Path) -> None:
    pairs = exchange_pairs[:10]
    path = tmp_path / "m.hl7"
    write_hl7v2(pairs, path)
    segments = path.read_bytes().decode("utf-8").split("\r")
    kinds = [s.split("|")[8] for s in segments if s.startswith("MSH")]
    expected = []
    for _, specimens in pairs:
        expected += ["ADT^A04^ADT_A01"] + ["ORU^R01^ORU_R01"] * len(specimens)
    assert kinds == expected
    nir_ids = [s for s in segments if s.startswith("PID") and "1.2.250.1.213.1.4.8" in s]
    assert nir_ids


def test_escaped_delimiters_and_other_delimiter_sets(exchange_pairs: Pairs, tmp_path: Path) -> None:
    patient, specimens = exchange_pairs[0]
    patient = replace(
        patient,
        birth_name="A|B^C~D\\E&F",
        clinical=Clinical(comments=("deux | ^ lignes",), pathologies=("x^y",)),
    )
    for delimiters in (Delimiters("|", "^", "~", "\\", "&"), Delimiters("#", "$", "*", "!", "%")):
        path = tmp_path / "m.hl7"
        write_hl7v2([(patient, specimens)], path, delimiters=delimiters)
        (record,) = list(open_source("hl7v2", path))
        assert isinstance(record, SourceRecord)
        built, _ = build_patient(record, patient_id=patient.id, lab_id=patient.lab_id)
        assert built == patient


@pytest.mark.parametrize(
    "oid", ["1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11"]
)
def test_nir_is_read_from_any_ins_oid(oid: str, tmp_path: Path) -> None:
    path = tmp_path / "m.hl7"
    path.write_text(
        "MSH|^~\\&|X|L01|||20200101||ADT^A08|1|P|2.5\r"
        f"PID|1||D9^^^L01^PI~255081416802538^^^ASIP&{oid}&ISO^NH||DUPONT^Anne^^^^^L||19550814|F\r"
        "NK1|1|DUPONT^Paul\r",
        encoding="utf-8",
    )
    reader = open_source("hl7v2", path)
    (record,) = list(reader)
    assert isinstance(record, SourceRecord)
    assert record.fields["nir"] == "255081416802538"
    assert record.fields["dossier"] == "D9"
    assert record.fields["lab"] == "L01"
    assert "NK1.2" in reader.unmapped


def test_issues_name_the_message_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "m.hl7"
    path.write_bytes(
        b"MSH|^~\\&|X|L01|||20200101||ADT^A04|1|P|2.5\r"
        b"PID|1||D1^^^L01^PI||DURAND^Marie^^^^^L||19800102|F\r"
        b"MSH|^~\\&|X|L01|||20200101||MDM^T02|2|P|2.5\r"
        b"PID|1||D2\r"
        b"MSH|^~\\&|X|L01|||20200101||ADT^A04|3|P|2.5\r"
        b"EVN||2020\r"
        b"MSH|^~\\&|X|L01|||20200101||ADT^A04|4|P|2.5\r"
        b"PID|1||D4^^^L01^PI||MARTIN^Paul^^^^^L||19700304|M\r"
    )
    items = list(open_source("hl7v2", path))
    issues = [(i.location, i.reason) for i in items if isinstance(i, SourceIssue)]
    assert issues == [
        ("message 2 (MSH)", "unsupported message type"),
        ("message 3 (PID)", "no PID segment"),
    ]
    names = [i.fields["birth_name"] for i in items if isinstance(i, SourceRecord)]
    assert names == ["DURAND", "MARTIN"]


def test_oru_alone_makes_a_patient_with_its_specimens(tmp_path: Path) -> None:
    path = tmp_path / "m.hl7"
    path.write_text(
        "\x0bMSH|^~\\&|X|L02|||20200101||ORU^R01|1|P|2.5\r"
        "PID|1||D1^^^L02^PI||DURAND^Marie^^^^^L||19800102|F\r"
        "OBR|1||ACC1||||20200101083000||||||||urine|10101010108^Dr X\r"
        "OBX|1|ST|882-1^ABO^LN||O-||||||F\r"
        "OBX|2|NM|2345-7^Glucose^LN||5.1\r\x1c\r"
        "MSH|^~\\&|X|L03|||20200101||ORU^R01|2|P|2.5\r"
        "PID|1||D1^^^L02^PI||DURAND^Marie^^^^^L||19800102|F\r"
        "OBR|1||ACC2||||20200102090000\r",
        encoding="utf-8",
    )
    reader = open_source("hl7v2", path)
    (record,) = list(reader)
    assert isinstance(record, SourceRecord)
    assert record.fields["blood_group"] == "O-"
    assert [s["specimen.lab"] for s in record.specimens] == ["L02", "L03"]
    assert record.specimens[0]["specimen.prescriber_rpps"] == "10101010108"
    assert "OBX 2345-7" in reader.unmapped


def test_a_file_without_msh_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "m.hl7"
    path.write_text("PID|1||D1\r" * 30, encoding="utf-8")
    with pytest.raises(SourceError, match="MSH"):
        list(open_source("hl7v2", path))
