"""Found-file readers: every shape gives the same cells, streamed (contract C)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from etanche.errors import SourceError
from etanche.exchange.found import FoundTable, _delimited, read_tables

HEADER = ["Nom", "Prénom", "Téléphone", "Commentaire"]
ROWS = [
    ["Lefèvre", "Zoé", "06 12 34 56 78", "Pas de grossesse; suivi"],
    ["Œuvray", "Jean-Noël", "+33 2 41 00 00 00", 'dit "bonjour"\nsur deux lignes'],
    ["Durand", "", "", ""],
]


def _cells(table: FoundTable) -> list[list[str]]:
    return [row for batch in table.batches(2) for row in batch]


def _frame_cells(table: FoundTable) -> list[list[str]]:
    out: list[list[str]] = []
    for frame in table.frames():
        out.extend([cell or "" for cell in row] for row in frame.iter_rows())
    return out


def _write_csv(path: Path, delimiter: str, encoding: str) -> None:
    def quote(cell: str) -> str:
        needs = any(c in cell for c in (delimiter, '"', "\n"))
        return '"' + cell.replace('"', '""') + '"' if needs else cell

    lines = [delimiter.join(quote(c) for c in row) for row in [HEADER, *ROWS]]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))


@pytest.mark.parametrize(
    ("delimiter", "encoding"),
    [(";", "cp1252"), (",", "utf-8"), ("\t", "utf-8-sig"), ("|", "cp1252")],
)
def test_delimited_any_delimiter_and_encoding(
    tmp_path: Path, delimiter: str, encoding: str
) -> None:
    path = tmp_path / "leak.txt"
    _write_csv(path, delimiter, encoding)
    [table] = list(read_tables(path))
    assert table.columns == HEADER
    assert table.format == ("tsv" if delimiter == "\t" else "csv")
    assert _cells(table) == ROWS
    assert _frame_cells(table) == ROWS


def test_frames_cut_chunks_between_records_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "leak.csv"
    rows = [[f"n{i}", f'line one\nline "two" {i}', str(i)] for i in range(300)]
    text = "a;b;c\n" + "".join(
        f'{r[0]};"{r[1].replace(chr(34), chr(34) * 2)}";{r[2]}\n' for r in rows
    )
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(_delimited, "CHUNK", 97)
    [table] = list(read_tables(path))
    assert _frame_cells(table) == rows
    assert _cells(table) == rows


def test_headerless_csv_gets_numbered_columns(tmp_path: Path) -> None:
    path = tmp_path / "noheader.csv"
    path.write_text("Dupont;0612345678;a@b.fr\nMartin;0698765432;c@d.fr\n", encoding="utf-8")
    [table] = list(read_tables(path))
    assert table.columns == ["column 1", "column 2", "column 3"]
    assert len(_cells(table)) == 2


def test_xlsx_one_table_per_sheet_cells_as_text(tmp_path: Path) -> None:
    path = tmp_path / "leak.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("patients")
    for r, row in enumerate([["nom", "nir", "ddn"], ["Dupont", 185057800608436, "1985-05-07"]]):
        for c, cell in enumerate(row):
            sheet.write(r, c, cell)
    book.add_worksheet("vide")
    book.close()
    tables = list(read_tables(path))
    assert [t.name for t in tables] == [f"{path}:patients"]
    assert tables[0].columns == ["nom", "nir", "ddn"]
    assert _cells(tables[0]) == [["Dupont", "185057800608436", "1985-05-07"]]


def test_json_array_bundle_and_ndjson(tmp_path: Path) -> None:
    people = [
        {"name": {"family": "Dupont", "given": ["Anne", "Marie"]}, "phone": "0612345678"},
        {"name": {"family": "Martin"}, "mail": "m@x.fr"},
    ]
    array = tmp_path / "a.json"
    array.write_text(json.dumps(people), encoding="utf-8")
    [table] = list(read_tables(array))
    assert table.columns == ["name.family", "name.given", "phone", "mail"]
    assert _cells(table) == [
        ["Dupont", "Anne Marie", "0612345678", ""],
        ["Martin", "", "", "m@x.fr"],
    ]

    bundle = tmp_path / "b.json"
    entries = [{"resource": {"resourceType": "Patient", **p}} for p in people]
    bundle.write_text(json.dumps({"resourceType": "Bundle", "entry": entries}), encoding="utf-8")
    [table] = list(read_tables(bundle))
    assert "resourceType" in table.columns and len(_cells(table)) == 2

    ndjson = tmp_path / "c.ndjson"
    ndjson.write_text("\n".join(json.dumps(p) for p in people) + "\n", encoding="utf-8")
    [table] = list(read_tables(ndjson))
    assert table.format == "ndjson" and len(_cells(table)) == 2


def test_json_array_streamed_across_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from etanche.exchange.found import _json

    monkeypatch.setattr(_json, "_BLOCK", 50)
    items = [{"id": i, "note": "x" * (i % 70)} for i in range(200)]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(items, indent=1), encoding="utf-8")
    [table] = list(read_tables(path))
    assert [row[0] for row in _cells(table)] == [str(i) for i in range(200)]


SQL = """-- dump
CREATE TABLE `patients` (
  `id` int NOT NULL,
  `nom` varchar(50),
  `note` text,
  PRIMARY KEY (`id`)
);
INSERT INTO `patients` VALUES (1,'O''Brien','a; b'),(2,'Lefèvre',NULL);
INSERT INTO patients VALUES (3,'Dupont','dit \\'non\\'');
INSERT INTO "visites" ("patient", "quand") VALUES (1, '2020-01-02');
"""


def test_sql_dump_one_table_per_insert_target(tmp_path: Path) -> None:
    path = tmp_path / "dump.sql"
    path.write_text(SQL, encoding="utf-8")
    tables = {t.name.rsplit(":", 1)[1]: t for t in read_tables(path)}
    assert tables["patients"].columns == ["id", "nom", "note"]
    assert _cells(tables["patients"]) == [
        ["1", "O'Brien", "a; b"],
        ["2", "Lefèvre", ""],
        ["3", "Dupont", "dit 'non'"],
    ]
    assert tables["visites"].columns == ["patient", "quand"]
    assert _cells(tables["visites"]) == [["1", "2020-01-02"]]


def test_plain_text_one_column(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Patiente enceinte.\n\nRappeler demain.\n", encoding="utf-8")
    [table] = list(read_tables(path))
    assert table.columns == ["text"]
    assert _cells(table) == [["Patiente enceinte."], ["Rappeler demain."]]


def test_zip_recursive_without_extraction(tmp_path: Path) -> None:
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("deep/notes.txt", "VIH positif\n")
    csv_path = tmp_path / "x.csv"
    _write_csv(csv_path, ";", "cp1252")
    outer = tmp_path / "leak.zip"
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(csv_path, "export/x.csv")
        archive.write(inner, "inner.zip")
    before = set(tmp_path.iterdir())
    tables = list(read_tables(outer))
    assert [t.name for t in tables] == [
        f"{outer}/export/x.csv",
        f"{outer}/inner.zip/deep/notes.txt",
    ]
    assert _cells(tables[0]) == ROWS and _frame_cells(tables[0]) == ROWS
    assert _cells(tables[1]) == [["VIH positif"]]
    assert set(tmp_path.iterdir()) == before


def test_directory_walk_and_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("bonjour\n", encoding="utf-8")
    (tmp_path / "empty.csv").write_bytes(b"")
    assert [t.columns for t in read_tables(tmp_path)] == [["text"]]
    binary = tmp_path / "image.bin"
    binary.write_bytes(b"\x89PNG\0\0secret-value\0")
    with pytest.raises(SourceError) as caught:
        list(read_tables(binary))
    assert str(binary) in str(caught.value) and "secret-value" not in str(caught.value)
    with pytest.raises(SourceError):
        list(read_tables(tmp_path / "missing.csv"))


def test_malformed_json_names_the_line_not_the_value(tmp_path: Path) -> None:
    path = tmp_path / "bad.ndjson"
    path.write_text('{"nom": "Dupont"}\n{"nom": "Secretvalue"\n', encoding="utf-8")
    with pytest.raises(SourceError, match="line 2") as caught:
        for table in read_tables(path):
            _cells(table)
    assert "Secretvalue" not in str(caught.value)
