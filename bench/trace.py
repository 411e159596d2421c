"""Leak tracing robustness: 100 exports to 100 recipients, leaks made the way leakers do.

    python bench/trace.py --json [--patients 10000] [--innocent 10000] [--trials 20]

Every export holds a random 30 % of a synthetic network, marked with its own key
(one in ten recipients refuses NFD). Leaks come from one export: row subsets down
to a few rows, shuffled rows, column subsets, phones re-normalised by the leaker,
spaces trimmed and text re-normalised to NFC, CSV -> XLSX -> JSON conversions and
a cp1252 re-encoding, and two exports merged. No canary is used: fingerprint and
order alone. Innocent files (same patients written by an unmarked writer, by a
key not in the ledger, or at random) must never reach the 1e-9 threshold.
JSON keys: min_rows_for_attribution, attribution_rate_20_rows, merge_both_named_rate,
false_accusations, trials, worst_innocent_log10_p.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import random
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import openpyxl

from _common import emit, machine, today
from etanche.leak.trace import (
    ExportModel,
    MemoryIdentifier,
    TraceResult,
    attribute,
    canonical_row,
    identify_rows,
    keyed_order,
    new_export_mark,
    observe_rows,
    render_row,
)
from etanche.leak.trace._files import trace_file
from etanche.leak.trace._ledger import LedgerEntry
from etanche.synth import SynthConfig, generate

COLUMNS = (
    "birth_name", "first_names", "birth_date", "sex", "nir", "address_line", "postcode",
    "city", "phone", "email", "blood_group",
)  # fmt: skip
ROW_COUNTS = (5, 8, 10, 12, 15, 20, 30, 50, 100)
Rows = list[dict[str, str]]
Leak = Callable[[Rows, int, random.Random], tuple[Rows, tuple[str, ...]]]


class Ground:
    """The network's canonical rows, the exports and an in-memory blind index."""

    def __init__(self, patients: int, exports: int, share: float, seed: int) -> None:
        network = generate(SynthConfig(patients=patients, labs=4, seed=seed))
        self.rows = {p.id: canonical_row(p) for p in network.patients()}
        self.ids = sorted(self.rows)
        rng = random.Random(seed)
        self.exports: list[ExportModel] = []
        for i in range(exports):
            marks = None if i % 10 else {"phone", "case", "street", "nir", "order"}
            mark = new_export_mark(marks)
            scope = frozenset(rng.sample(self.ids, int(share * len(self.ids))))
            self.exports.append(ExportModel(mark.export_id, f"recipient {i}", mark, scope))
        self.identifier = MemoryIdentifier(self.rows)
        self._rendered: dict[str, Rows] = {}

    def rendered(self, export: ExportModel) -> Rows:
        found = self._rendered.get(export.export_id)
        if found is None:
            order = keyed_order(sorted(export.rows), export.mark)
            found = [render_row(self.rows[p], mark=export.mark, row_key=p) for p in order]
            self._rendered[export.export_id] = found
        return found

    def trace(self, rows: Rows, columns: tuple[str, ...]) -> TraceResult:
        cells = [[r.get(c, "") for c in columns] for r in rows]
        found = observe_rows(columns, cells)
        return attribute(identify_rows(found, self.identifier), self.exports)

    def entries(self) -> list[LedgerEntry]:
        now = datetime.now(UTC)
        return [
            LedgerEntry(m.export_id, m.recipient, "bench", "L01", "csv", now, None, m.mark,
                        tuple(m.rows), ())
            for m in self.exports
        ]  # fmt: skip


# -- leaks ------------------------------------------------------------------------
def subset(rows: Rows, n: int, rng: random.Random) -> tuple[Rows, tuple[str, ...]]:
    keep = sorted(rng.sample(range(len(rows)), n))
    return [rows[i] for i in keep], COLUMNS


def shuffled(rows: Rows, n: int, rng: random.Random) -> tuple[Rows, tuple[str, ...]]:
    return rng.sample(rows, n), COLUMNS


