"""build_patient / patient_fields: formats parsed, clear errors without values."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from etanche.domain import Patient, Specimen
from etanche.errors import ValidationErrors
from etanche.exchange import FIELDS, SourceRecord, build_patient, patient_fields
from etanche.exchange._convert import to_e164


def test_patient_fields_inverts_build_patient(
    exchange_pairs: list[tuple[Patient, list[Specimen]]],
) -> None:
    for patient, specimens in exchange_pairs[:100]:
        record = patient_fields(patient, specimens)
        assert record.location == f"patient {patient.id}"
        assert set(record.fields) <= set(FIELDS)
        assert all(record.fields.values())
        built, built_specimens = build_patient(record, patient_id=patient.id, lab_id=patient.lab_id)
        assert built == patient
        assert [s.accession for s in built_specimens] == [s.accession for s in specimens]


def test_errors_name_record_and_fields_never_values() -> None:
    record = SourceRecord(
        "line 7",
        {
            "birth_name": "Secretname",
            "sex": "Z",
            "birth_date": "31/02/1990",
            "blood_group": "C+",
            "pregnant": "maybe",
            "identity_status": "SURE",
            "treatments": "Warfarine",
        },
        ({"specimen.accession": "A1", "specimen.collected_at": "yesterday"},),
    )
    with pytest.raises(ValidationErrors) as caught:
        build_patient(record, patient_id="p1", lab_id="L01")
    fields = [e.field for e in caught.value.errors]
    assert fields == [
        "first_names",
        "sex",
        "birth_date",
        "identity_status",
        "blood_group",
        "pregnant",
        "treatments[0]",
        "specimens[0].collected_at",
    ]
    assert all(e.record == "line 7" for e in caught.value.errors)
    message = str(caught.value)
    for value in ("Secretname", "31/02/1990", "C+", "maybe", "Warfarine", "yesterday"):
        assert value not in message


def test_usual_writings_are_understood() -> None:
    record = SourceRecord(
        "line 2",
        {
            "birth_name": "Durand",
            "first_names": "Léa  Marie",
            "sex": "f",
            "birth_date": "19900102",
            "last_visit": "02/03/2020",
            "phone": "06 12 34 56 78\n+44 20 7946 0958\n0033 6 11 22 33 44",
            "blood_group": "O positif",
            "pregnant": "oui",
            "nir": "2 90 01 75 123 456 78",
        },
        ({"specimen.accession": "A1", "specimen.collected_at": "20200303081500"},),
    )
    patient, (specimen,) = build_patient(record, patient_id="p1", lab_id="L01")
    assert patient.first_names == ("Léa", "Marie")
    assert patient.birth_date == date(1990, 1, 2)
    assert patient.last_visit == date(2020, 3, 2)
    assert patient.phones == ("+33612345678", "+442079460958", "+33611223344")
    assert str(patient.clinical.blood_group) == "O+"
    assert patient.clinical.pregnant is True
    assert patient.nir == "290017512345678"
    assert specimen.collected_at == datetime(2020, 3, 3, 8, 15)
    assert specimen.lab_id == "L01"


@pytest.mark.parametrize(("text", "e164"), [("01.23.45.67.89", "+33123456789"), ("n/a", "n/a")])
def test_to_e164_leaves_what_it_does_not_know(text: str, e164: str) -> None:
    assert to_e164(text) == e164


def test_free_text_fields_are_flagged() -> None:
    assert {n for n, spec in FIELDS.items() if spec.free_text} == {"comments", "pathologies"}
    assert FIELDS["blood_group"].compartment == "clinical"
    assert FIELDS["nir"].compartment == "admin"
