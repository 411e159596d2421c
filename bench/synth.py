"""Synthetic network generation and legacy CSV export at the size of the 2020 leak.

    python bench/synth.py --json [--patients N]

Every other test and benchmark draws its workload from the generator, so it must
stay cheap: the goal is 491,840 patients with their specimens in at most 60 s.
``generate_s`` times Patient and Specimen objects (``network.batches()``);
``csv_s`` times ``write_legacy_csv`` (which regenerates the patients, without
specimens) into a temporary directory.
JSON keys: patients, specimens, generate_s, csv_s, patients_per_s, csv_mb, goal_s,
date, machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import emit, machine, today
from etanche.exchange import write_legacy_csv
from etanche.synth import SynthConfig, generate

FULL = 491_840
GOAL_S = 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=FULL)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    network = generate(SynthConfig(patients=args.patients))

    started = time.perf_counter()
    patients = specimens = 0
    for batch in network.batches():
        patients += len(batch)
        specimens += sum(len(items) for _, items in batch)
    generate_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory(prefix="etanche-bench-") as tmp:
        path = Path(tmp) / "export.csv"
        started = time.perf_counter()
        rows = write_legacy_csv(network, path)
        csv_s = time.perf_counter() - started
        csv_mb = path.stat().st_size / 1e6
    assert rows == patients

    result = {
        "patients": patients,
        "specimens": specimens,
        "generate_s": round(generate_s, 2),
        "csv_s": round(csv_s, 2),
        "patients_per_s": round(patients / generate_s) if generate_s else None,
        "csv_mb": round(csv_mb, 1),
        "goal_s": GOAL_S,
        "date": today(),
        "machine": machine(),
    }
    emit(
        result,
        args.json,
        "synth",
        f"### synth: {patients:,} patients, {result['date']}, {result['machine']}\n\n"
        f"`python bench/synth.py --json --patients {args.patients}`\n\n"
        "| patients + specimens | legacy CSV | patients/s | CSV size |\n|---|---|---|---|\n"
        f"| {result['generate_s']} s ({specimens:,} specimens) | {result['csv_s']} s | "
        f"{result['patients_per_s']} | {result['csv_mb']} MB |\n\n"
        f"goal: generation <= {GOAL_S} s for 491,840 patients on 2 cores",
    )


if __name__ == "__main__":
    main()