def identity_and_phone(rows: Rows, n: int, rng: random.Random) -> tuple[Rows, tuple[str, ...]]:
    return rng.sample(rows, n), ("birth_name", "first_names", "birth_date", "phone", "city")


def phones_renormalised(rows: Rows, n: int, rng: random.Random) -> tuple[Rows, tuple[str, ...]]:
    out = []
    for row in rng.sample(rows, n):
        row = dict(row)
        if "phone" in row:
            digits = ["".join(c for c in p if c.isdigit())[-9:] for p in row["phone"].split("\n")]
            row["phone"] = "\n".join("0" + d for d in digits)
        out.append(row)
    return out, COLUMNS


def trimmed_nfc(rows: Rows, n: int, rng: random.Random) -> tuple[Rows, tuple[str, ...]]:
    keep = sorted(rng.sample(range(len(rows)), n))
    return [
        {k: unicodedata.normalize("NFC", v).strip() for k, v in rows[i].items()} for i in keep
    ], COLUMNS


LEAKS: dict[str, Leak] = {
    "row subset": subset,
    "shuffled": shuffled,
    "identity+phone columns, shuffled": identity_and_phone,
    "phones re-normalised, shuffled": phones_renormalised,
    "trimmed, NFC": trimmed_nfc,
}


def named(result: TraceResult, export_id: str) -> bool:
    scores = result.rounds[0].scores if result.rounds else ()
    return bool(
        scores
        and scores[0].export_id == export_id
        and scores[0].accused
        and not any(s.accused for s in scores[1:])
    )


def converted(ground: Ground, rows: Rows, folder: Path, rng: random.Random) -> list[Path]:
    """CSV (;) -> XLSX -> JSON, plus a cp1252 CSV: the files a leak passes through."""
    first = folder / f"{rng.randrange(10**9)}.csv"
    with first.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(COLUMNS)
        writer.writerows([r.get(c, "") for c in COLUMNS] for r in rows)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(COLUMNS))
    for r in rows:
        sheet.append([r.get(c, "") for c in COLUMNS])
    xlsx = first.with_suffix(".xlsx")
    book.save(xlsx)
    back = openpyxl.load_workbook(xlsx, read_only=True).worksheets[0]
    values = [[str(v) if v is not None else "" for v in r] for r in back.values]
    as_json = first.with_suffix(".json")
    as_json.write_text(
        json.dumps([dict(zip(values[0], r, strict=True)) for r in values[1:]], ensure_ascii=False),
        encoding="utf-8",
    )
    latin = first.with_name(first.stem + "-cp1252.csv")
    latin.write_bytes(first.read_text(encoding="utf-8").encode("cp1252", errors="replace"))
    return [first, xlsx, as_json, latin]


# -- innocent files (run in worker processes) --------------------------------------
_GROUND: Ground | None = None


def _innocent(seed: int) -> float:
    ground = _GROUND
    assert ground is not None
    rng = random.Random(seed)
    size = rng.choice((20, 20, 50, 100, 200))
    chosen = rng.sample(ground.ids, size)
    kind = seed % 3
    if kind == 0:  # unmarked writer, its own order
        rows = [ground.rows[p] for p in chosen]
    elif kind == 1:  # a key that is not in the ledger
        other = new_export_mark()
        rows = [render_row(ground.rows[p], mark=other, row_key=p) for p in chosen]
    else:  # random writings
        rows = [render_row(ground.rows[p], mark=new_export_mark(), row_key=p) for p in chosen]
    result = ground.trace(rows, COLUMNS)
    return min((r.scores[0].log10_p_corrected for r in result.rounds if r.scores), default=0.0)


