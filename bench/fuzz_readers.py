"""Fuzz every source reader: only Étanche errors may come out, whatever the bytes.

    python bench/fuzz_readers.py --json [--inputs 100000] [--atheris-seconds 60]
    python bench/fuzz_readers.py --sql-mb 1,10,50
    python bench/fuzz_readers.py --large 1,10,50 --json [--readers hl7v2,fhir]


Per reader (legacy-csv, csv, hprim, hl7v2, fhir json, fhir ndjson): ``--inputs``
inputs, 90 % mutations of a small valid file (bit flips, truncation, delimiter and
line-end injection, duplicated or lost ranges, huge fields) and 10 % random
bytes, read to the end and every record passed to build_patient. Inputs run in
chunks of 5,000 shared by ``--workers`` processes (reader_seconds is CPU-side
time summed over chunks). Then, when atheris is importable, a
coverage-guided run per reader seeded with the same files. A crash is any
exception that is not an EtancheError.
JSON keys: inputs_per_reader, crashes, crash_sites, atheris, atheris_runs, seconds.
``--sql-mb`` instead reads generated SQL dumps of those sizes (multi-row INSERTs,
escaped quotes, a 10,000-character unquoted run across every 1 MiB block) through
the found-file readers and prints their speed in MB/s: small fuzz inputs never
showed that one long run made the old SQL reader hang. ``--large`` reads
generated inputs of those sizes through every found-file and migration reader
(bench/_large_inputs.py) and reports MB/s and peak memory growth.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import contextlib

from _common import emit, machine, today
from etanche.errors import EtancheError
from etanche.exchange import SourceRecord, build_patient, open_source
from etanche.exchange._fuzz import FUZZ_FORMATS, mutate, seeds

SCRATCH = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())


def read_all(fmt: str, path: Path) -> None:
    """Read a file to the end; Étanche errors are the expected outcome of bad input."""
    try:
        for item in open_source(fmt, path):
            if isinstance(item, SourceRecord):
                with contextlib.suppress(EtancheError):
                    build_patient(item, patient_id="p", lab_id="L01")
    except EtancheError:
        pass


def _site(exc: BaseException) -> str:
    """Exception type and innermost frame: where, never what (inputs hold test data)."""
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}"


CHUNK = 5_000


def fuzz_chunk(job: tuple[str, int, int, int]) -> dict[str, Any]:
    """Mutation fuzzing of one reader over inputs ``start`` to ``start + count``."""
    name, start, count, seed = job
    fmt = FUZZ_FORMATS[name]
    base = seeds()[name]
    crashes: dict[str, int] = {}
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=SCRATCH) as folder:
        path = Path(folder) / "input"
        for i in range(start, start + count):
            key = seed * 1_000_003 + i
            rng = random.Random(key)
            if rng.random() < 0.9:
                data = mutate(base, key)
            else:
                data = rng.randbytes(int(rng.random() * 4096))
            path.write_bytes(data)
            try:
                read_all(fmt, path)
            except Exception as exc:
                site = _site(exc)
                crashes[site] = crashes.get(site, 0) + 1
    return {
        "reader": name,
        "inputs": count,
        "crashes": crashes,
        "seconds": time.perf_counter() - began,
    }


def fuzz_all(names: list[str], inputs: int, workers: int) -> list[dict[str, Any]]:
    """Every reader's inputs in chunks shared by ``workers`` processes; totals per reader."""
    jobs = [
        (name, start, min(CHUNK, inputs - start), k + 1)
        for start in range(0, inputs, CHUNK)
        for k, name in enumerate(names)
    ]
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        parts = pool.map(fuzz_chunk, jobs, chunksize=1)
    totals: dict[str, dict[str, Any]] = {
        name: {"reader": name, "inputs": 0, "crashes": {}, "seconds": 0.0} for name in names
    }
    for part in parts:
        total = totals[part["reader"]]
        total["inputs"] += part["inputs"]
        total["seconds"] += part["seconds"]
        for site, n in part["crashes"].items():
            total["crashes"][site] = total["crashes"].get(site, 0) + n
    return list(totals.values())


def atheris_child(name: str, seconds: int, corpus: Path) -> None:
    """Run inside a subprocess: atheris owns the process and exits when done."""
    import atheris

    with atheris.instrument_imports():
        import etanche.exchange  # noqa: F401 - instrumented for coverage

    fmt = FUZZ_FORMATS[name]
    path = Path(tempfile.mkdtemp(dir=SCRATCH)) / "input"

    def target(data: bytes) -> None:
        path.write_bytes(data)
        read_all(fmt, path)

    atheris.Setup(
        [
            sys.argv[0],
            f"-max_total_time={seconds}",
            "-max_len=8192",
            "-print_final_stats=1",
            str(corpus),
        ],
        target,
    )
    atheris.Fuzz()


