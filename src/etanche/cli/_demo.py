"""``etanche demo``: a synthetic network in a SQLite vault, then a short tour."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated

import typer

from etanche._files import write_private
from etanche.access import Actor
from etanche.audit import verify_log
from etanche.audit._decoys import plant_decoys
from etanche.cli import _legacy as ctx
from etanche.cli._app import app
from etanche.cli._demo_migration import migration_tour
from etanche.cli._demo_people import DEMO_PASSWORD, DemoPerson, enrol_cast
from etanche.cli._render import summary_table
from etanche.domain import Clinical, Patient
from etanche.errors import PermissionDenied, UsageError
from etanche.service import KeyService, PatientService, Trail, patient_summary
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
    serve: Annotated[bool, typer.Option(help="Serve the application afterwards.")] = True,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
) -> None:
    """Synthetic network in a fresh SQLite vault, one person per role, a tour, then serve."""
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
        write_private(directory / _MARKER, "synthetic demo vault; safe to delete\n")
        started = time.perf_counter()
        for lab in network.labs:
            store.add_lab(lab)
        with ctx.progress_bar("Encrypting patients", network.config.patients) as bar:
            store.add_many(
                ((p, s) for batch in network.batches() for p, s in batch),
                validate=False,
                progress=lambda n: ctx.advance(bar, n),
            )
        say(f"Encrypted ingest took {time.perf_counter() - started:.1f} s.")
        home = tuple(lab.id for lab in network.labs[:2])
        people, actors = enrol_cast(store, home)
        planted = plant_decoys(store, 10)
    samples = _samples((p for p in network.patients() if p.lab_id in home), 3)
    with Vault.open(where, secret, compartments=()) as store:
        trail = Trail.for_vault(store)
        try:
            _tour(store, trail, actors, samples)
            migration_tour(store, trail, actors, network, directory)
        finally:
            trail.close()
        report = verify_log(store.engine, trail.log.public_key_pem())
        write_private(directory / "audit-public.pem", trail.log.public_key_pem())
    say(
        f"\n[bold]Audit log[/bold]: {report.events} events, {report.heads} signed heads, "
        f"verified with the public key only: {'OK' if report.ok else 'FAILED'}; "
        f"{len(planted)} decoy patients planted."
    )
    _raw_file_check(where.sqlite_path, samples)
    _print_cast(people, home)
    if serve:
        from etanche.crypto import PassphraseKeyFile
        from etanche.service import Custody
        from etanche.web import Background, WebConfig, bind_tcp, create_app

        assert where.keyfile is not None
        custody = Custody.unsealed(PassphraseKeyFile.open(where.keyfile, secret))
        say(f"\nServing the application: open http://{host}:{port}/ and log in as one of them.")
        server = Background(
            create_app(WebConfig(where, custody, trail_mode="buffered")), [bind_tcp(host, port)]
        ).start()
        try:
            server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
    else:
        say(f"\nServe it: ETANCHE_VAULT={directory} ETANCHE_PASSPHRASE='{secret}' etanche serve")


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


def _tour(store: Vault, trail: Trail, actors: dict[str, Actor], samples: list[Patient]) -> None:
    """Each step as a named person would do it: decided, audited, supervised."""
    say = ctx.console.print
    first = samples[0]
    biologist = PatientService(store.session(()), trail, actors["jmartin"], client="demo")
    say("\n[bold]Jeanne Martin (biologist) searches[/bold] by blind index (synthetic values):")
    lookups: list[tuple[str, Callable[[], list[Patient]]]] = [
        (f"NIR {first.nir}", lambda: biologist.find_by_nir(first.nir or "")),
        (
            f"{first.birth_name} {first.first_first_name} born {first.birth_date}",
            lambda: biologist.find_by_name(
                first.birth_name, first.first_first_name, first.birth_date
            ),
        ),
        (f"phone {first.phones[0]}", lambda: biologist.find_by_phone(first.phones[0])),
        (f"e-mail {first.emails[0]}", lambda: biologist.find_by_email(first.emails[0])),
    ]
    for label, lookup in lookups:
        timer = time.perf_counter()
        found = lookup()
        elapsed_ms = (time.perf_counter() - timer) * 1000
        say(f"  by {label}: {len(found)} match(es) in {elapsed_ms:.1f} ms (audited)")
    say(summary_table([patient_summary(p, reveal=False) for p in samples]))
    sheet = biologist.get(first.id)
    say(f"  her sheet of {first.id} holds clinical data: {sheet.clinical != Clinical()}")
    reception = PatientService(store.session(()), trail, actors["mkerbrat"], client="demo")
    seen = reception.get(first.id)
    say(
        "[bold]Morgane Kerbrat (reception)[/bold] opens the same patient: clinical data "
        f"present: {seen.clinical != Clinical()} (her session never unwraps a clinical key)."
    )
    dpo = PatientService(store.session(()), trail, actors["aleroux"], client="demo")
    try:
        dpo.get(first.id)
    except PermissionDenied as exc:
        say(f"[bold]Anne Le Roux (DPO)[/bold] tries to open it: refused ({exc}); logged.")
    keys = KeyService(store.session(()), trail, actors["ylegoff"], client="demo")
    timer = time.perf_counter()
    report = keys.rotate_lab(first.lab_id)
    say(
        f"[bold]Yannick Le Goff (lab_admin)[/bold] rotates lab {first.lab_id}'s key: "
        f"{report.rows} patients re-encrypted under v{report.to_version} in "
        f"{time.perf_counter() - timer:.1f} s; old key shredded."
    )
    kek_id, rewrapped = keys.rotate_kek()
    say(f"  then the KEK: {rewrapped} data keys rewrapped under {kek_id}.")
    victim = samples[-1]
    biologist.erase(victim.id)
    remaining = len(biologist.find_by_nir(victim.nir or ""))
    say(f"[bold]Erase[/bold] {victim.id}: now found by NIR {remaining} time(s).")
    alerts = [a for a in trail.fired]
    if alerts:
        say(f"Alerts raised during the tour: {', '.join(sorted({a.rule for a in alerts}))}.")


def _print_cast(people: list[DemoPerson], home: tuple[str, ...]) -> None:
    """One line per person, nothing cut: the secrets must be copied whole."""
    say = ctx.console.print
    say(f"\n[bold]Demo accounts[/bold] (synthetic; password for all: {DEMO_PASSWORD}):")
    for person in people:
        labs = "every lab" if "*" in person.labs else ", ".join(person.labs)
        say(
            f"  {person.username:<10} {person.full_name:<16} {person.role.value:<18} {labs:<10} "
            f"TOTP secret {person.totp_secret}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    say("Add a secret to an authenticator app (or `oathtool --totp -b SECRET`) for the codes.")


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
