"""The whole migration chain on the leaked-size network: check, run, verify into a vault.

    python bench/migrate.py --json [--patients N] [--workers 1]

The legacy export of N synthetic patients (491,840 by default) is written first
(not timed); then `check` (dry run), `run` (package: select, fingerprint, add
canaries, age-encrypt, sign, write the ledger entry) and `verify` (signature,
hashes, then import into a new encrypted vault, marks undone) are timed one
after the other, as the CLI runs them. Package encryption is
compared with the stock `age` command encrypting the same plaintext bytes to
the same recipients (read from a pipe, never written to disk), side by side.
JSON keys: patients, check_s, run_s, verify_s, total_s, peak_rss_mb, age_ratio.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))

from _common import emit, machine, peak_rss_mb, today
from etanche.crypto import AgeIdentity, KdfCost, age_decrypt, age_encrypt
from etanche.exchange import FIELDS, write_legacy_csv
from etanche.leak.trace import unmark_row
from etanche.migrate import Plans, build_package, check_plan, import_rows, load_plan, open_package
from etanche.service import marker_for
from etanche.synth import SynthConfig, generate
from etanche.vault import Vault, parse_location

FULL = 491_840
PASSPHRASE = "benchmark passphrase"


def _plan(folder: Path, source: Path, recipient: str, labs: list[str]) -> Path:
    plan = {
        "plan": "bench-migration",
        "controller": {"name": "Réseau synthétique", "labs": labs},
        "processor": {"name": "Vendor SAS", "contact": "dpo@vendor.example"},
        "purpose": "Benchmark: move every lab to a new system",
        "source": {"format": "legacy-csv", "path": str(source)},
        "scope": {"labs": labs},
        "fields": {
            # every patient field the legacy export holds, but its file number and lab code
            "admin": [
                name
                for name, spec in FIELDS.items()
                if spec.compartment == "admin"
                and not name.startswith("specimen.")
                and name not in ("lab", "dossier", "country")
            ],
            "clinical": ["blood_group", "comments"],
        },
        "recipients": [{"name": "New LIS", "age": recipient}],
        "retention": {"expires": "2099-12-31"},
        "approvers": [
            {"username": "approver.one", "role": "lab_admin"},
            {"username": "approver.two", "role": "dpo"},
        ],
    }
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True))
    return path


def _age_ratio(package: Path, identity: AgeIdentity, recipients: list[str]) -> dict[str, float]:
    """Our part encryption vs `age -r … -r …` on the same bytes, side by side."""
    import json

    manifest = json.loads((package / "manifest.json").read_bytes())
    parts = [
        age_decrypt((package / p["name"]).read_bytes(), [identity], what=p["name"])
        for p in manifest["parts"]
    ]
    started = time.perf_counter()
    for plaintext in parts:
        age_encrypt(plaintext, recipients)
    ours = time.perf_counter() - started
    args = ["age", *(x for r in recipients for x in ("-r", r)), "-o", "/dev/null"]
    started = time.perf_counter()
    subprocess.run(args, input=b"".join(parts), check=True)
    stock = time.perf_counter() - started
    return {"ours_s": ours, "age_s": stock, "mb": sum(map(len, parts)) / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=FULL)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--workers", type=int, default=2, help="validating / sealing processes beside the main one"
    )
    args = parser.parse_args()
    if shutil.which("age") is None:
        sys.exit("the stock age command is needed (Debian package age)")
    network = generate(SynthConfig(patients=args.patients, seed=2020))
    labs = [lab.id for lab in network.labs]
    with tempfile.TemporaryDirectory(prefix="etanche-bench-") as tmp:
        folder = Path(tmp)
        source = folder / "export.csv"
        write_legacy_csv(network, source)
        recipient = AgeIdentity.generate()
        plan_path = _plan(folder, source, recipient.public_text(), labs)
        sender = Vault.create(
            parse_location(str(folder / "sender")), PASSPHRASE, kdf_cost=KdfCost.fast_for_tests()
        )
        for lab in network.labs:
            sender.add_lab(lab)
        plan = load_plan(plan_path)
        plans = Plans(sender)
        plans.register(plan, "operator")
        plans.approve(plan, "approver.one")
        plans.approve(plan, "approver.two")

        started = time.perf_counter()
        report = check_plan(plan, workers=args.workers)
        check_s = time.perf_counter() - started

        started = time.perf_counter()
        result = build_package(
            plan,
            sender,
            folder / "package",
            actor="operator",
            workers=args.workers,
            outbound=marker_for(plan, sender),  # fingerprints, canaries, ledger: as the CLI
        )
        run_s = time.perf_counter() - started

        target = Vault.create(
            parse_location(str(folder / "target")), PASSPHRASE, kdf_cost=KdfCost.fast_for_tests()
        )
        started = time.perf_counter()
        checked = open_package(
            folder / "package", [recipient], signer_key_pem=plans.signer.public_key_pem()
        )
        reconciliation = import_rows(checked, target, workers=args.workers, normalise=unmark_row)
        verify_s = time.perf_counter() - started
        assert reconciliation.matches and target.count() == result.records == report.valid
        rss = peak_rss_mb()
        sender_recipient = checked.manifest["sender_copy"]
        ratio = _age_ratio(
            folder / "package", recipient, [recipient.public_text(), sender_recipient]
        )
        target.close()
        sender.close()

    total = check_s + run_s + verify_s
    result_json = {
        "patients": args.patients,
        "records_packaged": result.records,
        "check_s": round(check_s, 2),
        "run_s": round(run_s, 2),
        "verify_s": round(verify_s, 2),
        "total_s": round(total, 2),
        "peak_rss_mb": round(rss, 1),
        "age_ratio": round(ratio["ours_s"] / ratio["age_s"], 2),
        "age_mb": round(ratio["mb"], 1),
        "workers": args.workers,
        "date": today(),
        "machine": machine(),
    }
    goals = (
        f"whole chain {result_json['total_s']} s (goal <= 120 s), peak RSS "
        f"{result_json['peak_rss_mb']} MB (goal <= 1536), package encryption "
        f"{result_json['age_ratio']}x the stock age command (goal <= 1.25)"
    )
    emit(
        result_json,
        args.json,
        "migrate",
        f"### migrate: {args.patients:,} patients, {result_json['date']}, "
        f"{result_json['machine']}\n\n"
        f"`python bench/migrate.py --json --patients {args.patients} --workers {args.workers}`\n\n"
        "| check | run | verify + import | total | peak RSS | encryption vs age |\n"
        "|---|---|---|---|---|---|\n"
        f"| {result_json['check_s']} s | {result_json['run_s']} s | {result_json['verify_s']} s | "
        f"{result_json['total_s']} s | {result_json['peak_rss_mb']} MB | "
        f"{result_json['age_ratio']} ({ratio['ours_s']:.2f} s vs {ratio['age_s']:.2f} s, "
        f"{result_json['age_mb']} MB) |\n\n{goals}",
    )


if __name__ == "__main__":
    main()
