"""``etanche demo``: a synthetic network in a SQLite vault, then a short tour."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated

import typer

from etanche.cli import _context as ctx
from etanche.cli._app import app
from etanche.cli._render import patient_summary, summary_table
from etanche.cli._synth import load_network
from etanche.domain import Compartment, Patient
from etanche.errors import UsageError
from etanche.synth import SynthConfig, generate
from etanche.vault import Vault, parse_location

DEMO_PASSPHRASE = "demo passphrase - synthetic data only"  # noqa: S105 (demo vault only)
FULL_SIZE = 491_840
_MARKER = ".etanche-demo"


@app.command()
def demo(
    patients: Annotated[int, typer.Option(min=10, help="Patients in the demo network.")] = 5_000,
    full: Annotated[
        bool, typer.Option(help=f"The full {FULL_SIZE:,} patients of the case.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic network.")] = 0,
    vault: Annotated[
        str | None, typer.Option(help="Demo vault directory (default ./demo-vault).")
    ] = None,
) -> None:
    """Build a synthetic network in a fresh SQLite vault and tour the lookups."""
    directory = Path(vault or os.environ.get("ETANCHE_VAULT") or "demo-vault").resolve()
    _reset(directory)
    secret = os.environ.get("ETANCHE_PASSPHRASE") or DEMO_PASSPHRASE
    where = parse_location(str(directory))
    network = generate(SynthConfig(patients=FULL_SIZE if full else patients, seed=seed))
    say = ctx.console.print
    say(
        f"[bold]Étanche demo[/bold]: synthetic network of {network.config.patients:,} patients, "
        f"{len(network.labs)} labs, vault {directory}"
    )
    with Vault.create(where, secret) as store:
        (directory / _MARKER).write_text("synthetic demo vault; safe to delete\n", encoding="utf-8")
        started = time.perf_counter()
        load_network(store, network)
        say(f"Encrypted ingest took {time.perf_counter() - started:.1f} s.")
    samples = _samples(network.patients(), 3)
    with Vault.open(where, secret) as store:
        _tour(store, samples)
    with Vault.open(where, secret, compartments=(Compartment.ADMIN,)) as reception:
        seen = reception.get(samples[0].id)
        say(
            "\n[bold]A reception session[/bold] (admin compartment only) opens the same patient: "
            f"clinical part present: {seen.clinical != type(seen.clinical)()}."
        )
    _raw_file_check(where.sqlite_path, samples)
    say(
        f"\nTry it: ETANCHE_VAULT={directory} ETANCHE_PASSPHRASE='{secret}' "
        f"etanche find --nir <NIR> --reveal"
    )


def _reset(directory: Path) -> None:
    if directory.exists() and any(directory.iterdir()):
        if not (directory / _MARKER).exists():
            raise UsageError(f"--vault {directory}: exists and is not a demo vault; choose another")
        shutil.rmtree(directory)


def _samples(patients: Iterable[Patient], count: int) -> list[Patient]:
    chosen: list[Patient] = []
    for patient in patients:
        if patient.nir and patient.phones and patient.emails:
            chosen.append(patient)
        if len(chosen) == count:
            break
    return chosen


def _tour(store: Vault, samples: list[Patient]) -> None:
    say = ctx.console.print
    first = samples[0]
    say("\n[bold]Lookups through blind indexes[/bold] (values shown are synthetic):")
    lookups: list[tuple[str, Callable[[], list[Patient]]]] = [
        (f"NIR {first.nir}", lambda: store.find_by_nir(first.nir or "")),
        (
            f"{first.birth_name} {first.first_first_name} born {first.birth_date}",
            lambda: store.find_by_name(first.birth_name, first.first_first_name, first.birth_date),
        ),
        (f"phone {first.phones[0]}", lambda: store.find_by_phone(first.phones[0])),
        (f"e-mail {first.emails[0]}", lambda: store.find_by_email(first.emails[0])),
    ]
    for label, lookup in lookups:
        timer = time.perf_counter()
        found = lookup()
        elapsed_ms = (time.perf_counter() - timer) * 1000
        say(f"  by {label}: {len(found)} match(es) in {elapsed_ms:.1f} ms")
    say(summary_table([patient_summary(p, reveal=False) for p in samples]))
    say("  (masked by default; `etanche show ID --reveal` shows values)")
    specimens = store.specimens_of(first.id)
    say(f"\n[bold]Specimens[/bold] of patient {first.id}: {len(specimens)}")
    lab = first.lab_id
    timer = time.perf_counter()
    report = store.rotate_lab(lab)
    say(
        f"\n[bold]Lab key rotation[/bold] {lab}: {report.rows} patients re-encrypted under "
        f"v{report.to_version} in {time.perf_counter() - timer:.1f} s; old key shredded."
    )
    kek_id, rewrapped = store.rotate_kek()
    say(f"[bold]KEK rotation[/bold]: {rewrapped} data keys rewrapped under {kek_id}.")
    victim = samples[-1]
    store.erase(victim.id)
    remaining = len(store.find_by_nir(victim.nir or ""))
    say(f"[bold]Erase[/bold] {victim.id}: now found by NIR {remaining} time(s).")


def _raw_file_check(database: Path, samples: list[Patient]) -> None:
    raw = database.read_bytes()
    wal = database.with_name(database.name + "-wal")
    if wal.exists():
        raw += wal.read_bytes()
    needles = [v.encode() for p in samples for v in (p.nir or "", p.birth_name, *p.phones) if v]
    leaked = sum(1 for n in needles if n in raw)
    ctx.console.print(
        f"\n[bold]Raw database file[/bold] ({len(raw) / 1e6:.1f} MB, WAL included): "
        f"{leaked} of {len(needles)} sample values found in clear."
    )
