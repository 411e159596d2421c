"""``scan_paths`` on a whole labelled leak: the report of contract B, negation, persons."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _leak_corpus import Corpus

from etanche.exchange.found import _delimited
from etanche.leak.scan import CATEGORIES, render_html, scan_paths


def test_report_of_the_whole_leak(corpus: Corpus) -> None:
    roots = sorted(
        {Path(str(p).split(".zip/")[0] + ".zip") if ".zip/" in str(p) else p for p in corpus.files}
    )
    report = scan_paths(roots)
    data = report.to_dict()
    assert set(data) >= {
        "files",
        "bytes",
        "rows",
        "persons",
        "special_category",
        "categories",
        "vault_matches",
    }
    assert data["vault_matches"] is None and report.matched_patients == {}
    assert report.rows == sum(len(t.rows) for t in corpus.files.values())
    assert set(data["categories"]) <= set(CATEGORIES)
    assert {"nir", "name", "birth_date", "phone", "email", "credential", "health", "drug"} <= set(
        data["categories"]
    )
    assert report.special_category
    # every table of the leak repeats the same 240 + 120 people
    assert 300 <= report.persons <= 360
    assert "free text" in data["categories"]["health"]["columns"]
    json.dumps(data)  # JSON-able


def test_no_clear_value_in_report_or_html(corpus: Corpus) -> None:
    path = next(p for p in corpus.files if p.name == "export_utf8.csv")
    report = scan_paths([path])
    text = json.dumps(report.to_dict(), ensure_ascii=False) + render_html(report)
    table = corpus.files[path]
    for row in table.rows:
        for cell in row[:12]:  # identity, contact, credentials
            if len(cell) > 4:
                assert cell not in text
    assert not re.search(r"\b\d{13,15}\b", text)


def test_negated_mentions_are_not_health_data(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    lines = ["id;commentaire"] + [
        f"{i};{text}"
        for i, text in enumerate(
            [
                "Pas de grossesse en cours",
                "Absence de VIH",
                "Pas de diabète connu",
                "Résultats par courrier",
            ]
            * 5
        )
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = scan_paths([path])
    assert "health" not in report.to_dict()["categories"]
    assert not report.special_category
    path.write_text("\n".join([*lines, "99;Patiente enceinte de 12 SA"]) + "\n", encoding="utf-8")
    report = scan_paths([path])
    assert report.categories["health"].count == 1 and report.special_category


def test_unreadable_file_is_reported_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "image.bin").write_bytes(b"\x89PNG\0\0\0")
    (tmp_path / "a.txt").write_text("Rappeler Mme Durand au 06 12 34 56 78\n", encoding="utf-8")
    report = scan_paths([tmp_path])
    errors = [f for f in report.files if f.error]
    assert len(errors) == 1 and "binary" in (errors[0].error or "")
    assert report.categories["phone"].count == 1 and report.categories["name"].count == 1


def _nir(body: str) -> str:
    return f"{body}{97 - int(body) % 97:02d}"


def test_persons_fall_back_to_traits_where_the_nir_is_invalid(tmp_path: Path) -> None:
    a, b = _nir("1800275123456"), _nir("2750475123789")
    rows = [
        (a, "Dupont", "Jean", "01/02/1980"),
        (a, "Dupont", "Jean", "01/02/1980"),
        (b, "Martin", "Anne", "03/04/1975"),
        ("123", "Durand", "Paul", "05/06/1990"),
        ("", "Durand", "Paul", "05/06/1990"),
        ("", "Petit", "Lea", "07/08/1991"),
    ]
    lines = ["NIR;Nom de naissance;Prénoms;Date de naissance"] + [";".join(r) for r in rows]
    path = tmp_path / "extract.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = scan_paths([path])
    assert report.categories["nir"].count == 3
    assert report.persons == 4  # a, b, Durand (twice, no valid NIR), Petit


def test_comment_columns_are_counted_each_on_its_own_cells(tmp_path: Path) -> None:
    rows = [
        ("1", "Patiente enceinte", "RAS"),
        ("2", "RAS", "Patiente enceinte"),
        ("3", "Pas de VIH", "Patiente enceinte"),
        ("4", "Sous insuline", ""),
    ] * 3
    lines = ["id;Commentaire 1;Commentaire 2"] + [";".join(r) for r in rows]
    path = tmp_path / "notes.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = scan_paths([path])
    [table] = report.files
    assert table.categories["health"].count == 9  # 3 in the first column, 6 in the second
    assert table.categories["drug"].count == 3


def test_a_short_first_read_does_not_change_the_report(
    corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = sorted(
        {Path(str(p).split(".zip/")[0] + ".zip") if ".zip/" in str(p) else p for p in corpus.files}
    )
    monkeypatch.setattr(_delimited, "FIRST_CHUNK", 0)  # one read of CHUNK first
    whole = scan_paths(paths).to_dict()
    monkeypatch.setattr(_delimited, "FIRST_CHUNK", 1024)  # a short first read, joined to the next
    chunked = scan_paths(paths).to_dict()
    assert chunked["rows"] == whole["rows"] > 0
    assert chunked == whole
