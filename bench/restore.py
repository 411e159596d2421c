"""Backups that restore: backup and restore times, the drill's checks, no erasure undone.

    python bench/restore.py --json [--engine sqlite|postgresql] [--patients 491840]
        [--erase-after 1000]

One vault under a 2-of-3 custodians' quorum, ``--patients`` synthetic patients.
A hundred patients are erased, a backup is taken (``backup_s``: ledger sync, signed
head, consistent copy, age encryption, manifest), then ``--erase-after`` more are
erased. The newest backup is restored with two custodians' shares into a new vault
(``restore_s``: hash, quorum, decryption, load, shred ledger re-applied) and verified
(``verify_s``: audit log, every stored value against its logged write, every record
decrypted with its blind indexes recomputed, counts and audit head against the
manifest). Side by side in the same run: the same consistent copy without
encryption (``plain_copy_s``: SQLite backup API or ``pg_dump``) and its load
(``plain_load_s``). PostgreSQL runs on a throw-away server started by the script
(Debian's postgresql binaries, as the tests do). JSON keys: patients, engine,
backup_s, plain_copy_s, backup_ratio, restore_s, plain_load_s, restore_ratio,
verify_s, verified, erased_after_backup, erasures_reapplied, erased_resurrected,
backup_mb, date, machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _common import emit, machine, today
from etanche.crypto import AgeIdentity, Custodian, create_quorum, open_share
from etanche.service._backup import create_backup, read_backup
from etanche.service._restore import quorum_opener, restore, verdict, verify_restored
from etanche.service._revisions import journal_for
from etanche.service._shred_ledger import ShredLedger
from etanche.service._trail import Trail
from etanche.service.bootstrap import load_synthetic
from etanche.synth import SynthConfig, generate
from etanche.vault import Vault, VaultLocation, copy_database, load_database, parse_location

FULL = 491_840
NAMES = ("aleroux", "ylegoff", "mkerbrat")


@contextmanager
def _locations(engine: str, tmp: Path) -> Iterator[Callable[[str], VaultLocation]]:
    """A factory of new, empty vault locations on the chosen engine."""
    if engine == "sqlite":
        yield lambda name: parse_location(str(tmp / name))
        return
    from _postgres import running_server

    with running_server() as server:

        def fresh(name: str) -> VaultLocation:
            url = server.create_database(f"{name}_{uuid.uuid4().hex[:8]}")
            return parse_location(url, tmp / "unused-key-file")

        yield fresh


def _timed(work: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    value = work()
    return value, time.perf_counter() - started


def run(engine: str, patients: int, erase_after: int) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="etanche-bench-") as name,
        _locations(engine, Path(name)) as new_location,
    ):
        tmp = Path(name)
        custodians, keys = [], {}
        for who in NAMES:
            key = AgeIdentity.generate()
            keys[who] = key.secret_text()
            custodians.append(Custodian(who, key.public_text()))
        provider, encrypted = create_quorum(tmp / "custody", custodians, threshold=2)
        shares = [open_share(encrypted[w], keys[w]) for w in NAMES[:2]]
        location = new_location("vault")
        Vault.create_with(location, provider).close()
        load_synthetic(location, provider, generate(SynthConfig(patients=patients, seed=3)))

        store = Vault.open_with(location, provider)
        trail = Trail.for_vault(store)
        store.record_writes(journal_for(trail))
        ledger = ShredLedger(tmp / "shred-ledger.jsonl", store)
        ledger.sync()
        store.on_shred(ledger.append)
        ids = store.patient_ids()
        store.erase_many(ids[:100])
        manifest, backup_s = _timed(lambda: create_backup(store, trail, provider, tmp / "backups"))
        store.erase_many(ids[100 : 100 + erase_after])
        _, plain_copy_s = _timed(lambda: copy_database(location, tmp / "plain.copy"))
        trail.close()
        store.close()

        folder = tmp / "backups" / str(manifest["id"])
        backup_mb = (folder / "vault.age").stat().st_size / 1e6
        target = new_location("restored")
        report, restore_s = _timed(
            lambda: restore(
                read_backup(folder),
                target,
                tmp / "restored-custody",
                quorum_opener(shares),
                ledger.path,
            )
        )
        _, restored, _ = quorum_opener(shares)(tmp / "restored-custody", manifest["id"])
        checks, verify_s = _timed(lambda: verify_restored(read_backup(folder), target, restored))
        report |= checks
        _, plain_load_s = _timed(lambda: load_database(new_location("plain"), tmp / "plain.copy"))
    return {
        "patients": patients,
        "engine": engine,
        "backup_s": round(backup_s, 2),
        "plain_copy_s": round(plain_copy_s, 2),
        "backup_ratio": round(backup_s / plain_copy_s, 2),
        "restore_s": round(restore_s, 2),
        "plain_load_s": round(plain_load_s, 2),
        "restore_ratio": round(restore_s / plain_load_s, 2),
        "verify_s": round(verify_s, 2),
        "verified": verdict(report),
        "erased_after_backup": erase_after,
        "erasures_reapplied": report["erasures_reapplied"],
        "erased_resurrected": report["erased_resurrected"],
        "backup_mb": round(backup_mb, 1),
        "date": today(),
        "machine": machine(),
        "load": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def _markdown(results: list[dict[str, Any]]) -> str:
    rows = "\n".join(
        f"| {r['engine']} | {r['patients']:,} | {r['backup_s']} s ({r['backup_mb']} MB; plain copy "
        f"{r['plain_copy_s']} s, ratio {r['backup_ratio']}) | {r['restore_s']} s (plain load "
        f"{r['plain_load_s']} s, ratio {r['restore_ratio']}) | {r['verify_s']} s | "
        f"{str(r['verified']).lower()} | {r['erasures_reapplied']} of {r['erased_after_backup']} "
        f"| {r['erased_resurrected']} |"
        for r in results
    )
    return (
        f"## Backups that restore ({results[0]['date']}, {results[0]['machine']})\n\n"
        "`python bench/restore.py --json --engine sqlite|postgresql`: a backup under a 2-of-3 "
        "quorum, erasures after it, a restore with two custodians' shares, the drill's checks. "
        f"Load average at the end of the run: {results[0].get('load', 'not measured')}.\n\n"
        "| engine | patients | backup | restore (ledger re-applied) | verify (every record "
        "decrypted, indexes, log, values) | verified (goal true) | erasures re-applied | "
        "erased_resurrected (goal 0) |\n|---|---|---|---|---|---|---|---|\n" + rows
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--patients", type=int, default=FULL)
    parser.add_argument("--erase-after", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.engine, args.patients, args.erase_after)
    emit(result, args.json, f"restore-{args.engine}", _markdown([result]))


if __name__ == "__main__":
    main()
