"""Large generated inputs (1 to 50 MB) for every reader, read in a fresh process each.

Each input is a real export of synthetic patients (our writers, repeated to the
size) with a pathological tail: a 1 MB run without any delimiter or quote where
the format allows one. Each (reader, size) is read to the end in its own forked
process, which reports its time and the growth of its peak resident memory.
"""

from __future__ import annotations

import gzip
import io
import json
import resource
import tempfile
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from etanche.errors import EtancheError
from etanche.exchange import open_source, write_fhir, write_hl7v2, write_hprim, write_legacy_csv
from etanche.synth import SynthConfig, generate

RUN = b"9" * 1_000_000  # the pathological run: one million characters, no delimiter
BATCH_ROWS = 5_000  # rows handed over at a time: with the readers' blocks, what bounds memory
XLSX_MAX_MB = 2  # XLSX generation and openpyxl are slow: larger sizes are skipped
_ROWS_PER_XLSX_MB = 22_000


def _bases(folder: Path) -> dict[str, bytes]:
    """One synthetic export per format (300 patients), the unit repeated to size."""
    network = generate(SynthConfig(patients=300, labs=3, seed=97))
    out: dict[str, bytes] = {}
    for name, write in (
        ("legacy.csv", lambda p: write_legacy_csv(network, p)),
        ("m.hpr", lambda p: write_hprim(network, p)),
        ("m.hl7", lambda p: write_hl7v2(network, p)),
        ("m.ndjson", lambda p: write_fhir(network, p, ndjson=True)),
    ):
        path = folder / name
        write(path)
        out[name] = path.read_bytes()
    return out


def _repeat(head: bytes, body: bytes, tail: bytes, size: int) -> bytes:
    count = max(1, (size - len(head) - len(tail)) // max(1, len(body)))
    return head + body * count + tail


def _sized(bases: dict[str, bytes], reader: str, size: int) -> bytes:
    csv = bases["legacy.csv"]
    header, _, rows = csv.partition(b"\r\n")
    header += b"\r\n"
    ndjson = bases["m.ndjson"]
    if reader in ("found csv", "legacy-csv", "found zip", "found gz", "found 7z"):
        data = _repeat(header, rows, b"L01;D;" + RUN + b";x\r\n", size)
        if reader == "found zip":
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr("export/legacy.csv", data)
            return buffer.getvalue()
        if reader == "found 7z":
            import py7zr

            buffer = io.BytesIO()
            with py7zr.SevenZipFile(buffer, "w") as seven:
                seven.writestr(data, "export/legacy.csv")
            return buffer.getvalue()
        return gzip.compress(data, compresslevel=1) if reader == "found gz" else data
    if reader == "found text":
        line = "Patiente suivie au laboratoire, rappel le 03/12/2026 au 06 12 34 56 78.\n"
        return _repeat(b"", line.encode() * 100, RUN + b"\n", size)
    if reader in ("found ndjson", "fhir"):
        return _repeat(b"", ndjson, json.dumps({"note": RUN.decode()}).encode() + b"\n", size)
    if reader == "found json":
        lines = ndjson.rstrip(b"\n").replace(b"\n", b",\n")
        return _repeat(
            b"[", lines + b",\n", json.dumps({"note": RUN.decode()}).encode() + b"]", size
        )
    if reader == "found sql":
        from fuzz_readers import sql_dump

        return sql_dump(size)
    if reader == "hprim":
        return _repeat(b"", bases["m.hpr"], b"P|1||D|" + RUN + b"\r\nL|1\r\n", size)
    if reader == "hl7v2":
        msh = b"MSH|^~\\&|X|L01|||20200101||ADT^A04|1|P|2.5\r"
        return _repeat(b"", bases["m.hl7"], msh + b"PID|1||D1^^^L01^PI||" + RUN + b"\r", size)
    raise ValueError(reader)


def _xlsx(size: int, path: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Patients")
    sheet.write_row(0, 0, ["Nom", "Prénom", "Téléphone", "Commentaire"])
    for row in range(1, int(size / 1e6 * _ROWS_PER_XLSX_MB)):
        sheet.write_row(row, 0, [f"Nom{row}", "Zoé", "06 12 34 56 78", f"note libre {row}"])
    sheet.write_row(row + 1, 0, ["Dupont", "Léa", "", "9" * 32_000])
    book.close()


FOUND = (
    "found csv",
    "found text",
    "found json",
    "found ndjson",
    "found sql",
    "found zip",
    "found gz",
    "found 7z",
    "found xlsx",
    "found xlsx streamed",
)
MIGRATION = {"legacy-csv": "legacy-csv", "hprim": "hprim", "hl7v2": "hl7v2", "fhir": "fhir"}
READERS = (*FOUND, *MIGRATION)


def _read(job: tuple[str, str]) -> dict[str, Any]:
    """Runs in a fresh process: read one file to the end, time and peak RSS growth."""
    reader, path = job
    from etanche.exchange.found import _xlsx, read_tables

    if reader == "found xlsx streamed":
        _xlsx.STREAM_ABOVE = 0
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.perf_counter()
    rows, error = 0, ""
    try:
        if reader in MIGRATION:
            rows = sum(1 for _ in open_source(MIGRATION[reader], Path(path)))
        else:
            for table in read_tables(Path(path)):
                rows += sum(len(batch) for batch in table.batches(BATCH_ROWS))
    except EtancheError as exc:
        error = type(exc).__name__
    seconds = time.perf_counter() - began
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
    return {"seconds": seconds, "rss_mb": round(grown, 1), "rows": rows, "error": error}


def large_inputs(
    sizes_mb: list[int], scratch: Path, readers: list[str] | None = None
) -> dict[str, Any]:
    """{reader: {"N MB": {mb_per_s, rss_mb, rows}}} for every reader and size."""
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(dir=scratch) as name:
        folder = Path(name)
        bases = _bases(folder)
        for reader in readers or READERS:
            results[reader] = {}
            for mb in sizes_mb:
                if reader.startswith("found xlsx") and mb > XLSX_MAX_MB:
                    continue
                path = folder / f"input-{mb}"
                if reader.startswith("found xlsx"):
                    _xlsx(mb * 1_000_000, path)
                else:
                    path.write_bytes(_sized(bases, reader, mb * 1_000_000))
                size = path.stat().st_size
                with ProcessPoolExecutor(1, mp_context=get_context("fork")) as pool:
                    got = pool.submit(_read, (reader, str(path))).result()
                path.unlink()
                results[reader][f"{mb} MB"] = {
                    "bytes": size,
                    "mb_per_s": round(size / 1e6 / got["seconds"], 2),
                    "rss_mb": got["rss_mb"],
                    "rows": got["rows"],
                    **({"error": got["error"]} if got["error"] else {}),
                }
    return results


def bounded(results: dict[str, Any], small: str, large: str, slack_mb: float = 64) -> list[str]:
    """Readers whose RSS growth on ``large`` exceeds 1.5x their growth on ``small`` plus slack."""
    return [
        reader
        for reader, sizes in results.items()
        if small in sizes
        and large in sizes
        and sizes[large]["rss_mb"] > 1.5 * sizes[small]["rss_mb"] + slack_mb
    ]