def run_atheris(names: list[str], seconds: int) -> dict[str, Any]:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return {"atheris": False}
    runs: dict[str, int] = {}
    crashes: dict[str, int] = {}
    with tempfile.TemporaryDirectory(dir=SCRATCH) as folder:
        procs = []
        for name in names:
            corpus = Path(folder) / name
            corpus.mkdir()
            (corpus / "seed").write_bytes(seeds()[name])
            cmd = [sys.executable, __file__, "--atheris-child", name]
            cmd += ["--atheris-seconds", str(seconds), "--corpus", str(corpus)]
            procs.append((name, cmd))
        # Two at a time, like the mutation runs.
        for k in range(0, len(procs), 2):
            running = [
                (
                    name,
                    subprocess.Popen(
                        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=folder
                    ),
                )
                for name, cmd in procs[k : k + 2]
            ]
            for name, proc in running:
                out, _ = proc.communicate()
                text = out.decode("utf-8", "replace")
                done = re.findall(r"stat::number_of_executed_units:\s*(\d+)", text)
                runs[name] = int(done[-1]) if done else 0
                if proc.returncode != 0 or "Uncaught Python exception" in text:
                    found = re.findall(r'File "[^"]*/(\w+\.py)", line (\d+)', text)
                    where = f"{found[-1][0]}:{found[-1][1]}" if found else "unknown"
                    crashes[f"atheris {name} at {where}"] = 1
    return {"atheris": True, "atheris_runs": runs, "atheris_crashes": crashes}


def sql_dump(size: int) -> bytes:
    """A mysqldump-like dump of about ``size`` bytes, hostile where the old reader hung."""
    parts = [b"-- MySQL dump\nCREATE TABLE `t` (`id` int, `nom` text, `note` text);\n"]
    length, boundary, row = len(parts[0]), 1 << 20, 0
    while length < size:
        notes = ("l\\'x" if i % 10 == 0 else "note" for i in range(row, row + 100))
        values = ",".join(
            f"({i},'Nom {i}','{note} {i}')" for i, note in enumerate(notes, start=row)
        )
        statement = f"INSERT INTO `t` VALUES {values};\n".encode()
        row += 100
        if length + len(statement) > boundary - 10_000:
            statement = b"\n" * (boundary - 5_000 - length) + b"INSERT INTO `t` VALUES ("
            statement += b"9" * 10_000 + b", 'run', NULL);\n"
            boundary += 1 << 20
        parts.append(statement)
        length += len(statement)
    return b"".join(parts)


def sql_speed(sizes_mb: list[int]) -> dict[str, float]:
    """MB/s of reading every row of a generated dump (sniffing, scan and rows)."""
    from etanche.exchange.found import read_tables

    speeds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(dir=SCRATCH) as folder:
        path = Path(folder) / "dump.sql"
        for mb in sizes_mb:
            path.write_bytes(sql_dump(mb * 1_000_000))
            began = time.perf_counter()
            for table in read_tables(path):
                for _ in table.batches():
                    pass
            speeds[f"{mb} MB"] = round(mb / (time.perf_counter() - began), 2)
    return speeds


