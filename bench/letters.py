"""Art. 34 letters for the patients of a breach: how many per second, end to end.

    python bench/letters.py --json [--patients 10000] [--batch 500]

A synthetic vault of N patients, an incident whose scan matched all of them,
then ``IncidentService.letters``: the policy decision, each patient read from the
vault (admin compartment only) and checked against the decoys, one PDF page
per letter, one PDF per batch, the index, the audit event. Goal: >= 100
letters/s. JSON keys: letters, seconds, letters_per_s, files, mb.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import emit, machine, today
from etanche.access import Actor, Role
from etanche.crypto import KdfCost
from etanche.leak.incident import font_files, parse_circumstances
from etanche.service import IncidentService, Trail
from etanche.synth import SynthConfig, generate
from etanche.vault import Vault, parse_location

GOAL = 100.0
CATEGORIES = ("nir", "name", "birth_date", "address", "phone", "email", "health", "blood_group")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    network = generate(SynthConfig(patients=args.patients, seed=34))
    with tempfile.TemporaryDirectory(prefix="etanche-bench-") as tmp:
        root = Path(tmp)
        vault = Vault.create(
            parse_location(str(root / "vault")),
            "benchmark passphrase",
            kdf_cost=KdfCost.fast_for_tests(),
        )
        for lab in network.labs:
            vault.add_lab(lab)
        vault.add_many((p for batch in network.batches() for p in batch), validate=False)
        matched: dict[str, list[str]] = {}
        for patient in network.patients():
            matched.setdefault(patient.lab_id, []).append(patient.id)
        dpo = Actor("bench-dpo", "bench-dpo", Role.DPO, frozenset({"*"}))
        trail = Trail.for_vault(vault)
        session = vault.session(())
        desk = IncidentService(session, trail, dpo, client="bench")
        report = {
            "files": [],
            "bytes": 0,
            "rows": args.patients,
            "persons": args.patients,
            "special_category": True,
            "categories": {c: {"count": args.patients} for c in CATEGORIES},
            "vault_matches": {lab: len(ids) for lab, ids in matched.items()},
        }
        incident = desk.open(
            "Benchmark",
            circumstances=parse_circumstances(["published", "malicious"]),
            dpo_contact="dpo@example.org",
            report=report,
            matched=matched,
        )
        out = root / "letters"
        started = time.perf_counter()
        run = desk.letters(incident.id, out, batch=args.batch)
        seconds = time.perf_counter() - started
        size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
        trail.close()
        vault.close()
    rate = run.letters / seconds
    result = {
        "letters": run.letters,
        "seconds": round(seconds, 2),
        "letters_per_s": round(rate, 1),
        "files": len(run.files),
        "mb": round(size, 1),
        "embedded_font": font_files() is not None,
    }
    verdict = "meets" if rate >= GOAL else "misses"
    markdown = f"""
## Letters to the patients of a breach (art. 34)

{today()} · {machine()} · `python bench/letters.py --patients {args.patients}`

| letters | seconds | letters/s | goal | PDF files | size |
|---:|---:|---:|---:|---:|---:|
| {run.letters:,} | {seconds:.2f} | {rate:,.0f} | ≥ {GOAL:.0f} ({verdict}) | {len(run.files)} \
| {size:.1f} MB |

End to end through `IncidentService.letters`: one policy decision per lab, each patient
read from the vault with the admin compartment only and checked against the decoys,
one A4 page per letter (DejaVu Sans embedded, subset), {args.batch} letters per PDF,
an index of pseudonymous ids, one audit event.
"""
    emit(result, args.json, "letters", markdown)


if __name__ == "__main__":
    main()
