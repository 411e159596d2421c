"""Every reader takes time linear in its input, on inputs built to make it backtrack.

Pathological shapes: an unquoted run across block boundaries, a long line
without delimiters, deeply nested JSON, a huge single cell. Each reader reads
256 KiB then 512 KiB of it; doubling the input may cost at most ~2.5 times the
time (median of three runs, the machine is shared; the pair is measured again, up to
three times, when a load spike breaks the bound). Large inputs (1 to 50 MB)
are for ``bench/fuzz_readers.py --large``, never for the suite.
"""

from __future__ import annotations

import gc
import gzip
import io
import json
import statistics
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import xlsxwriter

from etanche.errors import EtancheError
from etanche.exchange import open_source
from etanche.exchange.found import read_tables

pytestmark = pytest.mark.slow  # queued first (tests/conftest.py)

SMALL = 256 * 1024
ATTEMPTS = 3
Make = Callable[[int], bytes]


def _found(path: Path) -> None:
    for table in read_tables(path):
        for _ in table.batches(10_000):
            pass


def _migration(fmt: str) -> Callable[[Path], None]:
    def read(path: Path) -> None:
        try:
            for _ in open_source(fmt, path):
                pass
        except EtancheError:
            pass

    return read


def _run(size: int) -> bytes:
    return b"9" * size


def _csv_cell(size: int) -> bytes:
    """A header cell of digits and spaces (once cubic), then a huge unquoted cell."""
    half = size // 2
    header = b"nom;" + b"1" + b" " * half + b"x;tel\r\n"
    return header + b"Dupont;" + b"a" * (size - len(header)) + b";06\r\n"


def _text_line(size: int) -> bytes:
    return b"Dupont Zo\xc3\xa9 " + b"x" * size + b"\n"


def _json_deep(size: int) -> bytes:
    one = ('{"a":' * 100 + '"Dupont"' + "}" * 100).encode()
    count = max(1, size // (len(one) + 1))
    return b"[" + b",".join([one] * count) + b"]"


def _ndjson_cell(size: int) -> bytes:
    return json.dumps({"nom": "Dupont", "note": "x" * size}).encode() + b"\n{}\n"


def _sql_run(size: int) -> bytes:
    return b"INSERT INTO `t` VALUES (1, " + _run(size) + b", 'fin');\n"


def _zip_of(make: Make, name: str) -> Make:
    def build(size: int) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name, make(size))
        return out.getvalue()

    return build


def _gzip_of(make: Make) -> Make:
    return lambda size: gzip.compress(make(size), compresslevel=1)


def _seven_zip_of(make: Make, name: str) -> Make:
    def build(size: int) -> bytes:
        import py7zr

        out = io.BytesIO()
        with py7zr.SevenZipFile(out, "w") as archive:
            archive.writestr(make(size), name)
        return out.getvalue()

    return build


def _xlsx_cells(size: int) -> bytes:
    """Rows of the largest cells a sheet holds (32,767 characters each)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["nom", "note"])
    cell = "x" * 32_000
    for row in range(1, size // 32_000 + 1):
        sheet.write_row(row, 0, ["Dupont", cell])
    book.close()
    return out.getvalue()


def _legacy_line(size: int) -> bytes:
    header = b"Code labo;N\xb0 dossier;Nom de naissance;Pr\xe9noms\r\n"
    return header + b"L01;D1;" + b"A" * size + b";Zo\xe9\r\n"


def _hprim_line(size: int) -> bytes:
    return b"H|~^\\&|||\r\nP|1||D1|" + b"A" * size + b"\r\nL|1\r\n"


def _hl7_segment(size: int) -> bytes:
    head = b"MSH|^~\\&|X|L01|||20200101||ADT^A04|1|P|2.5\r"
    return head + b"PID|1||D1^^^L01^PI||DURAND" + b"A" * size + b"^Marie^^^^^L||19800102|F\r"


def _fhir_deep(size: int) -> bytes:
    one = ('{"resourceType":"Patient","id":"p","x":' + "[" * 200 + "1" + "]" * 200 + "}").encode()
    return b"\n".join([one] * max(1, size // (len(one) + 1))) + b"\n"


CASES: dict[str, tuple[str, Make, Callable[[Path], None]]] = {
    "found csv": ("x.csv", _csv_cell, _found),
    "found text": ("x.txt", _text_line, _found),
    "found json": ("x.json", _json_deep, _found),
    "found ndjson": ("x.ndjson", _ndjson_cell, _found),
    "found sql": ("x.sql", _sql_run, _found),
    "found zip": ("x.zip", _zip_of(_sql_run, "d.sql"), _found),
    "found gz": ("x.csv.gz", _gzip_of(_csv_cell), _found),
    "found 7z": ("x.7z", _seven_zip_of(_csv_cell, "p.csv"), _found),
    "found xlsx": ("x.xlsx", _xlsx_cells, _found),
    "legacy-csv": ("x.csv", _legacy_line, _migration("legacy-csv")),
    "hprim": ("x.hpr", _hprim_line, _migration("hprim")),
    "hl7v2": ("x.hl7", _hl7_segment, _migration("hl7v2")),
    "fhir": ("x.ndjson", _fhir_deep, _migration("fhir")),
}


def _median_time(read: Callable[[Path], None], path: Path) -> float:
    times = []
    for _ in range(3):
        gc.collect()
        began = time.perf_counter()
        read(path)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


@pytest.mark.parametrize("reader", sorted(CASES))
def test_doubling_the_input_at_most_doubles_the_time(tmp_path: Path, reader: str) -> None:
    name, make, read = CASES[reader]
    small, large = tmp_path / f"small-{name}", tmp_path / f"large-{name}"
    small.write_bytes(make(SMALL))
    large.write_bytes(make(2 * SMALL))
    read(small)  # warm up imports and caches
    seen = []
    for _ in range(ATTEMPTS):  # a load spike can hit one pair; a superlinear reader fails all
        t_small = _median_time(read, small)
        t_large = _median_time(read, large)
        seen.append((round(t_small, 3), round(t_large, 3)))
        if t_large <= 2.5 * t_small + 0.03:
            return
    raise AssertionError(f"{reader}: 256 KiB vs 512 KiB took {seen} s")
