"""French conventions of the migration readers: IHE PAM FR for HL7 v2, FR Core for FHIR.

The samples in ``samples/`` were written by hand from the specifications (IHE
PAM France national extension, FR Core's Patient INS profile and examples), not
produced by our writers: they show what a French lab system sends.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from etanche.domain import IdentityStatus, Patient, Specimen
from etanche.exchange import SourceRecord, build_patient, open_source, write_fhir, write_hl7v2
from etanche.exchange._hl7v2 import birth_first_names, identity_status

SAMPLES = Path(__file__).parent / "samples"


def _patients(fmt: str, path: Path) -> list[tuple[SourceRecord, Patient]]:
    out = []
    for item in open_source(fmt, path):
        assert isinstance(item, SourceRecord), item
        patient, _ = build_patient(item, patient_id="p", lab_id="L01")
        out.append((item, patient))
    return out


def test_ihe_pam_fr_sample_reads_every_first_name_right() -> None:
    read = _patients("hl7v2", SAMPLES / "ihe_pam_fr_a28.hl7")
    assert [p.first_names for _, p in read] == [
        ("Hélène", "Marie"),
        ("Jean-Pierre", "Paul", "Yves"),
        ("Anne", "Sophie", "Claire"),
        ("Élise",),
        ("Jan", "Adam"),
    ]
    assert [p.birth_name for _, p in read] == [
        "MARTIN",
        "LE GALL",
        "NGUYEN",
        "BERTIN",
        "KOWALSKI",
    ]
    assert read[0][1].used_name == "DUBOIS"


def test_ihe_pam_fr_ins_identifiers_status_and_birthplace() -> None:
    read = _patients("hl7v2", SAMPLES / "ihe_pam_fr_a28.hl7")
    patients = [p for _, p in read]
    assert [p.nir for p in patients] == [
        "285037505612306",
        "174034523403434",
        "279033523898703",
        None,
        "192099935032137",  # an INS-NIA (OID 1.2.250.1.213.1.4.9)
    ]
    assert [p.identity_status for p in patients] == [
        IdentityStatus.VALIDATED,
        IdentityStatus.QUALIFIED,  # "QUAL~HOMD": the homonym attribute is no status
        IdentityStatus.PROVISIONAL,
        IdentityStatus.PROVISIONAL,  # VIDE: not yet qualified
        IdentityStatus.RECOVERED,
    ]
    assert [p.birthplace_insee for p in patients[:3]] == ["75056", "45234", "35238"]
    assert [r.fields["dossier"] for r, _ in read] == [f"IPP-04{n}" for n in range(17, 22)]


def test_fr_core_sample_reads_birth_list_given_names() -> None:
    read = _patients("fhir", SAMPLES / "fr_core_patients.json")
    patients = [p for _, p in read]
    assert [p.first_names for p in patients] == [
        ("Pierre", "Yves"),  # given "Pierre", the extension lists both
        ("Hélène", "Marie"),
        ("DOMINIQUE", "MARIE-LOUISE"),
        ("Marc", "Antoine"),  # plain R4: every given name
    ]
    assert [p.identity_status for p in patients[:2]] == [
        IdentityStatus.QUALIFIED,
        IdentityStatus.VALIDATED,
    ]
    assert [p.birthplace_insee for p in patients[:2]] == ["45234", "75056"]
    assert [p.used_name for p in patients[:2]] == ["DURAND", "DUBOIS"]


@pytest.mark.parametrize(
    ("first", "others", "expected"),
    [
        ("Hélène", "Hélène Marie", "Hélène Marie"),  # PAM FR: XPN-3 is the whole list
        ("HELENE", "Hélène  Marie", "Hélène Marie"),  # case, accents and spaces aside
        ("Anne Sophie", "Anne Sophie Claire", "Anne Sophie Claire"),
        ("Élise", "Élise", "Élise"),
        ("Jean", "Pierre", "Jean Pierre"),  # plain HL7: XPN-3 further given names
        ("Jean", "Jeanne Marie", "Jean Jeanne Marie"),  # a prefix of a word is no match
        ("Jean", "", "Jean"),
        ("", "Paul Marie", "Paul Marie"),
    ],
)
def test_birth_first_names_under_either_convention(first: str, others: str, expected: str) -> None:
    assert birth_first_names(first, others) == expected


def test_identity_status_among_pid32_repetitions() -> None:
    assert identity_status(["HOMD", "QUAL"]) == "QUAL"
    assert identity_status(["vali"]) == "VALI"
    assert identity_status(["VIDE"]) == ""
    assert identity_status(["DOUT"]) == ""
    assert identity_status(["XYZ", "PROV"]) == "PROV"
    assert identity_status(["XYZ"]) == "XYZ"  # left for validation to name


def test_plain_hl7_further_given_names_still_join(tmp_path: Path) -> None:
    path = tmp_path / "plain.hl7"
    path.write_text(
        "MSH|^~\\&|X|L01|||20200101||ADT^A04|1|P|2.5\r"
        "PID|1||D1^^^L01^PI||DURAND^Marie^Claire^^^^L||19800102|F\r",
        encoding="utf-8",
    )
    ((_, patient),) = _patients("hl7v2", path)
    assert patient.first_names == ("Marie", "Claire")


def test_our_writers_read_back_under_the_french_conventions(
    exchange_pairs: list[tuple[Patient, list[Specimen]]], tmp_path: Path
) -> None:
    several = [pair for pair in exchange_pairs if len(pair[0].first_names) > 1][:20]
    assert several
    hl7, fhir = tmp_path / "m.hl7", tmp_path / "b.json"
    write_hl7v2(several, hl7)
    write_fhir(several, fhir)
    text = hl7.read_text(encoding="utf-8")
    first = several[0][0]
    listed = " ".join(first.first_names)
    assert f"^{first.first_names[0]}^{listed}^^^^L" in text
    for fmt, path in (("hl7v2", hl7), ("fhir", fhir)):
        got = [p.first_names for _, p in _patients(fmt, path)]
        assert got == [p.first_names for p, _ in several]
