"""NIR lookup as the web server runs it (policy, decoy check, audit, alerts) vs bare.

    python bench/audited_lookup.py --json [--patients N] [--lookups 10000]

One SQLite vault, one run. The audited side calls ``PatientService.find_by_nir``
for a biologist covering every lab, on a buffered ``Trail`` (default rules):
the policy decision, the decoy check and building and queueing the audit event
are inside the timed call; committing and the alert rules run on the trail's
background thread, as in the server. The bare side calls ``Vault.find_by_nir``
(no policy, no audit). The two alternate, and which goes first alternates too,
so the page cache and machine noise favour neither.

After the timed loop the trail is flushed (``flush_s``, reported apart) and the
events are counted: every lookup must be in the log, which must verify. For
honesty ``p50_sync_ms`` times the same audited lookup on a sync trail (one
commit and the alert rules inside each call, as the CLI does) on a smaller
sample.
JSON keys: p50_ms, p50_off_ms, ratio_p50, p99_ms, p99_off_ms, p50_sync_ms,
events_logged, flush_s, alerts, date, machine.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from sqlalchemy import func, select

from _common import machine, today
from _engines import Measured, add_engine_options, run_engines, section, settle
from etanche.access import Action, Actor, Role
from etanche.audit import verify_log
from etanche.audit._schema import audit_events
from etanche.crypto import KdfCost
from etanche.service import PatientService, Trail
from etanche.synth import SynthConfig, SynthNetwork, generate
from etanche.vault import Vault, VaultLocation

FULL = 491_840
SYNC_SHARE = 10  # the sync trail runs on lookups / SYNC_SHARE NIRs


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def logged(vault: Vault) -> int:
    with vault.engine.connect() as conn:
        query = select(func.count()).where(audit_events.c.action == Action.PATIENT_SEARCH.value)
        return int(conn.execute(query).scalar_one())


def measure(
    args: argparse.Namespace, network: SynthNetwork, where: VaultLocation, engine: str
) -> Measured:
    vault = Vault.create(
        where,
        "benchmark passphrase",
        kdf_cost=KdfCost.fast_for_tests(),
    )
    for lab in network.labs:
        vault.add_lab(lab)
    vault.add_many((p for batch in network.batches() for p in batch), validate=False)
    settle(vault.engine)
    nirs = [p.nir for p in network.patients() if p.nir]
    rng = random.Random(1)
    sample = [rng.choice(nirs) for _ in range(args.lookups)]
    sync_sample = [rng.choice(nirs) for _ in range(max(1, args.lookups // SYNC_SHARE))]
    labs = frozenset(lab.id for lab in network.labs)
    actor = Actor("bench.biologist", "bench-biologist", Role.BIOLOGIST, labs)

    trail = Trail.for_vault(vault, mode="buffered")
    service = PatientService(vault, trail, actor, client="10.0.0.7")
    service.find_by_nir(sample[0])  # warm: statements, keys, the writer thread
    vault.find_by_nir(sample[0])
    trail.flush()
    before = logged(vault)
    audited: list[float] = []
    bare: list[float] = []
    for i, nir in enumerate(sample):
        for side in (0, 1) if i % 2 == 0 else (1, 0):
            t0 = time.perf_counter()
            found = service.find_by_nir(nir) if side == 0 else vault.find_by_nir(nir)
            spent = (time.perf_counter() - t0) * 1000
            assert found
            (audited if side == 0 else bare).append(spent)
    t0 = time.perf_counter()
    trail.flush()
    flush_s = time.perf_counter() - t0
    events = logged(vault) - before
    assert events == len(sample), (events, len(sample))
    alerts = sorted({a.rule for a in trail.fired})
    trail.close()

    sync_trail = Trail.for_vault(vault)
    sync_service = PatientService(vault, sync_trail, actor, client="10.0.0.7")
    sync_times: list[float] = []
    for nir in sync_sample:
        t0 = time.perf_counter()
        assert sync_service.find_by_nir(nir)
        sync_times.append((time.perf_counter() - t0) * 1000)
    sync_trail.close()
    report = verify_log(vault.engine, trail.log.public_key_pem())
    assert report.ok, report.problems[:5]
    vault.close()

    p50, p50_off = percentile(audited, 0.5), percentile(bare, 0.5)
    result = {
        "patients": args.patients,
        "lookups": args.lookups,
        "p50_ms": round(p50, 3),
        "p99_ms": round(percentile(audited, 0.99), 3),
        "p50_off_ms": round(p50_off, 3),
        "p99_off_ms": round(percentile(bare, 0.99), 3),
        "ratio_p50": round(p50 / p50_off, 2),
        "mean_ms": round(statistics.fmean(audited), 3),
        "mean_off_ms": round(statistics.fmean(bare), 3),
        "p50_sync_ms": round(percentile(sync_times, 0.5), 3),
        "sync_lookups": len(sync_sample),
        "events_logged": events,
        "flush_s": round(flush_s, 3),
        "alerts": alerts,
        "date": today(),
        "machine": machine(),
    }
    markdown = (
        f"### audited_lookup: {args.lookups:,} NIR lookups among {args.patients:,} patients, "
        f"{result['date']}, {result['machine']}\n\n"
        f"`python bench/audited_lookup.py --json --engine {engine} --patients {args.patients}`\n\n"
        "| | p50 | p99 |\n|---|---|---|\n"
        f"| policy + decoy check + audit event (buffered trail) | {result['p50_ms']} ms "
        f"| {result['p99_ms']} ms |\n"
        f"| bare vault lookup (no policy, no audit) | {result['p50_off_ms']} ms "
        f"| {result['p99_off_ms']} ms |\n"
        f"| same audited lookup, sync trail ({len(sync_sample):,} lookups) "
        f"| {result['p50_sync_ms']} ms | |\n\n"
        f"p50 ratio {result['ratio_p50']} (goal <= 1.2). All {events:,} events committed; the "
        f"final flush took {result['flush_s']} s; alerts raised: "
        f"{', '.join(alerts) or 'none'}; the log verifies. Buffered: a crash loses the "
        "events not yet committed (normally one 20 ms flush window); the CLI stays sync."
    )
    return result, section("audited_lookup", engine), markdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=FULL)
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    add_engine_options(parser)
    parser.add_argument("--no-doc", action="store_true", help="Do not update docs/benchmarks.md.")
    args = parser.parse_args()
    network = generate(SynthConfig(patients=args.patients))
    run_engines(
        args,
        lambda where, engine: measure(args, network, where, engine),
        write_doc=not getattr(args, "no_doc", False),
    )


if __name__ == "__main__":
    main()
