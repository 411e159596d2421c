"""The encoding of a found file: no guesser when its 8-bit bytes read the same in Latin-1.

And a leaked file is found whatever its encoding (cp1252, Latin-1, UTF-8), with or
without header row.
"""

from __future__ import annotations

from pathlib import Path

import charset_normalizer
import pytest

from etanche.exchange.found._source import detect_encoding
from etanche.leak.scan import scan_paths
from etanche.synth import SynthConfig, generate

TEXT = "Nom;Prénom;Ville\nLefèvre;Zoé;Saint-Lô\nN° 12;Çà;Île-Tudy\n"


def test_latin1_letters_and_signs_are_cp1252_without_the_guesser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(data: bytes) -> None:
        raise AssertionError("the guesser was asked")

    monkeypatch.setattr(charset_normalizer, "from_bytes", refuse)
    assert detect_encoding(TEXT.encode("cp1252")) == "cp1252"
    assert detect_encoding(TEXT.encode("latin-1")) == "cp1252"


def test_a_byte_of_cp1252_only_still_asks_the_guesser(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[bytes] = []
    real = charset_normalizer.from_bytes

    def spy(data: bytes) -> charset_normalizer.CharsetMatches:
        asked.append(data)
        return real(data)

    monkeypatch.setattr(charset_normalizer, "from_bytes", spy)
    assert detect_encoding((TEXT + "l’œuf\n").encode("cp1252")) == "cp1252"
    assert len(asked) == 1
    assert detect_encoding(TEXT.encode()) == "utf-8" and len(asked) == 1


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1", "utf-8"])
@pytest.mark.parametrize("header", [True, False])
def test_a_leaked_file_is_found_in_any_usual_encoding(
    tmp_path: Path, encoding: str, header: bool
) -> None:
    network = generate(SynthConfig(patients=60, labs=1, seed=11))
    lines = ["NIR;Nom de naissance;Prénoms;Date de naissance;Ville"] if header else []
    patients = [p for p in network.patients() if p.nir][:40]
    for p in patients:
        born = p.birth_date.strftime("%d/%m/%Y")
        lines.append(f"{p.nir};{p.birth_name};{p.first_names[0]};{born};Saint-Brieuc")
    path = tmp_path / "fuite.csv"
    path.write_bytes("\n".join(lines).encode(encoding, "replace"))
    report = scan_paths([path])
    assert report.categories["nir"].count == len(patients)
    assert report.categories["name"].count >= len(patients)
    assert report.persons == len(patients)
