"""Leak scan vs Microsoft Presidio vs plain polars reading, side by side in one run.

    python bench/scan.py --json [--patients N] [--sample 2000] [--corpus-patients 5000]
        [--sql-patients 45000] [--presidio-rows 100]

Part 1, accuracy on a labelled corpus the tests never see (bench/_scan_corpus.py,
its own seed): four shapes of a leaked file (French-headed cp1252 CSV, headerless
CSV, JSON lines with English keys, a MySQL dump of at least 10 MB). Per shape and
category, cell recall and precision of the scan on the whole file, and of ours
and Presidio's on the first ``--presidio-rows`` rows (the shared categories).
``sql_mb_per_s`` is the scan of the dump, ``small_file_s`` a 10-row file with free
text scanned by ``etanche scan FILE`` in a new process (program start, imports
and the NLP stage included; best of three, with its CPU time).

Part 2, throughput and accuracy on the legacy export:

The workload is the legacy flat export of the 2020 leak (491,840 patients by
default), written once by write_legacy_csv and cached in the temp directory.

- floor: polars reads the whole file (all columns as strings, lossy UTF-8);
- ours: ``scan_paths`` on the whole file (edsnlp and the lexicon loaded
  beforehand: a one-time cost reported apart as ``nlp_load_s``);
- Presidio: presidio-analyzer with spaCy fr_core_news_sm (NlpEngineProvider
  "fr"), its predefined recognizers for "fr", the phone recognizer set to the
  FR region and a NIR PatternRecognizer checking the key; it analyses the first
  ``--sample`` rows column by column (BatchAnalyzerEngine.analyze_dict, the
  column name as context); its throughput is extrapolated from that sample.

Precision and recall are measured on the same sample for both, per cell and
category, on the categories both handle (NIR, name, birth date, address,
phone, e-mail). Truth comes from the columns of the export: the NIR column
holds NIRs, the name columns names (birth name, used name, first names,
treating doctor), "Date de naissance" birth dates, the address columns
addresses, and so on; every other cell (lab code, file number, RPPS, insurance,
date of last visit...) holds none of them. Free-text comments are left out of
the comparison (Presidio has no health category). Presidio's DATE_TIME counts
as a birth date and LOCATION as an address: its nearest entities.
JSON keys: mb_per_s, presidio_mb_per_s, speedup_vs_presidio, read_floor_ratio,
recall, precision ({"ours": {...}, "presidio": {...}}), and the raw timings.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import polars as pl

import _scan_corpus as corpus
from _common import emit, machine, today
from etanche.exchange import write_legacy_csv
from etanche.exchange.found import read_tables
from etanche.leak.scan import HealthCache, detect_frame, plan_table, scan_paths
from etanche.leak.scan._lexicon import prefilter_terms
from etanche.leak.scan._nlp import analyse_texts
from etanche.synth import SynthConfig, generate

FULL = 491_840
CORPUS_CATEGORIES = (
    "nir", "name", "birth_date", "address", "phone", "email", "insurance", "credential",
    "blood_group", "last_visit", "health", "drug",
)  # fmt: skip
MIN_SQL_MB = 10
CACHE = Path(tempfile.gettempdir()) / "etanche-bench-scan"
COMPARED = ("nir", "name", "birth_date", "address", "phone", "email")
TRUTH = {
    "NIR": "nir",
    "Nom de naissance": "name",
    "Nom d'usage": "name",
    "Prénoms": "name",
    "Médecin traitant": "name",
    "Date de naissance": "birth_date",
    "Adresse": "address",
    "Code postal": "address",
    "Ville": "address",
    "Téléphone": "phone",
    "Email": "email",
}
FREE_TEXT = ("Commentaire 1", "Commentaire 2")
PRESIDIO_MAP = {
    "FR_NIR": "nir",
    "PERSON": "name",
    "DATE_TIME": "birth_date",
    "LOCATION": "address",
    "PHONE_NUMBER": "phone",
    "EMAIL_ADDRESS": "email",
}


def leaked_file(patients: int) -> Path:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"legacy-{patients}-seed0.csv"
    if not path.exists():
        partial = path.with_suffix(".part")
        write_legacy_csv(generate(SynthConfig(patients=patients)), partial)
        partial.rename(path)
    return path


def presidio_analyzer() -> Any:
    from presidio_analyzer import (
        AnalyzerEngine,
        BatchAnalyzerEngine,
        Pattern,
        PatternRecognizer,
        RecognizerRegistry,
    )
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    class NirRecognizer(PatternRecognizer):  # type: ignore[misc]
        def validate_result(self, pattern_text: str) -> bool:
            compact = "".join(pattern_text.split()).upper()
            body = compact[:13].replace("2A", "19").replace("2B", "18")
            return body.isdigit() and 97 - int(body) % 97 == int(compact[13:])

    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "fr", "model_name": "fr_core_news_sm"}],
        }
    )
    nlp = provider.create_engine()
    registry = RecognizerRegistry(supported_languages=["fr"])
    registry.load_predefined_recognizers(languages=["fr"], nlp_engine=nlp)
    registry.remove_recognizer("PhoneRecognizer")
    registry.add_recognizer(
        PhoneRecognizer(supported_language="fr", supported_regions=("FR",), context=["tel"])
    )
    registry.add_recognizer(
        NirRecognizer(
            supported_entity="FR_NIR",
            supported_language="fr",
            patterns=[
                Pattern(
                    "nir",
                    r"\b[12378]\s?\d{2}\s?\d{2}\s?(?:\d{2}|2[AB])\s?\d{3}\s?\d{3}\s?\d{2}\b",
                    0.5,
                )
            ],
            context=["nir", "sécu", "securite", "sociale", "insee"],
        )
    )
    engine = AnalyzerEngine(nlp_engine=nlp, registry=registry, supported_languages=["fr"])
    return BatchAnalyzerEngine(analyzer_engine=engine)


def sample_frame(path: Path, rows: int) -> tuple[pl.DataFrame, int]:
    """The first ``rows`` rows as strings, and their size in bytes in the file."""
    [table] = list(read_tables(path))
    first = next(table.frames())
    with path.open("rb") as handle:
        size = sum(len(handle.readline()) for _ in range(rows + 1))
    return first, size


def score(predicted: dict[tuple[int, str], set[str]], frame: pl.DataFrame) -> dict[str, Any]:
    columns = [c for c in frame.columns if c not in FREE_TEXT]
    tally = {c: [0, 0, 0] for c in COMPARED}
    for row in range(frame.height):
        for column in columns:
            value = frame[column][row]
            want = {TRUTH[column]} if value and column in TRUTH else set()
            got = predicted.get((row, column), set())
            for category in COMPARED:
                g, w = category in got, category in want
                tally[category][0 if g and w else 1 if g else 2] += g or w
    precision = {
        c: round(tp / (tp + fp), 4) if tp + fp else None for c, (tp, fp, _) in tally.items()
    }
    recall = {c: round(tp / (tp + fn), 4) if tp + fn else None for c, (tp, _, fn) in tally.items()}
    return {"precision": precision, "recall": recall}


def ours_on_sample(frame: pl.DataFrame, sample: pl.DataFrame) -> dict[tuple[int, str], set[str]]:
    plan = plan_table(frame.head(5000))
    found = detect_frame(sample, plan, HealthCache())
    predicted: dict[tuple[int, str], set[str]] = {}
    for category, column, source, mask in found.masks:
        if source in ("ins_row", "free_text"):
            continue
        for row in mask.arg_true():
            predicted.setdefault((row, column), set()).add(category)
    return predicted


def presidio_on_sample(
    batch: Any, sample: pl.DataFrame
) -> tuple[dict[tuple[int, str], set[str]], float]:
    data = {c: [v or "" for v in sample[c].to_list()] for c in sample.columns}
    started = time.perf_counter()
    results = list(batch.analyze_dict(data, language="fr"))
    elapsed = time.perf_counter() - started
    predicted: dict[tuple[int, str], set[str]] = {}
    for result in results:
        for row, found in enumerate(result.recognizer_results):
            for item in found:
                category = PRESIDIO_MAP.get(item.entity_type)
                if category:
                    predicted.setdefault((row, result.key), set()).add(category)
    return predicted, elapsed


def cell_predictions(path: Path, cache: HealthCache) -> tuple[list[str], list[list[set[str]]]]:
    """Columns of the file's one table and, per cell, the categories the scan gives it."""
    [table] = list(read_tables(path))
    predicted: list[list[set[str]]] = []
    plan = None
    for frame in table.frames():
        plan = plan or plan_table(frame.head(5000))
        found = detect_frame(frame, plan, cache)
        cells: list[list[set[str]]] = [[set() for _ in table.columns] for _ in range(frame.height)]
        for category, column, source, mask in found.masks:
            if source == "ins_row":
                continue
            index = table.columns.index(column)
            for row in mask.arg_true().to_list():
                cells[row][index].add(category)
        predicted.extend(cells)
    return list(table.columns), predicted


