"""Found files streamed whatever their wrapping: compressed, nested, deep or wide."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import zipfile
from pathlib import Path

import pytest

from etanche.errors import SourceError
from etanche.exchange.found import FoundTable, read_tables
from etanche.exchange.found._delimited import _data_like

CSV = "nom;prénom;téléphone\r\nDupont;Zoé;06 12 34 56 78\r\nMartin;Léa;06 98 76 54 32\r\n"
ROWS = [["Dupont", "Zoé", "06 12 34 56 78"], ["Martin", "Léa", "06 98 76 54 32"]]


def _cells(table: FoundTable) -> list[list[str]]:
    return [row for batch in table.batches(1_000) for row in batch]


@pytest.mark.parametrize(
    ("suffix", "compress"),
    [(".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress)],
)
def test_compressed_files_are_read_as_they_decompress(
    tmp_path: Path, suffix: str, compress: object
) -> None:
    path = tmp_path / f"fuite.csv{suffix}"
    path.write_bytes(compress(CSV.encode("utf-8")))  # type: ignore[operator]
    (table,) = read_tables(path)
    assert table.name == f"{path}/fuite.csv" and table.format == "csv"
    assert table.columns == ["nom", "prénom", "téléphone"] and _cells(table) == ROWS


def test_gzip_inside_a_zip_and_a_gzipped_dump(tmp_path: Path) -> None:
    archive = tmp_path / "fuite.zip"
    dump = b"INSERT INTO `p` (`nom`, `tel`) VALUES ('Dupont','0612345678'),('Martin','x');\n"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("a/p.csv.gz", gzip.compress(CSV.encode("cp1252")))
        out.writestr("b/dump.sql.gz", gzip.compress(dump))
    tables = {t.name: t for t in read_tables(archive)}
    assert _cells(tables[f"{archive}/a/p.csv.gz/p.csv"]) == ROWS
    assert _cells(tables[f"{archive}/b/dump.sql.gz/dump.sql:p"]) == [
        ["Dupont", "0612345678"],
        ["Martin", "x"],
    ]


def test_a_corrupt_compressed_stream_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(gzip.compress(CSV.encode() * 200)[:60])
    with pytest.raises(SourceError, match="corrupt or truncated") as caught:
        for table in read_tables(path):
            _cells(table)
    assert "Dupont" not in str(caught.value)


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_a_key_first_seen_at_record_10000_is_a_column(tmp_path: Path, fmt: str) -> None:
    records: list[dict[str, object]] = [{"id": i, "nom": f"N{i}"} for i in range(12_000)]
    records[10_000]["nir"] = "285037505612306"
    path = tmp_path / f"export.{fmt}"
    if fmt == "json":
        path.write_text(json.dumps(records), encoding="utf-8")
    else:
        path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    (table,) = read_tables(path)
    assert table.format == fmt and table.columns == ["id", "nom", "nir"]
    rows = _cells(table)
    assert rows[10_000] == ["10000", "N10000", "285037505612306"] and rows[9_999][2] == ""


def test_ndjson_with_a_first_line_longer_than_the_sniffed_head(tmp_path: Path) -> None:
    path = tmp_path / "long.json"
    lines = [json.dumps({"nom": "x" * 100_000}), json.dumps({"nom": "Dupont", "tel": "06"})]
    path.write_text("\n".join(lines), encoding="utf-8")
    (table,) = read_tables(path)
    assert table.columns == ["nom", "tel"] and _cells(table)[1] == ["Dupont", "06"]


def test_json_nested_too_deep_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" + '{"a":' * 50_000 + '"Secretvalue"' + "}" * 50_000 + "]")
    with pytest.raises(SourceError, match="nested too deep") as caught:
        for table in read_tables(path):
            _cells(table)
    assert "Secretvalue" not in str(caught.value)


def test_deep_but_decodable_json_flattens_without_recursion(tmp_path: Path) -> None:
    path = tmp_path / "deep.ndjson"
    deep = '{"a":' * 900 + '"Dupont"' + "}" * 900
    path.write_text(deep + "\n" + deep + "\n", encoding="utf-8")
    (table,) = read_tables(path)
    assert len(table.columns) == 1 and _cells(table) == [["Dupont"], ["Dupont"]]


def test_header_cell_tests_are_linear() -> None:
    # The regular expression these replace took minutes on a 60,000-character cell.
    assert not _data_like("1" + " " * 2_000_000 + "x")
    assert _data_like(" 06 12 34 56 78 ") and _data_like("a@b.fr") and _data_like("x1975")
    assert not _data_like("Date de naissance") and not _data_like("")


def test_large_workbooks_are_streamed_with_the_same_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime

    import xlsxwriter

    from etanche.exchange.found import _xlsx

    path = tmp_path / "fuite.xlsx"
    book = xlsxwriter.Workbook(str(path))
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    first = book.add_worksheet("Patients")
    first.write_row(0, 0, ["Nom", "Naissance", "Dossier", "Taux"])
    first.write_row(1, 0, ["Dupont", "", 12345, 0.5])
    first.write_datetime(1, 1, datetime.datetime(1985, 3, 12), dates)
    first.write_row(3, 0, ["Martin", "", 7, True])
    second = book.add_worksheet("Vide")
    second.write(0, 0, "")
    third = book.add_worksheet("Notes")
    third.write_row(0, 0, ["texte"])
    third.write_row(1, 0, ["Zoé"])
    book.close()

    def read() -> dict[str, tuple[list[str], list[list[str]]]]:
        return {t.name: (t.columns, _cells(t)) for t in read_tables(path)}

    whole = read()
    monkeypatch.setattr(_xlsx, "STREAM_ABOVE", 0)
    streamed = read()
    assert streamed == whole
    assert whole[f"{path}:Patients"][1] == [
        ["Dupont", "1985-03-12", "12345", "0.5"],
        ["Martin", "", "7", "TRUE"],
    ]


def test_seven_zip_members_are_read_through_a_pipe(tmp_path: Path) -> None:
    import py7zr

    archive = tmp_path / "fuite.7z"
    big = "nom;tel\n" + "Dupont;0612345678\n" * 50_000
    with py7zr.SevenZipFile(archive, "w") as out:
        out.writestr(CSV.encode("cp1252"), "export/p.csv")
        out.writestr(gzip.compress(big.encode()), "export/big.csv.gz")
    tables = {t.name: t for t in read_tables(archive)}
    assert _cells(tables[f"{archive}/export/p.csv"]) == ROWS
    rows = _cells(tables[f"{archive}/export/big.csv.gz/big.csv"])
    assert len(rows) == 50_000 and rows[-1] == ["Dupont", "0612345678"]
    batches = tables[f"{archive}/export/big.csv.gz/big.csv"].batches(10)
    next(batches)
    batches.close()  # stopping early stops the extracting thread


def test_a_damaged_seven_zip_is_one_clear_error(tmp_path: Path) -> None:
    import py7zr

    archive = tmp_path / "fuite.7z"
    with py7zr.SevenZipFile(archive, "w") as out:
        out.writestr(b"Secretvalue;x\n" * 1000, "p.csv")
    archive.write_bytes(archive.read_bytes()[:100])
    with pytest.raises(SourceError, match="7z") as caught:
        for table in read_tables(archive):
            _cells(table)
    assert "Secretvalue" not in str(caught.value)
