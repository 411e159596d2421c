"""The legacy flat export: the shape of the file that leaked in 2020."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from etanche.domain import Clinical, Patient
from etanche.exchange import LEGACY_COLUMNS, legacy_csv, write_legacy_csv
from etanche.synth import SynthConfig, SynthNetwork, generate

N = 2_000


@pytest.fixture(scope="module")
def network() -> SynthNetwork:
    return generate(SynthConfig(patients=N, seed=5))


@pytest.fixture(scope="module")
def export(network: SynthNetwork, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, bytes]:
    path = tmp_path_factory.mktemp("legacy") / "export.csv"
    rows = write_legacy_csv(network, path)
    return rows, path.read_bytes()


def cp1252(text: str) -> str:
    """What survives of ``text`` in the old software's encoding."""
    return text.encode("cp1252", "replace").decode("cp1252")


def read_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("cp1252"), newline=""), delimiter=";"))


def test_file_is_cp1252_semicolons_crlf_with_french_headers(export: tuple[int, bytes]) -> None:
    rows, data = export
    assert rows == N
    text = data.decode("cp1252")  # strict: every byte is cp1252
    assert text.count("\n") == text.count("\r\n") == N + 1
    header = text.split("\r\n", 1)[0]
    assert header.split(";") == list(LEGACY_COLUMNS)
    assert LEGACY_COLUMNS[:3] == ("Code labo", "N° dossier", "Nom de naissance")
    assert LEGACY_COLUMNS[-2:] == ("Identifiant portail", "Mot de passe portail")
    parsed = read_rows(data)
    assert len(parsed) == N + 1
    assert all(len(row) == len(LEGACY_COLUMNS) for row in parsed)


def test_rows_follow_the_patient_stream(network: SynthNetwork, export: tuple[int, bytes]) -> None:
    rows = read_rows(export[1])[1:]
    col = {name: i for i, name in enumerate(LEGACY_COLUMNS)}
    for row, patient in zip(rows, network.patients(), strict=True):
        assert row[col["Code labo"]] == patient.lab_id
        assert row[col["N° dossier"]] == network.dossier_number(patient)
        assert row[col["Nom de naissance"]] == cp1252(patient.birth_name)
        assert row[col["Prénoms"]] == cp1252(" ".join(patient.first_names))
        assert row[col["NIR"]] == (patient.nir or "")
        assert row[col["Date de naissance"]] == patient.birth_date.strftime("%d/%m/%Y")
        assert re.fullmatch(r"(\d\d/\d\d/\d{4})?", row[col["Date dernière visite"]])
        phone = row[col["Téléphone"]]
        assert phone == "" or re.fullmatch(r"0[1-9]( \d\d){4}", phone)
        group = row[col["Groupe sanguin"]]
        assert group in ("", "O+", "A+", "B+", "AB+", "O-", "A-", "B-", "AB-")


def test_portal_credentials_leak_for_about_a_fifth(export: tuple[int, bytes]) -> None:
    rows = read_rows(export[1])[1:]
    logins = [row[-2] for row in rows if row[-2]]
    assert all(row[-1] for row in rows if row[-2])
    assert all(not row[-1] for row in rows if not row[-2])
    assert 0.15 < len(logins) / N < 0.25
    assert all(re.fullmatch(r"[a-z]{1,2}\d{5}", login) for login in logins)


def test_same_seed_same_bytes_other_seed_other_bytes(
    network: SynthNetwork, export: tuple[int, bytes], tmp_path: Path
) -> None:
    write_legacy_csv(network, tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == export[1]
    write_legacy_csv(generate(SynthConfig(patients=N, seed=6)), tmp_path / "other.csv")
    assert (tmp_path / "other.csv").read_bytes() != export[1]


def test_progress_reports_rows_done_after_each_batch(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(legacy_csv, "_BATCH", 400)
    seen: list[int] = []
    net = generate(SynthConfig(patients=1_000, seed=5))
    assert write_legacy_csv(net, tmp_path / "p.csv", progress=seen.append) == 1_000
    assert seen == [400, 800, 1_000]


class _Crafted(SynthNetwork):
    """A network whose first patient carries awkward text, to test quoting and encoding."""

    def patients(self) -> Iterator[Patient]:
        first = next(super().patients())
        yield replace(
            first,
            birth_name="Şahin",
            clinical=Clinical(comments=('Dit "urgent"; rappeler', "Pte enceinte 12 SA")),
        )


def test_quoting_and_replacement_of_characters_cp1252_lacks(
    network: SynthNetwork, tmp_path: Path
) -> None:
    crafted = _Crafted(config=network.config, labs=network.labs, _engine=network._engine)
    assert write_legacy_csv(crafted, tmp_path / "c.csv") == 1
    data = (tmp_path / "c.csv").read_bytes()
    row = read_rows(data)[1]
    col = {name: i for i, name in enumerate(LEGACY_COLUMNS)}
    assert row[col["Nom de naissance"]] == "?ahin"
    assert row[col["Commentaire 1"]] == 'Dit "urgent"; rappeler'
    assert row[col["Commentaire 2"]] == "Pte enceinte 12 SA"