def tally(
    predicted: list[list[set[str]]],
    truth: list[list[frozenset[str]]],
    categories: tuple[str, ...],
    columns: set[int] | None = None,
) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for got_row, want_row in zip(predicted, truth, strict=True):
        for index, (got, want) in enumerate(zip(got_row, want_row, strict=True)):
            if columns is not None and index not in columns:
                continue
            for category in (got | want) & set(categories):
                kind = (
                    "tp"
                    if category in got and category in want
                    else "fp"
                    if category in got
                    else "fn"
                )
                counts[(category, kind)] += 1
    return counts


def rates(counts: Counter[tuple[str, str]], categories: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, dict[str, float | None]] = {"recall": {}, "precision": {}}
    for c in categories:
        tp, fp, fn = (counts[(c, k)] for k in ("tp", "fp", "fn"))
        out["recall"][c] = round(tp / (tp + fn), 4) if tp + fn else None
        out["precision"][c] = round(tp / (tp + fp), 4) if tp + fp else None
    return out


def small_file_seconds(root: Path) -> tuple[float, float]:
    """``etanche scan`` on 10 rows with free text, in a new process: best wall and CPU time."""
    table = corpus.labelled(40, seed=corpus.SEED + 2)
    at = [c for c, _ in corpus.COLUMNS].index("comment")
    table.rows[0][at] = "Patiente enceinte de 20 SA, sous levothyrox, pas de diabète"
    path = root / "small.csv"
    corpus.write("fr_csv", corpus.Labelled(table.rows[:10], table.truth[:10]), path)
    program = str(Path(sys.executable).with_name("etanche"))
    walls, cpus = [], []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([program, "scan", str(path)], check=True, capture_output=True)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus)


