"""NIR lookup through the blind index vs a plain indexed NIR column, one run.

    python bench/lookup.py --json [--patients N] [--lookups 10000]

Both sides return the same domain object: the vault decrypts and decodes, the
plain side builds the Patient from clear columns. Lookups alternate between the
two so machine noise hits both alike.
JSON keys: p50_ms, p99_ms, plain_p50_ms, ratio_p50.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from sqlalchemy import bindparam, select

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
from etanche.synth import SynthConfig, SynthNetwork, generate
from etanche.vault import Vault, VaultLocation

FULL = 491_840


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(
    args: argparse.Namespace, network: SynthNetwork, where: VaultLocation, engine: str
) -> Measured:
    nirs: list[str] = []
    vault = Vault.create(
        where,
        "benchmark passphrase",
        kdf_cost=KdfCost.fast_for_tests(),
    )
    for lab in network.labs:
        vault.add_lab(lab)
    vault.add_many((p for batch in network.batches() for p in batch), validate=False)
    plain_meta.create_all(vault.engine)
    with vault.engine.begin() as conn:
        insert_plain(conn, (p for batch in network.batches() for p in batch))
    settle(vault.engine)
    for patient in network.patients():
        if patient.nir:
            nirs.append(patient.nir)
    rng = random.Random(1)
    sample = [rng.choice(nirs) for _ in range(args.lookups)]
    enc: list[float] = []
    plain: list[float] = []
    # Same shape on both sides: a pooled connection per lookup (as a request
    # would), a statement built once, the same domain object returned.
    by_nir = select(plain_patients).where(plain_patients.c.nir == bindparam("nir"))
    for nir in sample:
        t0 = time.perf_counter()
        found = vault.find_by_nir(nir)
        t1 = time.perf_counter()
        with vault.engine.connect() as conn:
            rows = conn.execute(by_nir, {"nir": nir}).all()
        plain_found = [patient_from_plain(r) for r in rows]
        t2 = time.perf_counter()
        assert found and plain_found
        enc.append((t1 - t0) * 1000)
        plain.append((t2 - t1) * 1000)
    vault.close()

    p50, p99, plain_p50 = percentile(enc, 0.5), percentile(enc, 0.99), percentile(plain, 0.5)
    result = {
        "patients": args.patients,
        "lookups": args.lookups,
        "p50_ms": round(p50, 3),
        "p99_ms": round(p99, 3),
        "plain_p50_ms": round(plain_p50, 3),
        "plain_p99_ms": round(percentile(plain, 0.99), 3),
        "ratio_p50": round(p50 / plain_p50, 2),
        "mean_ms": round(statistics.fmean(enc), 3),
        "date": today(),
        "machine": machine(),
    }
    return (
        result,
        section("lookup", engine),
        f"### lookup ({engine}): {args.lookups:,} NIR lookups among {args.patients:,} patients, "
        f"{result['date']}, {result['machine']}\n\n"
        f"`python bench/lookup.py --json --engine {engine} --patients {args.patients} "
        f"--lookups {args.lookups}`\n\n"
        "| | p50 | p99 |\n|---|---|---|\n"
        f"| blind index + decrypt | {result['p50_ms']} ms | {result['p99_ms']} ms |\n"
        f"| plain indexed column | {result['plain_p50_ms']} ms | {result['plain_p99_ms']} ms |\n\n"
        f"p50 ratio {result['ratio_p50']} (goal <= 1.5), p50 {result['p50_ms']} ms (goal <= 1 ms)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=FULL)
    parser.add_argument("--lookups", type=int, default=10_000)
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
