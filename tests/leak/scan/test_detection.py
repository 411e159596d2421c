"""What the scan finds without help: birth dates under any header or none, headerless
names, addresses and credentials, insurance, and the NLP stage only when needed.

Files are small and generated here from etanche.synth with this module's own seed
(the benchmark's corpus, bench/_scan_corpus.py, is never read by the tests).
"""

from __future__ import annotations

import csv
import random
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from etanche.domain import Patient
from etanche.leak.scan import plan_table, render_html, role_mask, scan_paths
from etanche.synth import SynthConfig, generate

SEED = 7


@pytest.fixture(scope="module")
def patients() -> list[Patient]:
    network = generate(SynthConfig(patients=80, labs=2, seed=SEED, child_on_parent_nir=0.0))
    return [p for p in network.patients() if p.nir and p.addresses and p.phones]


def _fr(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _write(path: Path, header: list[str] | None, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="cp1252", errors="replace", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        if header:
            writer.writerow(header)
        writer.writerows(rows)
    return path


def _roles(frame: pl.DataFrame) -> dict[str, str]:
    return {r.column: r.role for r in plan_table(frame).roles}


@pytest.mark.parametrize(
    "header",
    [
        "Date naiss.",
        "Né(e) le",
        "DDN",
        "date_de_naissance",
        "DOB",
        "birthdate",
        "Date of birth",
        "dateNaissance",
        "Dt naiss",
    ],
)
def test_birth_dates_under_usual_headers(patients: list[Patient], header: str) -> None:
    frame = pl.DataFrame(
        {"Nom": [p.birth_name for p in patients], header: [_fr(p.birth_date) for p in patients]}
    )
    assert _roles(frame)[header] == "birth_date"


def test_birth_dates_without_header_by_their_age_spread(patients: list[Patient]) -> None:
    rng = random.Random(SEED)
    visits = [_fr(date(2021, rng.randrange(1, 13), rng.randrange(1, 29))) for _ in patients]
    frame = pl.DataFrame(
        {
            "column 1": [p.birth_name for p in patients],
            "column 2": visits,
            "column 3": [_fr(p.birth_date) for p in patients],
        }
    )
    roles = _roles(frame)
    assert roles["column 3"] == "birth_date"
    assert roles["column 2"] == "last_visit"  # recent dates: a visit's, not a birth


def test_birth_dates_kept_and_noted_when_the_nir_is_a_parents(
    patients: list[Patient], tmp_path: Path
) -> None:
    # every NIR shifted to the next patient's: the insured person's, not the patient's
    nirs = [p.nir or "" for p in patients]
    rows = [
        [p.birth_name, _fr(p.birth_date), nirs[(i + 1) % len(nirs)]] for i, p in enumerate(patients)
    ]
    path = _write(tmp_path / "enfants.csv", ["Nom", "DDN", "NIR"], rows)
    report = scan_paths([path])
    assert report.categories["birth_date"].count == len(patients)
    assert report.categories["nir"].count == len(patients)
    [note] = [n for n in report.notes if n.startswith("birth dates disagree with the NIR")]
    assert '"DDN"' in note and "enfants.csv" in note
    page = render_html(report)
    assert "ne concorde pas avec l&#39;année et le mois du NIR" in page
    assert "birth dates disagree" not in page


def test_headerless_names_addresses_and_credentials(
    patients: list[Patient], tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    rows = []
    for p in patients:
        a = p.addresses[0]
        password = "".join(rng.choice("abcdefXYZ0123456789") for _ in range(9)) + "aB7"
        rows.append(
            [
                p.birth_name,
                " ".join(p.first_names),
                a.line,
                a.postcode,
                a.city,
                f"{p.first_first_name[:1].lower()}{rng.randrange(10**5):05d}",
                password,
                "$2b$12$" + "".join(rng.choice("./abcdefXYZ0123456789") for _ in range(53)),
                rng.choice(["Positif", "Négatif"]),
            ]
        )
    path = _write(tmp_path / "paste.csv", None, rows)
    report = scan_paths([path])
    n = len(patients)
    assert report.categories["name"].count == 2 * n
    assert report.categories["address"].count == 3 * n
    assert report.categories["credential"].count == 3 * n
    assert set(report.categories) <= {"name", "address", "credential"}


def test_headerless_postcode_and_city_in_one_cell(patients: list[Patient]) -> None:
    frame = pl.DataFrame(
        {
            "column 1": [p.birth_name for p in patients],
            "column 2": [f"{p.addresses[0].postcode} {p.addresses[0].city}" for p in patients],
        }
    )
    assert _roles(frame) == {"column 1": "other_name", "column 2": "postcode_city"}


def test_insurance_under_headers_and_from_values(patients: list[Patient], tmp_path: Path) -> None:
    insurers = ["MGEN", "Harmonie Mutuelle", "Groupama", "MACIF", "Malakoff Humanis"]
    numbers = {name: f"{775_000_000 + i:09d}" for i, name in enumerate(insurers)}
    chosen = [insurers[i % len(insurers)] for i in range(len(patients))]
    headed = [
        [p.birth_name, "CPAM d'Ille-et-Vilaine", m, numbers[m], f"{70_000_000 + i}"]
        for i, (p, m) in enumerate(zip(patients, chosen, strict=True))
    ]
    header = ["Nom", "Caisse", "Complémentaire santé", "N° AMC", "N° adhérent"]
    report = scan_paths([_write(tmp_path / "amc.csv", header, headed)])
    assert report.categories["insurance"].count == 4 * len(patients)
    assert set(report.categories["insurance"].columns) == set(header[1:])
    # no header: the insurer's names, its 9-digit number and the régime + caisse codes
    bare = [
        [p.birth_name, "01", "351", m, numbers[m]] for p, m in zip(patients, chosen, strict=True)
    ]
    report = scan_paths([_write(tmp_path / "amc-bare.csv", None, bare)])
    assert report.categories["insurance"].count == 4 * len(patients)


def test_insurance_in_the_french_report(patients: list[Patient], tmp_path: Path) -> None:
    rows = [[p.birth_name, "MGEN"] for p in patients]
    page = render_html(scan_paths([_write(tmp_path / "m.csv", ["Nom", "Mutuelle"], rows)]))
    assert "organisme complémentaire et son numéro AMC" in page


_PROBE = """
import sys
from pathlib import Path
from etanche.leak.scan import scan_paths
from etanche.leak.scan import _nlp
for name in sys.argv[1:]:
    scan_paths([Path(name)])
    print(name, "spacy" in sys.modules, "edsnlp" in sys.modules)
print("pipelines", _nlp._pipeline.cache_info().misses)
print("vault", "etanche.vault" in sys.modules, "sqlalchemy" in sys.modules)
"""


def test_nlp_stage_only_for_free_text_with_terms_and_once_per_run(tmp_path: Path) -> None:
    plain = _write(tmp_path / "plain.csv", ["Nom", "Ville"], [["MARTIN", "Rennes"]] * 10)
    neutral = [["MARTIN", "Vient avec sa fille, préfère le matin"]] * 10
    chatty = _write(tmp_path / "neutral.csv", ["Nom", "Commentaire"], neutral)
    health = [["MARTIN", f"Enceinte de {10 + i} SA, pas de diabète"] for i in range(10)]
    first = _write(tmp_path / "health1.csv", ["Nom", "Commentaire"], health)
    second = _write(tmp_path / "health2.csv", ["Nom", "Observations"], health[::-1])
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(plain), str(chatty), str(first), str(second)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert out[0].endswith("False False") and out[1].endswith("False False")
    assert out[2].endswith("True True") and out[3].endswith("True True")
    assert out[4] == "pipelines 1"
    assert out[5] == "vault False False"


def test_etanche_scan_does_not_load_the_web_app_or_the_vault(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.csv", ["Nom", "Commentaire"], [["MARTIN", "RAS"]] * 10)
    probe = (
        "import sys\nfrom etanche.cli import main\nsys.argv = ['etanche', 'scan', sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('etanche.web', 'etanche.vault', 'fastapi', 'sqlalchemy',"
        " 'edsnlp') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(path)], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_terms_are_whole_words_at_the_original_offsets() -> None:
    from etanche.leak.scan._terms import find_terms

    text = "Sœur : hépatite B ; sous Lévothyrox, pas d'IVGx"
    [mentions] = find_terms([text])
    found = {text[a:b]: label for a, b, label in mentions}
    assert found["hépatite"] == "hepatitis"
    assert found["Lévothyrox"] == "H03AA01"
    assert not any("IVG" in word for word in found)  # "IVGx" is another word


def test_birth_dates_in_free_text_after_abbreviated_words(tmp_path: Path) -> None:
    lines = ["Date naiss. 03/04/1975, vient seule", "Date of birth: 03/04/1975, RAS"]
    path = _write(tmp_path / "notes.csv", ["commentaire"], [[x] for x in lines])
    assert scan_paths([path]).categories["birth_date"].count == 2


def test_the_prefilter_flags_the_same_texts_by_loop_or_by_polars(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Few distinct texts go through the cached automaton, many through polars: same answer."""
    from etanche.leak.scan import _terms

    texts = pl.Series(
        "t", ["enceinte de 20 sa", "vient avec sa fille", None, "sous levothyrox", "ras", ""]
    )
    looped = _terms.mentions_any(texts).to_list()
    monkeypatch.setattr(_terms, "_LOOP_MAX", 0)
    assert _terms.mentions_any(texts).to_list() == looped == [True, True, None, True, False, False]
    assert _terms._automaton() is _terms._automaton()  # built once per process


def test_role_tests_are_built_once_a_day(monkeypatch: pytest.MonkeyPatch) -> None:
    from etanche.leak.scan import _detect

    first = role_mask("birth_date", "Date de naissance", ("%d/%m/%Y",))
    assert role_mask("birth_date", "Date de naissance", ("%d/%m/%Y",)) is first

    class Tomorrow(date):
        @classmethod
        def today(cls) -> Tomorrow:
            return cls.fromordinal(date.today().toordinal() + 1)

    monkeypatch.setattr(_detect, "date", Tomorrow)
    assert role_mask("birth_date", "Date de naissance", ("%d/%m/%Y",)) is not first