def corpus_part(args: argparse.Namespace, batch: Any, root: Path) -> dict[str, Any]:
    """Accuracy per shape and category, ours against Presidio, the dump's throughput."""
    table = corpus.labelled(max(args.sql_patients, 3 * args.corpus_patients))
    n = args.corpus_patients
    parts = {
        "fr_csv": corpus.Labelled(table.rows[:n], table.truth[:n]),
        "headerless_csv": corpus.Labelled(table.rows[n : 2 * n], table.truth[n : 2 * n]),
        "jsonl": corpus.Labelled(table.rows[2 * n : 3 * n], table.truth[2 * n : 3 * n]),
        "sql": table,
    }
    cache = HealthCache()
    shapes: dict[str, Any] = {}
    sizes: dict[str, float] = {}
    for shape, labelled in parts.items():
        path = root / f"corpus.{shape}"
        corpus.write(shape, labelled, path)
        sizes[shape] = path.stat().st_size / 1e6
        columns, predicted = cell_predictions(path, cache)
        assert len(predicted) == len(labelled.rows), shape
        whole = rates(tally(predicted, labelled.truth, CORPUS_CATEGORIES), CORPUS_CATEGORIES)
        rows = min(args.presidio_rows, len(labelled.rows))
        sample = next(t for t in read_tables(path)).frames().__next__().head(rows)
        theirs_pred, _ = presidio_on_sample(batch, sample)
        theirs_cells = [[set() for _ in columns] for _ in range(rows)]
        for (row, column), found in theirs_pred.items():
            theirs_cells[row][columns.index(column)] |= found
        structured = {i for i, (c, _) in enumerate(corpus.COLUMNS) if c != "comment"}
        truth = labelled.truth[:rows]
        shapes[shape] = {
            "mb": round(sizes[shape], 2),
            "rows": len(labelled.rows),
            **whole,
            "sample_rows": rows,
            "ours_sample": rates(tally(predicted[:rows], truth, COMPARED, structured), COMPARED),
            "presidio_sample": rates(tally(theirs_cells, truth, COMPARED, structured), COMPARED),
        }
    sql = root / "corpus.sql"
    assert sizes["sql"] >= MIN_SQL_MB, f"the dump is {sizes['sql']:.1f} MB: raise --sql-patients"
    scan_paths([sql])  # the NLP stage and the lexicon loaded once, as in a run over many files
    timings, reads = [], []
    for _ in range(2):  # interleaved with the reader alone: where the dump's time goes
        started = time.perf_counter()
        scan_paths([sql])
        timings.append(time.perf_counter() - started)
        started = time.perf_counter()
        sum(frame.height for found in read_tables(sql) for frame in found.frames())
        reads.append(time.perf_counter() - started)
    small_s, small_cpu_s = small_file_seconds(root)
    return {
        "load": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
        "shapes": shapes,
        "sql_mb": round(sizes["sql"], 1),
        "sql_mb_per_s": round(sizes["sql"] / min(timings), 1),
        "sql_read_mb_per_s": round(sizes["sql"] / min(reads), 1),
        "small_file_s": round(small_s, 2),
        "small_file_cpu_s": round(small_cpu_s, 2),
    }


