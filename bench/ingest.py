"""Encrypted ingest vs a plain table with the same columns, same engine, one run.

    python bench/ingest.py --json [--patients N] [--engine sqlite|postgresql|both]
                                  [--url postgresql://...]

Generation of the synthetic patients is timed apart and excluded from both
figures (TimedSource), so the ratio is the cost of encryption and blind indexes.
With --workers N (default: one per core), sealing runs in N forked processes while
the main process generates and writes, as `etanche synth` does; 0 seals inline.
On PostgreSQL both sides load through COPY (the vault's bulk path and the plain
table's). JSON keys: patients, encrypted_s, plain_s, ratio, peak_rss_mb
(``{"sqlite": {...}, "postgresql": {...}}`` with --engine both).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import TimedSource, insert_plain, machine, peak_rss_mb, plain_meta, today
from _engines import Measured, add_engine_options, run_engines
from etanche.crypto import KdfCost
from etanche.synth import SynthConfig, generate
from etanche.vault import Vault, VaultLocation

FULL = 491_840


def measure(args: argparse.Namespace, where: VaultLocation, engine: str) -> Measured:
    network = generate(SynthConfig(patients=args.patients))
    vault = Vault.create(where, "benchmark passphrase", kdf_cost=KdfCost.fast_for_tests())
    for lab in network.labs:
        vault.add_lab(lab)
    source = TimedSource(p for batch in network.batches() for p in batch)
    started = time.perf_counter()
    count = vault.add_many(source, validate=False, workers=args.workers)
    encrypted_s = time.perf_counter() - started - source.producing_s
    rss = peak_rss_mb()

    plain_meta.create_all(vault.engine)
    source = TimedSource(p for batch in network.batches() for p in batch)
    started = time.perf_counter()
    with vault.engine.begin() as conn:
        plain_count = insert_plain(conn, source)
    plain_s = time.perf_counter() - started - source.producing_s
    vault.close()
    assert count == plain_count

    result = {
        "patients": count,
        "encrypted_s": round(encrypted_s, 2),
        "plain_s": round(plain_s, 2),
        "ratio": round(encrypted_s / plain_s, 2),
        "peak_rss_mb": round(rss, 1),
        "backend": engine,
        "workers": args.workers,
        "date": today(),
        "machine": machine(),
    }
    goal = 1.3 if engine == "sqlite" else 1.5
    goals = (
        f"ratio {result['ratio']} (goal <= {goal}), encrypted {result['encrypted_s']} s "
        f"(goal <= 30 s for 491,840), peak RSS {result['peak_rss_mb']} MB (goal <= 2048)"
    )
    markdown = (
        f"### ingest ({engine}): {count:,} patients, "
        f"{result['date']}, {result['machine']}\n\n"
        f"`python bench/ingest.py --json --engine {engine} --patients {args.patients} "
        f"--workers {args.workers}`\n\n"
        f"| encrypted vault | plain table | ratio | peak RSS |\n|---|---|---|---|\n"
        f"| {result['encrypted_s']} s | {result['plain_s']} s | {result['ratio']} | "
        f"{result['peak_rss_mb']} MB |\n\n{goals}"
    )
    # the SQLite figure keeps its historical section name, "ingest-sqlite"
    return result, f"ingest-{engine}", markdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=FULL)
    parser.add_argument("--json", action="store_true")
    add_engine_options(parser)
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="sealing processes beside the writer (0: inline; default: one per core)",
    )
    args = parser.parse_args()
    run_engines(args, lambda where, engine: measure(args, where, engine))


if __name__ == "__main__":
    main()
