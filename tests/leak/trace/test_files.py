"""Leaks in the shapes they are found in: CSV, XLSX, JSON, re-encoded, FHIR, SQL."""

from __future__ import annotations

import csv
import json
import random
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from _tracedrill import COLUMNS, Ground

from etanche.leak.trace import map_columns
from etanche.leak.trace._files import FileTrace, trace_file
from etanche.leak.trace._ledger import LedgerEntry


def entries(ground: Ground) -> list[LedgerEntry]:
    now = datetime.now(UTC)
    return [
        LedgerEntry(m.export_id, m.recipient, "test", "L01", "csv", now, None, m.mark,
                    tuple(sorted(m.rows)), ())
        for m in ground.exports
    ]  # fmt: skip


def leaked_rows(ground: Ground, n: int = 25) -> tuple[str, list[dict[str, str]]]:
    source = ground.exports[37]
    rows = [r for _, r in ground.rendered(source)]
    keep = sorted(random.Random(9).sample(range(len(rows)), n))
    return source.export_id, [rows[i] for i in keep]


def traced(ground: Ground, path: Path) -> FileTrace:
    return trace_file(path, entries(ground), identifier=ground.identifier)


def write_csv(path: Path, rows: list[dict[str, str]], *, encoding: str = "utf-8",
              delimiter: str = ",") -> None:  # fmt: skip
    with path.open("w", encoding=encoding, errors="replace", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(COLUMNS)
        writer.writerows([r.get(c, "") for c in COLUMNS] for r in rows)


def test_csv_to_xlsx_to_json(ground: Ground, tmp_path: Path) -> None:
    source, rows = leaked_rows(ground)
    write_csv(tmp_path / "a.csv", rows, delimiter=";")
    with (tmp_path / "a.csv").open(encoding="utf-8", newline="") as handle:
        cells = list(csv.reader(handle, delimiter=";"))
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for line in cells:
        sheet.append(line)
    book.save(tmp_path / "b.xlsx")
    back = openpyxl.load_workbook(tmp_path / "b.xlsx", read_only=True)
    values = [[str(v) if v is not None else "" for v in r] for r in back.worksheets[0].values]
    header, body = values[0], values[1:]
    (tmp_path / "c.json").write_text(
        json.dumps([dict(zip(header, r, strict=True)) for r in body], ensure_ascii=False),
        encoding="utf-8",
    )
    for name in ("a.csv", "b.xlsx", "c.json"):
        result = traced(ground, tmp_path / name).result
        assert [s.export_id for s in result.sources] == [source], name


def test_re_encoded_to_windows_1252(ground: Ground, tmp_path: Path) -> None:
    """NFD letters do not survive cp1252 ('?'): those marks are lost, the others remain."""
    source, rows = leaked_rows(ground)
    write_csv(tmp_path / "a.csv", rows, encoding="cp1252")
    result = traced(ground, tmp_path / "a.csv").result
    assert [s.export_id for s in result.sources] == [source]


def test_fhir_ndjson_and_sql_dump(ground: Ground, tmp_path: Path) -> None:
    source, rows = leaked_rows(ground, 30)
    lines = []
    for r in rows:
        resource = {
            "resourceType": "Patient",
            "name": [{"family": r["birth_name"], "given": r["first_names"].split()}],
            "birthDate": r["birth_date"],
            "telecom": [
                {"system": "phone" if "@" not in v else "email", "value": v}
                for v in (r.get("phone", "") + "\n" + r.get("email", "")).split("\n")
                if v
            ],
        }
        lines.append(json.dumps(resource, ensure_ascii=False))
    (tmp_path / "a.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = traced(ground, tmp_path / "a.ndjson").result
    assert [s.export_id for s in result.sources] == [source]
    inserts = [
        "INSERT INTO patients (nom, prenom, ddn, tel) VALUES ("
        + ", ".join("'" + r.get(c, "").replace("'", "''").replace("\n", " ") + "'"
                    for c in ("birth_name", "first_names", "birth_date", "phone"))
        + ");"
        for r in rows
    ]  # fmt: skip
    (tmp_path / "dump.sql").write_text("\n".join(inserts) + "\n", encoding="utf-8")
    result = traced(ground, tmp_path / "dump.sql").result
    assert [s.export_id for s in result.sources] == [source]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Nom de naissance", "birth_name"), ("NOM", "birth_name"), ("name.family", "birth_name"),
        ("Prénom(s)", "first_names"), ("name.given", "first_names"),
        ("Date de naissance", "birth_date"), ("birthDate", "birth_date"), ("DDN", "birth_date"),
        ("Nom d'usage", "used_name"), ("N° Sécurité sociale", "nir"), ("Téléphone", "phone"),
        ("telecom.value", "phone"), ("E-mail", "email"), ("Ville", "city"),
        ("address.city", "city"), ("Adresse", "address_line"), ("address.line", "address_line"),
        ("Lieu de naissance", "birthplace_insee"),
    ],
)  # fmt: skip
def test_headers_map_to_fields(header: str, field: str) -> None:
    assert map_columns([header]) == {0: field}