def corpus_markdown(part: dict[str, Any], args: argparse.Namespace) -> str:
    def cell(values: dict[str, Any], category: str) -> str:
        r, p = values["recall"][category], values["precision"][category]
        return "–" if r is None and p is None else f"{r} / {p}"

    head = "| category | " + " | ".join(corpus.SHAPES) + " |\n|---|" + "---|" * 4
    whole = "\n".join(
        f"| {c} | " + " | ".join(cell(part["shapes"][s], c) for s in corpus.SHAPES) + " |"
        for c in CORPUS_CATEGORIES
    )
    versus = "\n".join(
        f"| {c} | "
        + " | ".join(
            f"{cell(part['shapes'][s]['ours_sample'], c)} vs "
            f"{cell(part['shapes'][s]['presidio_sample'], c)}"
            for s in corpus.SHAPES
        )
        + " |"
        for c in COMPARED
    )
    sizes = ", ".join(f"{s} {part['shapes'][s]['rows']:,} rows" for s in corpus.SHAPES)
    verdicts = corpus_verdicts(part)
    goals = "; ".join(f"{goal}: {'met' if ok else '**not met**'}" for goal, ok in verdicts.items())
    return (
        f"Labelled corpus (bench/_scan_corpus.py, seed {corpus.SEED}; {sizes}, the dump "
        f"{part['sql_mb']} MB). Recall / precision per cell, whole files:\n\n{head}\n{whole}\n\n"
        f"Ours vs Presidio on the first {args.presidio_rows} rows of each shape "
        f"(structured cells, recall / precision):\n\n{head}\n{versus}\n\n"
        f"SQL dump scan: {part['sql_mb_per_s']} MB/s (goal >= 20); its reader alone "
        f"(exchange/found, no detection): {part['sql_read_mb_per_s']} MB/s. A 10-row file "
        f"with free text, `etanche scan FILE` in a new process: {part['small_file_s']} s wall, "
        f"{part['small_file_cpu_s']} s CPU (goal <= 1.5 s).\n\nGoals: {goals}. Load average "
        f"of the shared machine during the run: {part['load']} (other jobs ran "
        "beside it: wall times are inflated, the CPU time is the steadier figure)."
    )


