"""Encrypted ingest vs a plain table with the same columns, same engine, one run.

    python bench/ingest.py --json [--patients N] [--url postgresql://...]

Generation of the synthetic patients is timed apart and excluded from both
figures (TimedSource), so the ratio is the cost of encryption and blind indexes.
With --workers N (default 1), sealing runs in N forked processes while the main
process generates and writes, as `etanche synth` does; 0 seals inline.
JSON keys: patients, encrypted_s, plain_s, ratio, peak_rss_mb.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import TimedSource, emit, insert_plain, machine, peak_rss_mb, plain_meta, today
from etanche.crypto import KdfCost
from etanche.synth import SynthConfig, generate
from etanche.vault import Vault, parse_location

FULL = 491_840


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=FULL)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--url", help="PostgreSQL URL of an empty database (default: SQLite)")
    parser.add_argument(
        "--workers", type=int, default=1, help="sealing processes beside the writer (0: inline)"
    )
    args = parser.parse_args()
    network = generate(SynthConfig(patients=args.patients))

    with tempfile.TemporaryDirectory(prefix="etanche-bench-") as tmp:
        where = (
            parse_location(args.url, Path(tmp) / "keys.json")
            if args.url
            else parse_location(str(Path(tmp) / "vault"))
        )
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
        "backend": "postgresql" if args.url else "sqlite",
        "workers": args.workers,
        "date": today(),
        "machine": machine(),
    }
    goals = (
        f"ratio {result['ratio']} (goal <= 1.5), encrypted {result['encrypted_s']} s "
        f"(goal <= 30 s for 491,840), peak RSS {result['peak_rss_mb']} MB (goal <= 2048)"
    )
    emit(
        result,
        args.json,
        f"ingest-{result['backend']}",
        f"### ingest ({result['backend']}): {count:,} patients, "
        f"{result['date']}, {result['machine']}\n\n"
        f"`python bench/ingest.py --json --patients {args.patients} --workers {args.workers}`\n\n"
        f"| encrypted vault | plain table | ratio | peak RSS |\n|---|---|---|---|\n"
        f"| {result['encrypted_s']} s | {result['plain_s']} s | {result['ratio']} | "
        f"{result['peak_rss_mb']} MB |\n\n{goals}",
    )


if __name__ == "__main__":
    main()