def large_report(args: argparse.Namespace) -> None:
    """--large: MB/s and peak RSS growth of every reader at each size, side by side."""
    from _large_inputs import bounded, large_inputs

    sizes = [int(mb) for mb in args.large.split(",")]
    readers = args.readers.split(",") if args.readers else None
    began = time.perf_counter()
    results = large_inputs(sizes, SCRATCH, readers)
    if args.merge:  # an earlier run's figures for the readers not measured again
        earlier = json.loads(Path(args.merge).read_text(encoding="utf-8"))["large"]
        results = {**earlier, **{r: {**earlier.get(r, {}), **v} for r, v in results.items()}}
        sizes = sorted({int(k.split()[0]) for v in results.values() for k in v})
    # bounded: the largest input against the next size (readers hold fixed-size blocks)
    ordered = sorted(sizes)
    small, large = f"{ordered[max(0, len(ordered) - 2)]} MB", f"{ordered[-1]} MB"
    unbounded = bounded(results, small, large)
    result = {
        "large": results,
        "memory_unbounded": unbounded,
        "seconds": round(time.perf_counter() - began, 1),
        "date": today(),
        "machine": machine(),
    }
    merged = ""
    if args.merge:
        merged = (
            f" Readers {', '.join(readers or [])} were measured again in a second run; the"
            " others' figures come from a first run that handed 50,000 rows at a time."
        )
    listed = ",".join(map(str, sizes))
    head = " | ".join(f"{mb} MB: MB/s, RSS MB" for mb in sizes)
    rows = []
    for reader, by_size in results.items():
        cells = []
        for mb in sizes:
            got = by_size.get(f"{mb} MB")
            cells.append(
                "skipped" if got is None else f"{got['mb_per_s']:,} MB/s, {got['rss_mb']:,} MB"
            )
        rows.append(f"| {reader} | " + " | ".join(cells) + " |")
    verdict = "met" if not unbounded else f"not met ({', '.join(unbounded)})"
    markdown = f"""
### Readers on large inputs (`python bench/fuzz_readers.py --large {listed} --json`)

Every found-file and migration reader on generated inputs of {", ".join(f"{mb}" for mb in sizes)} MB
(synthetic exports repeated to size, each with a 1 MB run without delimiter or quote),
read to the end in a fresh process, 5,000 rows at a time; MB/s per byte of the file as
found (compressed for zip, gz and 7z); RSS is the growth of the reading process's peak
resident memory. {result["date"]}, {result["machine"]},
{result["seconds"]} s, on a machine shared with other jobs (load average 8 to 16 on
2 cores: speeds are several times below an idle machine's; ratios within one run
compare).{merged}

| reader | {head} |
|---|{"---|" * len(sizes)}
{chr(10).join(rows)}

Goal: memory bounded (growth at {large} at most 1.5 times the growth at {small}, plus
64 MB): {verdict}. XLSX inputs stop at 2 MB (generating them and openpyxl are slow); "xlsx
streamed" reads the same workbooks through the openpyxl read-only path that
workbooks above 16 MB take.
"""
    if args.no_doc:
        print(json.dumps(result))
        return
    emit(result, args.json, "fuzz_readers_large", markdown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--atheris-seconds", type=int, default=45)
    parser.add_argument("--atheris-child", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument("--sql-mb", help="comma-separated dump sizes: SQL reading speed only")
    parser.add_argument(
        "--large", help="comma-separated sizes in MB: every reader on large inputs only"
    )
    parser.add_argument("--readers", help="comma-separated readers for --large (default: all)")
    parser.add_argument("--merge", help=argparse.SUPPRESS)  # JSON of an earlier --large run
    args = parser.parse_args()
    if args.large:
        large_report(args)
        return
    if args.sql_mb:
        sizes = [int(mb) for mb in args.sql_mb.split(",")]
        print(json.dumps({"sql_mb_per_s": sql_speed(sizes), "machine": machine()}))
        return
    if args.atheris_child:
        atheris_child(args.atheris_child, args.atheris_seconds, args.corpus)
        return

    names = list(FUZZ_FORMATS)
    seeds()  # built once before forking
    start = time.perf_counter()
    results = fuzz_all(names, args.inputs, args.workers)
    crash_sites: dict[str, int] = {}
    for result in results:
        for site, count in result["crashes"].items():
            key = f"{result['reader']}: {site}"
            crash_sites[key] = crash_sites.get(key, 0) + count
    guided = (
        run_atheris(names, args.atheris_seconds) if args.atheris_seconds > 0 else {"atheris": False}
    )
    crash_sites.update(guided.get("atheris_crashes", {}))
    seconds = time.perf_counter() - start
    result = {
        "inputs_per_reader": {r["reader"]: r["inputs"] for r in results},
        "crashes": sum(crash_sites.values()),
        "crash_sites": crash_sites,
        "atheris": guided["atheris"],
        "atheris_runs": guided.get("atheris_runs", {}),
        "reader_seconds": {r["reader"]: round(r["seconds"], 1) for r in results},
        "seconds": round(seconds, 1),
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "date": today(),
        "machine": machine(),
    }
    guided_runs = guided.get("atheris_runs", {})
    rows = "\n".join(
        f"| {r['reader']} | {r['inputs']:,} | {guided_runs.get(r['reader'], 0):,} "
        f"| {sum(r['crashes'].values())} |"
        for r in results
    )
    markdown = f"""
### Reader fuzzing (`python bench/fuzz_readers.py`)

Mutated valid files (bit flips, truncation, delimiter injection, huge fields) and
random bytes, then coverage-guided atheris runs; a crash is any exception that is
not an `EtancheError`. {result["date"]}, {result["machine"]}, {result["seconds"]} s.

| reader | mutation inputs | atheris runs | crashes |
|---|---:|---:|---:|
{rows}
"""
    if args.no_doc:
        print(json.dumps(result))
        return
    emit(result, args.json, "fuzz_readers", markdown)


if __name__ == "__main__":
    main()
