"""What rollback detection costs: a bulk load with its writes logged vs without, and a check.

    python bench/revisions.py --json [--patients N] [--workers 1]

One SQLite vault per side, one run, the two loads in alternating order. The
logged side is ``etanche synth``'s path: each 2,000-patient batch's writes
(row, compartment, revision, SHA-256 of the ciphertext) become one
``vault.write`` audit event after the commit. Generation is timed apart and
excluded (TimedSource). ``verify_s`` times the service's check on the logged
vault: verify the audit log, replay every write record, hash every stored value.
JSON keys: patients, plain_load_s, logged_load_s, ratio, write_events, verify_s,
values, date, machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import TimedSource, emit, machine, today
from etanche.crypto import KdfCost
from etanche.service import Trail
from etanche.service._revisions import check_revisions, journal_for
from etanche.synth import SynthConfig, SynthNetwork, generate
from etanche.vault import Vault, parse_location


def _load(folder: Path, network: SynthNetwork, workers: int, logged: bool) -> tuple[float, Vault]:
    vault = Vault.create(
        parse_location(str(folder)), "benchmark passphrase", kdf_cost=KdfCost.fast_for_tests()
    )
    for lab in network.labs:
        vault.add_lab(lab)
    trail = Trail.for_vault(vault) if logged else None
    source = TimedSource(p for batch in network.batches() for p in batch)
    started = time.perf_counter()
    if trail is not None:
        vault.record_writes(journal_for(trail))
    vault.add_many(source, validate=False, workers=workers)
    if trail is not None:
        trail.close()
    return time.perf_counter() - started - source.producing_s, vault


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    network = generate(SynthConfig(patients=args.patients))

    with tempfile.TemporaryDirectory(prefix="etanche-bench-") as tmp:
        times: dict[bool, list[float]] = {False: [], True: []}
        for round_, order in enumerate(((False, True), (True, False))):
            for logged in order:
                seconds, vault = _load(
                    Path(tmp) / f"{round_}-{logged}", network, args.workers, logged
                )
                times[logged].append(seconds)
                if logged and round_ == 1:
                    trail = Trail.for_vault(vault)
                    started = time.perf_counter()
                    report = check_revisions(vault, trail)
                    verify_s = time.perf_counter() - started
                    trail.close()
                    assert report.ok, report.problems()[:3]
                vault.close()
    plain, logged_s = min(times[False]), min(times[True])
    result = {
        "patients": args.patients,
        "plain_load_s": round(plain, 2),
        "logged_load_s": round(logged_s, 2),
        "ratio": round(logged_s / plain, 3),
        "write_events": report.writes,
        "values": report.values,
        "verify_s": round(verify_s, 2),
        "date": today(),
        "machine": machine(),
    }
    emit(
        result,
        args.json,
        "revisions",
        f"### rollback detection: {args.patients:,} patients, {result['date']}, "
        f"{result['machine']}\n\n"
        f"`python bench/revisions.py --json --patients {args.patients} --workers {args.workers}`"
        "\n\n| bulk load | with writes logged | ratio | `vault verify` (values) |\n"
        "|---|---|---|---|\n"
        f"| {result['plain_load_s']} s | {result['logged_load_s']} s | {result['ratio']} | "
        f"{result['verify_s']} s ({result['values']:,}) |\n\n"
        "Best of two loads per side, alternating order; generation excluded.",
    )


if __name__ == "__main__":
    main()