def main() -> None:
    global _GROUND
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--exports", type=int, default=100)
    parser.add_argument("--trials", type=int, default=20, help="leaks per (kind, rows) cell")
    parser.add_argument("--innocent", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    ground = Ground(args.patients, args.exports, 0.3, seed=23)
    rng = random.Random(5)

    grid: dict[str, dict[int, float]] = {}
    for name, leak in LEAKS.items():
        grid[name] = {}
        for n in ROW_COUNTS:
            wins = 0
            for _ in range(args.trials):
                source = rng.choice(ground.exports)
                rows, columns = leak(ground.rendered(source), n, rng)
                wins += named(ground.trace(rows, columns), source.export_id)
            grid[name][n] = wins / args.trials
    strong = [k for k in LEAKS if not k.startswith("identity+phone")]
    min_rows = next(
        (n for n in ROW_COUNTS if all(grid[k][m] == 1.0 for k in strong for m in ROW_COUNTS
                                      if m >= n)),
        None,
    )  # fmt: skip
    rate_20 = sum(grid[k][20] for k in LEAKS) / len(LEAKS)

    conversions = wins = 0
    entries = ground.entries()
    with tempfile.TemporaryDirectory(prefix="etanche-trace-") as tmp:
        for _ in range(max(2, args.trials // 4)):
            source = rng.choice(ground.exports)
            rows, _ = subset(ground.rendered(source), 20, rng)
            for path in converted(ground, rows, Path(tmp), rng):
                result = trace_file(path, entries, identifier=ground.identifier).result
                conversions += 1
                wins += named(result, source.export_id)
    conversion_rate = wins / conversions

    merged = both = 0
    for _ in range(args.trials):
        a, b = rng.sample(ground.exports, 2)
        rows = shuffled(ground.rendered(a), 40, rng)[0] + shuffled(ground.rendered(b), 40, rng)[0]
        rng.shuffle(rows)
        result = ground.trace(rows, COLUMNS)
        merged += 1
        both += {s.export_id for s in result.sources} == {a.export_id, b.export_id}

    _GROUND = ground
    with multiprocessing.get_context("fork").Pool(2) as pool:
        worst = pool.map(_innocent, range(args.innocent), chunksize=50)
    false_accusations = sum(w <= -9 for w in worst)

    result = {
        "patients": args.patients,
        "exports": args.exports,
        "min_rows_for_attribution": min_rows,
        "attribution_rate_20_rows": round(rate_20, 4),
        "conversion_rate_20_rows": round(conversion_rate, 4),
        "merge_both_named_rate": round(both / merged, 4),
        "false_accusations": false_accusations,
        "trials": args.innocent,
        "worst_innocent_log10_p": round(min(worst), 2),
        "grid": {k: {str(n): v for n, v in row.items()} for k, row in grid.items()},
        "seconds": round(time.perf_counter() - started, 1),
        "date": today(),
        "machine": machine(),
    }
    header = "| leak | " + " | ".join(str(n) for n in ROW_COUNTS) + " |\n"
    header += "|---|" + "---|" * len(ROW_COUNTS) + "\n"
    lines = "".join(
        f"| {k} | " + " | ".join(f"{v:.0%}" for v in row.values()) + " |\n"
        for k, row in grid.items()
    )
    emit(
        result,
        args.json,
        "trace",
        f"### trace: {args.exports} exports of 30 % of {args.patients:,} patients, no canaries, "
        f"{result['date']}, {result['machine']}\n\n"
        f"`python bench/trace.py --json --patients {args.patients}`\n\n"
        f"Source named first, accused (corrected p <= 1e-9), no innocent export accused, "
        f"by rows in the leak ({args.trials} leaks per cell):\n\n{header}{lines}\n"
        f"Min rows for attribution (every leak kind but the identity+phone columns): "
        f"{min_rows} (goal <= 20). At 20 rows: {rate_20:.1%} over all kinds; after "
        f"CSV -> XLSX -> JSON and cp1252: {conversion_rate:.0%}. Two exports merged "
        f"(40 + 40 rows, shuffled): both named in {both}/{merged}. Innocent files: "
        f"{false_accusations} accusations in {args.innocent:,} trials (goal 0); most "
        f"incriminating corrected p among them: 1e{min(worst):.1f}.",
    )


if __name__ == "__main__":
    main()