def corpus_verdicts(part: dict[str, Any]) -> dict[str, bool]:
    """Each goal of the corpus part: met or not."""
    shapes = part["shapes"].values()
    figures = [
        x for s in shapes for k in ("recall", "precision") for x in s[k].values() if x is not None
    ]

    def at_least_presidio(s: dict[str, Any]) -> bool:
        ours, theirs = s["ours_sample"], s["presidio_sample"]
        return all(
            (ours[k][c] if ours[k][c] is not None else 1.0) >= (theirs[k][c] or 0.0)
            for k in ("recall", "precision")
            for c in COMPARED
        )

    return {
        "recall and precision >= 0.99 for every shape and category": min(figures) >= 0.99,
        ">= Presidio on every shared category and shape": all(map(at_least_presidio, shapes)),
        "dump >= 20 MB/s": part["sql_mb_per_s"] >= 20,
        "10-row file <= 1.5 s (wall)": part["small_file_s"] <= 1.5,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=FULL)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--corpus-patients", type=int, default=5_000)
    parser.add_argument("--sql-patients", type=int, default=45_000)
    parser.add_argument("--presidio-rows", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    os.environ.setdefault("TQDM_DISABLE", "1")

    path = leaked_file(args.patients)
    size_mb = path.stat().st_size / 1e6
    # spaCy's French factories must be registered before edsnlp loads its own.
    batch = presidio_analyzer()
    started = time.perf_counter()
    analyse_texts(["Pas de grossesse en cours"])
    prefilter_terms()
    nlp_load_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as root:  # after the load: it is timed apart
        part = corpus_part(args, batch, Path(root))

    floors, scans = [], []
    for _ in range(2):  # interleaved: both meet the same machine load
        started = time.perf_counter()
        pl.read_csv(path, separator=";", encoding="utf8-lossy", infer_schema=False)
        floors.append(time.perf_counter() - started)
        started = time.perf_counter()
        report = scan_paths([path])
        scans.append(time.perf_counter() - started)
    floor_s, scan_s = min(floors), min(scans)

    frame, sample_bytes = sample_frame(path, args.sample)
    sample = frame.head(args.sample)
    ours = score(ours_on_sample(frame, sample), sample)
    presidio_pred, presidio_s = presidio_on_sample(batch, sample)
    theirs = score(presidio_pred, sample)

    mb_per_s = size_mb / scan_s
    presidio_mb_per_s = sample_bytes / 1e6 / presidio_s
    result = {
        "patients": args.patients,
        "file_mb": round(size_mb, 1),
        "rows": report.rows,
        "persons": report.persons,
        "scan_s": round(scan_s, 2),
        "read_floor_s": round(floor_s, 2),
        "nlp_load_s": round(nlp_load_s, 2),
        "mb_per_s": round(mb_per_s, 1),
        "presidio_sample_rows": args.sample,
        "presidio_sample_s": round(presidio_s, 2),
        "presidio_mb_per_s": round(presidio_mb_per_s, 4),
        "speedup_vs_presidio": round(mb_per_s / presidio_mb_per_s),
        "read_floor_ratio": round(scan_s / floor_s, 2),
        "precision": {"ours": ours["precision"], "presidio": theirs["precision"]},
        "recall": {"ours": ours["recall"], "presidio": theirs["recall"]},
        "corpus": part["shapes"],
        "sql_mb": part["sql_mb"],
        "sql_mb_per_s": part["sql_mb_per_s"],
        "sql_read_mb_per_s": part["sql_read_mb_per_s"],
        "small_file_s": part["small_file_s"],
        "small_file_cpu_s": part["small_file_cpu_s"],
        "cores": os.cpu_count(),
        "date": today(),
        "machine": machine(),
    }
    rows = "\n".join(
        f"| {c} | {ours['precision'][c]} / {ours['recall'][c]} | "
        f"{theirs['precision'][c]} / {theirs['recall'][c]} |"
        for c in COMPARED
    )
    emit(
        result,
        args.json,
        "scan",
        f"### scan: legacy export of {args.patients:,} patients ({result['file_mb']} MB), "
        f"{result['date']}, {result['machine']}\n\n"
        f"`python bench/scan.py --json --patients {args.patients} --sample {args.sample} "
        f"--corpus-patients {args.corpus_patients} --sql-patients {args.sql_patients} "
        f"--presidio-rows {args.presidio_rows}`\n\n"
        f"{corpus_markdown(part, args)}\n\n"
        f"Legacy export of {args.patients:,} patients:\n\n"
        "| ours | Presidio (fr, sample, extrapolated) | plain polars read | speedup | "
        "vs read |\n|---|---|---|---|---|\n"
        f"| {result['mb_per_s']} MB/s ({result['scan_s']} s) | "
        f"{result['presidio_mb_per_s']} MB/s ({args.sample:,} rows in "
        f"{result['presidio_sample_s']} s) | {result['read_floor_s']} s | "
        f"{result['speedup_vs_presidio']}x | "
        f"{result['read_floor_ratio']}x |\n\n"
        "precision / recall per cell on the sample:\n\n"
        "| category | ours | Presidio |\n|---|---|---|\n"
        f"{rows}\n\n"
        "goals: >= 1000x Presidio, >= 50 MB/s on 2 cores, <= 3x the plain read, precision and "
        f"recall >= Presidio's on every shared category (edsnlp loads once in "
        f"{result['nlp_load_s']} s, not counted)",
    )


if __name__ == "__main__":
    main()
