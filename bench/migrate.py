"""The whole migration chain on the leaked-size network: check, run, verify into a vault.

    python bench/migrate.py --json [--patients N] [--workers 2]
                                   [--engine sqlite|postgresql|both] [--url postgresql://...]

The legacy export of N synthetic patients (491,840 by default) is written first
(not timed); then `check` (dry run), `run` (package: select, fingerprint, add
canaries, age-encrypt, sign, write the ledger entry) and `verify --import`
(signature, then every part's hashes and counts checked as it is imported into
a new encrypted vault, marks undone, one transaction) are timed one after the
other, as the CLI and the service run them. The recipient's vault is on the chosen
engine (the sender's, which only keeps the plan, package record and ledger,
stays SQLite). Each stage also reports its CPU seconds, in the main process and
in all (workers included): on a loaded machine the main process's CPU is the
length of the pipeline, whatever the wall clock says. Package encryption is
compared with the stock `age` command encrypting the same plaintext bytes to
the same recipients (read from a pipe, never written to disk), side by side.
JSON keys: patients, check_s, run_s, verify_s, total_s, <stage>_main_cpu_s,
<stage>_cpu_s, peak_rss_mb, age_ratio (``{"sqlite": {...}, "postgresql": {...}}``
with --engine both).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine, peak_rss_mb, today
from _engines import Measured, add_engine_options, run_engines, section
from etanche.crypto import AgeIdentity, KdfCost, age_decrypt, age_encrypt
from etanche.exchange import FIELDS, write_legacy_csv
from etanche.leak.trace import unmark_row
from etanche.migrate import Plans, build_package, check_plan, import_rows, load_plan, open_package
from etanche.service import marker_for
from etanche.synth import SynthConfig, generate
from etanche.vault import Vault, VaultLocation, parse_location

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


class _Stages:
    """Wall clock and CPU seconds (main process; with its reaped workers) per stage."""

    def __init__(self) -> None:
        self.figures: dict[str, float] = {}

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        me, children = resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN

        def cpu(who: int) -> float:
            usage = resource.getrusage(who)
            return usage.ru_utime + usage.ru_stime

        wall, main_cpu, child_cpu = time.perf_counter(), cpu(me), cpu(children)
        yield
        main_used = cpu(me) - main_cpu
        self.figures[f"{stage}_s"] = round(time.perf_counter() - wall, 2)
        self.figures[f"{stage}_main_cpu_s"] = round(main_used, 2)
        self.figures[f"{stage}_cpu_s"] = round(main_used + cpu(children) - child_cpu, 2)


def measure(args: argparse.Namespace, where: VaultLocation, engine: str) -> Measured:
    network = generate(SynthConfig(patients=args.patients, seed=2020))
    labs = [lab.id for lab in network.labs]
    stages = _Stages()
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

        with stages.timed("check"):
            report = check_plan(plan, workers=args.workers)

        with stages.timed("run"):
            result = build_package(
                plan,
                sender,
                folder / "package",
                actor="operator",
                workers=args.workers,
                outbound=marker_for(plan, sender),  # fingerprints, canaries, ledger: as the CLI
            )

        target = Vault.create(where, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests())
        with stages.timed("verify"):
            checked = open_package(  # as the service's import: parts checked as they land
                folder / "package",
                [recipient],
                signer_key_pem=plans.signer.public_key_pem(),
                parts=False,
            )
            reconciliation = import_rows(
                checked, target, workers=args.workers, normalise=unmark_row
            )
        assert reconciliation.matches and target.count() == result.records == report.valid
        rss = peak_rss_mb()
        sender_recipient = checked.manifest["sender_copy"]
        ratio = _age_ratio(
            folder / "package", recipient, [recipient.public_text(), sender_recipient]
        )
        target.close()
        sender.close()

    figures = stages.figures
    total = figures["check_s"] + figures["run_s"] + figures["verify_s"]
    result_json = {
        "patients": args.patients,
        "records_packaged": result.records,
        **figures,
        "total_s": round(total, 2),
        "peak_rss_mb": round(rss, 1),
        "age_ratio": round(ratio["ours_s"] / ratio["age_s"], 2),
        "age_mb": round(ratio["mb"], 1),
        "workers": args.workers,
        "date": today(),
        "machine": machine(),
    }
    goals = (
        f"whole chain {result_json['total_s']} s (goal <= 90 s at 491,840 patients), peak RSS "
        f"{result_json['peak_rss_mb']} MB (goal <= 1536), package encryption "
        f"{result_json['age_ratio']}x the stock age command (goal <= 1.25)"
    )
    cpu = ", ".join(
        f"{stage} {figures[f'{stage}_main_cpu_s']} s main / {figures[f'{stage}_cpu_s']} s all"
        for stage in ("check", "run", "verify")
    )
    markdown = (
        f"### migrate: {args.patients:,} patients, {engine}, {result_json['date']}, "
        f"{result_json['machine']}\n\n"
        f"`python bench/migrate.py --json --patients {args.patients} --workers {args.workers} "
        f"--engine {engine}`\n\n"
        "| check | run | verify + import | total | peak RSS | encryption vs age |\n"
        "|---|---|---|---|---|---|\n"
        f"| {figures['check_s']} s | {figures['run_s']} s | {figures['verify_s']} s | "
        f"{result_json['total_s']} s | {result_json['peak_rss_mb']} MB | "
        f"{result_json['age_ratio']} ({ratio['ours_s']:.2f} s vs {ratio['age_s']:.2f} s, "
        f"{result_json['age_mb']} MB) |\n\nCPU seconds per stage: {cpu}.\n\n{goals}"
    )
    return result_json, section("migrate", engine), markdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=FULL)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--workers", type=int, default=2, help="validating / sealing processes beside the main one"
    )
    add_engine_options(parser)
    args = parser.parse_args()
    if shutil.which("age") is None:
        sys.exit("the stock age command is needed (Debian package age)")
    run_engines(args, lambda where, engine: measure(args, where, engine))


if __name__ == "__main__":
    main()
