"""Front-desk search: birth-name prefix + birth year over the truncated blind index,
against a plain table searched with ``LIKE 'MAR%'`` and an index, in one run.

    python bench/search.py --json [--patients N] [--searches 2000] [--workers 1]

Each search is what a secretary types: the first three letters of a patient's
birth name and the birth year, in the lab the patient belongs to. The vault
computes the lab's digest, fetches the bucket, decrypts its rows and keeps the
real matches; the plain side runs the same filter on clear columns with an index
on (lab_id, birth_name). Searches alternate between the two so machine noise
hits both alike. JSON keys: prefix_p50_ms, prefix_p99_ms, candidates_p50,
candidates_p99, matches_p50, plain_p50_ms, ratio.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from sqlalchemy import Index, text

from _common import (
    insert_plain,
    machine,
    patient_from_plain,
    plain_meta,
    plain_patients,
    today,
)
from _engines import Measured, add_engine_options, run_engines, section, settle
from etanche.crypto import KdfCost
from etanche.domain import BirthQuery, name_prefix
from etanche.synth import SynthConfig, SynthNetwork, generate
from etanche.vault import Vault, VaultLocation

FULL = 491_840
PLAIN_SQL = text(
    "SELECT * FROM plain_patients WHERE lab_id = :lab AND birth_name LIKE :pattern "
    "AND birth_date BETWEEN :first AND :last"
)


# the plain side's index for the same search, created with the plain table
Index(
    "ix_plain_lab_name",
    plain_patients.c.lab_id,
    plain_patients.c.birth_name,
    postgresql_ops={"birth_name": "varchar_pattern_ops"},
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(
    args: argparse.Namespace, network: SynthNetwork, where: VaultLocation, engine: str
) -> Measured:
    wanted: list[tuple[str, str, int]] = []
    vault = Vault.create(
        where,
        "benchmark passphrase",
        kdf_cost=KdfCost.fast_for_tests(),
    )
    for lab in network.labs:
        vault.add_lab(lab)
    vault.add_many(
        (p for batch in network.batches() for p in batch), validate=False, workers=args.workers
    )
    plain_meta.create_all(vault.engine)  # with ix_plain_lab_name
    with vault.engine.begin() as conn:
        insert_plain(conn, (p for batch in network.batches() for p in batch))
    settle(vault.engine)
    rng = random.Random(1)
    everyone = list(network.patients())
    for patient in rng.sample(everyone, min(args.searches, len(everyone))):
        wanted.append((patient.lab_id, name_prefix(patient.birth_name), patient.birth_date.year))
    enc: list[float] = []
    plain: list[float] = []
    candidates: list[int] = []
    matches: list[int] = []
    with vault.engine.connect() as conn:
        if engine == "sqlite":  # LIKE 'MAR%' uses the index (PostgreSQL: pattern ops)
            conn.exec_driver_sql("PRAGMA case_sensitive_like = ON")
        for lab, prefix, year in wanted:
            t0 = time.perf_counter()
            found = vault.find_by_prefix([lab], prefix, BirthQuery(year))
            t1 = time.perf_counter()
            rows = conn.execute(
                PLAIN_SQL,
                {
                    "lab": lab,
                    "pattern": f"{prefix}%",
                    "first": date(year, 1, 1),
                    "last": date(year, 12, 31),
                },
            ).all()
            plain_found = [patient_from_plain(r) for r in rows]
            t2 = time.perf_counter()
            assert found, "the searched patient must be found"
            assert len(plain_found) >= len(found) or not plain_found
            enc.append((t1 - t0) * 1000)
            plain.append((t2 - t1) * 1000)
            candidates.append(vault.last_candidates)
            matches.append(len(found))
    vault.close()

    p50, plain_p50 = percentile(enc, 0.5), percentile(plain, 0.5)
    result = {
        "patients": args.patients,
        "searches": len(wanted),
        "prefix_p50_ms": round(p50, 3),
        "prefix_p99_ms": round(percentile(enc, 0.99), 3),
        "candidates_p50": percentile([float(c) for c in candidates], 0.5),
        "candidates_p99": percentile([float(c) for c in candidates], 0.99),
        "matches_p50": percentile([float(m) for m in matches], 0.5),
        "plain_p50_ms": round(plain_p50, 3),
        "ratio": round(p50 / plain_p50, 2),
        "date": today(),
        "machine": machine(),
    }
    return (
        result,
        section("search", engine),
        f"### search: {len(wanted):,} prefix + birth-year searches among {args.patients:,} "
        f"patients, {result['date']}, {result['machine']}\n\n"
        f"`python bench/search.py --json --engine {engine} --patients {args.patients}`\n\n"
        "| | p50 | p99 |\n|---|---|---|\n"
        f"| truncated blind index + decrypt | {result['prefix_p50_ms']} ms | "
        f"{result['prefix_p99_ms']} ms |\n"
        f"| plain `LIKE 'MAR%'` + year, indexed | {result['plain_p50_ms']} ms | |\n"
        f"| rows decrypted per search | {result['candidates_p50']} | "
        f"{result['candidates_p99']} |\n\n"
        f"p50 {result['prefix_p50_ms']} ms (goal <= 5 ms), candidates p50 "
        f"{result['candidates_p50']} (goal <= 20), ratio {result['ratio']}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=FULL)
    parser.add_argument("--searches", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    add_engine_options(parser)
    args = parser.parse_args()
    network = generate(SynthConfig(patients=args.patients))
    run_engines(
        args,
        lambda where, engine: measure(args, network, where, engine),
        write_doc=not getattr(args, "no_doc", False),
    )


if __name__ == "__main__":
    main()
