"""CSV sources: the legacy export, mapped CSVs, encodings, credentials, issues."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from etanche.domain import Clinical, Patient, Specimen
from etanche.errors import ConfigError, SourceError
from etanche.exchange import (
    LEGACY_COLUMNS,
    SourceIssue,
    SourceRecord,
    build_patient,
    open_source,
    write_legacy_csv,
)
from etanche.synth import SynthNetwork

Pairs = list[tuple[Patient, list[Specimen]]]


def _cp1252(text: str | None) -> str | None:
    return None if text is None else text.encode("cp1252", "replace").decode("cp1252")


def _legacy_view(p: Patient) -> Patient:
    """What the flat legacy export keeps of a patient."""
    address = p.addresses[0] if p.addresses else None
    physician = p.physician
    return replace(
        p,
        birth_name=_cp1252(p.birth_name) or "",
        used_name=_cp1252(p.used_name),
        first_names=tuple((_cp1252(" ".join(p.first_names)) or "").split()),
        addresses=(
            replace(address, line=_cp1252(address.line) or "", city=_cp1252(address.city) or ""),
        )
        if address
        else (),
        phones=p.phones[:1],
        emails=p.emails[:1],
        physician=replace(physician, name=_cp1252(physician.name) or "") if physician else None,
        insurance=replace(p.insurance, amc_name=_cp1252(p.insurance.amc_name))
        if p.insurance
        else None,
        clinical=Clinical(
            blood_group=p.clinical.blood_group,
            comments=tuple(_cp1252(c) or "" for c in p.clinical.comments[:2]),
        ),
    )


def test_legacy_export_reads_back_into_the_same_patients(
    exchange_network: SynthNetwork, exchange_pairs: Pairs, tmp_path: Path
) -> None:
    path = tmp_path / "legacy.csv"
    write_legacy_csv(exchange_network, path)
    reader = open_source("legacy-csv", path)
    assert reader.format == "legacy-csv"
    assert reader.columns == LEGACY_COLUMNS
    assert reader.refused == ("Identifiant portail", "Mot de passe portail")
    assert reader.unmapped == ()
    items = list(reader)
    assert all(isinstance(i, SourceRecord) for i in items)
    assert len(items) == len(exchange_pairs)
    for (patient, _), record in zip(exchange_pairs, items, strict=True):
        assert isinstance(record, SourceRecord)
        built, specimens = build_patient(record, patient_id=patient.id, lab_id=patient.lab_id)
        assert built == _legacy_view(patient)
        assert specimens == []


def test_portal_credentials_never_reach_a_record(
    exchange_network: SynthNetwork, tmp_path: Path
) -> None:
    path = tmp_path / "legacy.csv"
    write_legacy_csv(exchange_network, path)
    secrets = set()
    with path.open(encoding="cp1252") as handle:
        for line in list(handle)[1:]:
            cells = line.rstrip("\r\n").split(";")
            secrets.update(c for c in cells[-2:] if c)
    assert secrets
    for record in open_source("legacy-csv", path):
        assert isinstance(record, SourceRecord)
        assert not secrets & set(record.fields.values())


def _small_csv(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


HEADER = "Nom de naissance;Prénoms;Sexe;Date de naissance;Ville\r\n"
ROW = "Lefèvre;Zoé Anaïs;F;01/02/1990;Besançon\r\n"


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("cp1252", "cp1252"), ("latin-1", "cp1252"), ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig")],
)
def test_encodings_are_detected(encoding: str, detected: str, tmp_path: Path) -> None:
    path = _small_csv(tmp_path / "x.csv", HEADER + ROW, encoding)
    reader = open_source("legacy-csv", path)
    records = list(reader)
    assert reader.encoding == detected  # type: ignore[attr-defined]
    assert reader.columns[0] == "Nom de naissance"
    assert isinstance(records[0], SourceRecord)
    assert records[0].fields == {
        "birth_name": "Lefèvre",
        "first_names": "Zoé Anaïs",
        "sex": "F",
        "birth_date": "1990-02-01",
        "city": "Besançon",
    }


def test_cp1252_only_characters_decide_for_cp1252(tmp_path: Path) -> None:
    path = _small_csv(tmp_path / "x.csv", HEADER + "Œuvray;Noël;M;01/02/1990;Cœuvres\r\n", "cp1252")
    reader = open_source("legacy-csv", path)
    record = next(iter(reader))
    assert isinstance(record, SourceRecord)
    assert record.fields["birth_name"] == "Œuvray"


def test_latin1_bytes_undefined_in_cp1252_decide_for_latin1(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes((HEADER + ROW).encode("latin-1") + b"Ab\x81c;Jean;M;01/02/1990;X\r\n")
    reader = open_source("legacy-csv", path)
    records = list(reader)
    assert reader.encoding == "latin-1"  # type: ignore[attr-defined]
    assert len(records) == 2


def test_ascii_start_then_cp1252_later_switches_encoding(tmp_path: Path) -> None:
    body = "Martin;Jean;M;01/02/1990;Paris\r\n" * 60_000
    path = _small_csv(tmp_path / "x.csv", HEADER + body + ROW, "cp1252")
    records = list(open_source("legacy-csv", path))
    assert len(records) == 60_001
    last = records[-1]
    assert isinstance(last, SourceRecord)
    assert last.fields["birth_name"] == "Lefèvre"


def test_a_line_that_does_not_decode_is_an_issue_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    text = (HEADER + ROW).encode("utf-8") + b"Bad\xff\xfe;Jean;M;01/02/1990;X\r\n" + ROW.encode()
    path.write_bytes(text)
    items = list(open_source("legacy-csv", path, encoding="utf-8"))
    assert [type(i).__name__ for i in items] == ["SourceRecord", "SourceIssue", "SourceRecord"]
    issue = items[1]
    assert isinstance(issue, SourceIssue)
    assert issue.location == "line 3"
    assert "utf-8" in issue.reason
    assert "Bad" not in str(issue)


def test_wrong_field_count_names_the_line(tmp_path: Path) -> None:
    path = _small_csv(tmp_path / "x.csv", HEADER + ROW + "Durand;Paul\r\n" + ROW, "utf-8")
    items = list(open_source("legacy-csv", path))
    issue = items[1]
    assert isinstance(issue, SourceIssue)
    assert issue.location == "line 3"
    assert issue.reason == "2 fields instead of 5"
    assert "Durand" not in repr(issue)
    assert isinstance(items[2], SourceRecord)


def test_mapped_csv_any_delimiter_and_credentials_refused_even_when_mapped(
    tmp_path: Path,
) -> None:
    text = (
        "surname,given,dob,gender,user_login,Password,api token,remarks,shoe size\r\n"
        'Martin,Jean,1970-03-04,M,jm001,s3cret!,tok-123,"a\nb",42\r\n'
    )
    path = _small_csv(tmp_path / "x.csv", text, "utf-8")
    mapping = {
        "surname": "birth_name",
        "given": "first_names",
        "dob": "birth_date",
        "gender": "sex",
        "user_login": "comments",
        "Password": "comments",
        "api token": "pathologies",
        "remarks": "comments",
    }
    reader = open_source("csv", path, mapping=mapping)
    assert reader.refused == ("user_login", "Password", "api token")
    assert reader.unmapped == ("shoe size",)
    record = next(iter(reader))
    assert isinstance(record, SourceRecord)
    assert record.fields == {
        "birth_name": "Martin",
        "first_names": "Jean",
        "birth_date": "1970-03-04",
        "sex": "M",
        "comments": "a\nb",
    }


def test_a_mapping_to_an_unknown_field_is_a_config_error(tmp_path: Path) -> None:
    path = _small_csv(tmp_path / "x.csv", HEADER + ROW, "utf-8")
    with pytest.raises(ConfigError, match="unknown canonical field"):
        open_source("csv", path, mapping={"Sexe": "gender"})


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty file"), (b"foo;bar\r\n1;2\r\n", "no column maps")],
)
def test_unreadable_files_raise_source_error(content: bytes, reason: str, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=reason):
        open_source("legacy-csv", path)


def test_missing_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot be read"):
        open_source("csv", tmp_path / "absent.csv")
