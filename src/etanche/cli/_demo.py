"""``etanche demo``: a synthetic network, its service, and a tour as the staff live it.

Set up as a network would be, only faster: ``init`` with a one-custodian demo
custody whose share sits in clear in a 0600 file (said loudly), the synthetic
load opened with that share, the service started sealed and unsealed with it.
From then on every step is a person's request to the service, exactly as with
the CLI: logins with TOTP, searches, sheets, refusals, key rotations, an
erasure, a migration, the audit log verified with its public key only.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from etanche._witness_process import LocalWitness, start_local_witness
from etanche.cli import _context as ctx
from etanche.cli._app import app
from etanche.cli._demo_cast import DEMO_PASSWORD, Cast, enrol_cast
from etanche.client import connect
from etanche.errors import PermissionDenied, UsageError

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
    """Synthetic network, its service, one person per role, a tour, then serve."""
    from etanche.service.bootstrap import (
        DemoPlan,
        audit_log_vkey,
        custody_folder,
        initialise,
        load_synthetic,
        locate,
        open_custody,
        opened_provider,
    )
    from etanche.synth import SynthConfig, generate
    from etanche.web import Background, WebConfig, bind_tcp, bind_unix, create_app

    directory = Path(vault or ctx.config().vault or "demo-vault").resolve()
    location = locate(str(directory))
    folder = custody_folder(location, None)
    share = directory.with_name(directory.name + "-share.txt")
    _reset(directory, folder, share)
    network = generate(SynthConfig(patients=FULL_SIZE if full else patients, seed=seed))
    say = ctx.console.print
    say(
        f"[bold]Étanche demo[/bold]: synthetic network of {network.config.patients:,} patients, "
        f"{len(network.labs)} labs, vault {directory}"
    )
    initialise(location, folder, DemoPlan(share), ("ylegoff", "Yannick Le Goff", DEMO_PASSWORD))
    (directory / _MARKER).write_text("synthetic demo vault; safe to delete\n", encoding="utf-8")
    ctx.err_console.print(
        f"WARNING: demo custody. The one unseal share is in clear in {share} (mode 0600): "
        "whoever reads it can unseal this vault. Real custody splits it among named "
        "custodians (`etanche init --custodian …`) or keeps the KEK in an HSM.",
        markup=False,
    )
    started = time.perf_counter()
    line = share.read_text(encoding="ascii").strip()
    provider = opened_provider(folder, [line])
    with ctx.progress_bar("Encrypting patients", network.config.patients) as bar:
        load_synthetic(location, provider, network, lambda n: ctx.advance(bar, n))
    say(f"Encrypted ingest took {time.perf_counter() - started:.1f} s.")
    witness, listing = _start_witness(directory, audit_log_vkey(location, provider))

    socket_path = folder / "service.sock"
    sockets = [bind_unix(socket_path)]
    if serve:
        sockets.insert(0, bind_tcp(host, port))
    config = WebConfig(location, open_custody(folder), trail_mode="buffered", witnesses=listing)
    server = Background(create_app(config), sockets).start()
    address = f"unix:{socket_path}"
    try:
        anonymous = connect(address)
        status = anonymous.post("/custody/unseal", {"share": line})
        say(f"\nService started sealed; unsealed with the demo share: {not status['sealed']}.")
        home = tuple(lab.id for lab in network.labs[:2])
        cast = enrol_cast(anonymous, home, line)
        say(
            "Accounts: the lab admin made by init asked for one person per role; each "
            "privileged one was approved by a second person (the first DPO by the custodian, "
            "the others by the DPO) before its first login."
        )
        samples = _samples(network, home)
        _tour(cast, samples, line)
        from etanche.cli._demo_migration import migration_tour

        migration_tour(cast, network, directory)
        _supervision(cast, directory)
        _raw_file_check(location.sqlite_path, samples)
        cli_address = f"http://{host}:{port}" if serve else address
        _print_cast(cast, cli_address, directory, samples[0].nir)
        if serve:
            say(f"\nServing the application: open http://{host}:{port}/ and log in as above.")
            server.wait()
        else:
            say(
                f"\nServe it again: ETANCHE_VAULT={directory} etanche serve --socket "
                f"{socket_path}, then `etanche unseal --share-file {share}`."
            )
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        witness.stop()


def _start_witness(directory: Path, log_vkey: str) -> tuple[LocalWitness, Path]:
    """One local witness in its own folder (``<vault>-witness``), as a process of its own.

    In a network the DPO, another lab or the head office runs it; here it runs
    beside the demo so the auditor's verification checks its cosignatures.
    """
    folder = directory.with_name(directory.name + "-witness")
    if folder.exists():
        shutil.rmtree(folder)
    key_file = directory.with_name(directory.name + "-audit-log.vkey")
    key_file.write_text(log_vkey + "\n", encoding="ascii")
    witness = start_local_witness(folder, "demo.invalid/witness", key_file)
    listing = directory.with_name(directory.name + "-witnesses.txt")
    listing.write_text(f"{witness.vkey} {witness.url}\n", encoding="ascii")
    ctx.console.print(
        f"Witness demo.invalid/witness runs as its own process in {folder} "
        f"({witness.url}); it cosigns each head after checking consistency."
    )
    return witness, listing


def _reset(directory: Path, custody: Path, share: Path) -> None:
    if directory.exists() and any(directory.iterdir()):
        if not (directory / _MARKER).exists():
            raise UsageError(f"--vault {directory}: exists and is not a demo vault; choose another")
        shutil.rmtree(directory)
    if custody.exists():
        if not (custody / "custody.json").exists() and any(custody.iterdir()):
            raise UsageError(f"custody {custody}: exists and is not a demo custody")
        shutil.rmtree(custody)
    share.unlink(missing_ok=True)


def _samples(network: Any, home: tuple[str, ...]) -> list[Any]:
    chosen: list[Any] = []
    for patient in network.patients():
        if patient.lab_id in home and patient.nir and patient.phones and patient.emails:
            chosen.append(patient)
        if len(chosen) == 3:
            break
    return chosen


def _timed(call: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    answer = call()
    return answer, (time.perf_counter() - started) * 1000


def _tour(cast: Cast, samples: list[Any], share: str) -> None:
    """Each step as a named person does it, through the service: decided, audited."""
    say = ctx.console.print
    first = samples[0]
    biologist = cast.client("jmartin")
    say("\n[bold]Jeanne Martin (biologist) searches[/bold] by blind index (synthetic values):")
    lookups: list[tuple[str, dict[str, Any]]] = [
        (f"NIR {first.nir}", {"nir": first.nir}),
        (
            f"{first.birth_name} {first.first_first_name} born {first.birth_date}",
            {
                "birth_name": first.birth_name,
                "first_name": first.first_first_name,
                "birth_date": first.birth_date.isoformat(),
            },
        ),
        (f"phone {first.phones[0]}", {"phone": first.phones[0]}),
        (f"e-mail {first.emails[0]}", {"email": first.emails[0]}),
    ]
    for label, body in lookups:
        found, ms = _timed(lambda body=body: biologist.post("/patients/search", body))
        say(f"  by {label}: {found['count']} match(es) in {ms:.1f} ms (audited)", markup=False)
    from etanche.cli._render import summary_table

    rows = []
    for patient in samples:
        rows += biologist.post("/patients/search", {"nir": patient.nir})["patients"]
    say(summary_table(rows))
    sheet = biologist.get(f"/patients/{first.id}")
    say(f"  her sheet of {first.id} holds clinical data: {isinstance(sheet['clinical'], dict)}")
    seen = cast.client("mkerbrat").get(f"/patients/{first.id}")
    say(
        "[bold]Morgane Kerbrat (reception)[/bold] opens the same patient: clinical data "
        f"present: {isinstance(seen['clinical'], dict)} (her session never unwraps a clinical "
        "key)."
    )
    try:
        cast.client("aleroux").get(f"/patients/{first.id}")
    except PermissionDenied as exc:
        say(f"[bold]Anne Le Roux (DPO)[/bold] tries to open it: refused ({exc}); logged.")
    admin = cast.client("ylegoff")
    started = time.perf_counter()
    report = ctx.follow(
        admin.stream("POST", f"/keys/rotate-lab/{first.lab_id}", {"batch_size": 500}),
        f"Re-encrypting lab {first.lab_id}",
    )
    say(
        f"[bold]Yannick Le Goff (lab_admin)[/bold] rotates lab {first.lab_id}'s key: "
        f"{report['patients']} patients re-encrypted under v{report['version']} in "
        f"{time.perf_counter() - started:.1f} s; old key shredded."
    )
    try:
        admin.post("/keys/rotate-kek")
    except PermissionDenied as exc:
        say(f"  she asks for a new KEK alone: refused ({exc}).", markup=False)
    connect(cast.address).post("/custody/approve", {"operation": "rotate-kek", "share": share})
    rotated = admin.post("/keys/rotate-kek")
    say(
        f"  the demo's custodian approves with her share; the KEK rotates: "
        f"{rotated['data_keys']} data keys rewrapped under {rotated['kek']}."
    )
    victim = samples[-1]
    biologist.post(f"/patients/{victim.id}/erase")
    remaining = biologist.post("/patients/search", {"nir": victim.nir})["count"]
    say(f"[bold]Erase[/bold] {victim.id}: now found by NIR {remaining} time(s).")


def _supervision(cast: Cast, directory: Path) -> None:
    """Decoys planted and the log verified, by the DPO and the auditor, through the service."""
    from etanche.cli._demo_migration import supervision_tour

    supervision_tour(cast, directory)


def _print_cast(cast: Cast, address: str, directory: Path, nir: str) -> None:
    """One line per person, nothing cut: the secrets must be copied whole."""
    say = ctx.console.print
    say(f"\n[bold]Demo accounts[/bold] (synthetic; password for all: {DEMO_PASSWORD}):")
    for person in cast.people:
        labs = "every lab" if "*" in person.labs else ", ".join(person.labs)
        say(
            f"  {person.username:<10} {person.full_name:<16} {person.role:<18} {labs:<10} "
            f"TOTP secret {person.totp_secret}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    say("Add a secret to an authenticator app (or `oathtool --totp -b SECRET`) for the codes.")
    biologist = next((p for p in cast.people if p.role == "biologist"), cast.people[0])
    dpo = next((p for p in cast.people if p.role == "dpo"), cast.people[0])
    lines = [
        f"\nThe CLI against this demo (vault {directory}), in another terminal:",
        f"  export ETANCHE_SERVICE={address}",
        f"  ETANCHE_USER={biologist.username} ETANCHE_PASSWORD='{DEMO_PASSWORD}' etanche login"
        "   # then the TOTP code of its secret above",
        "  etanche whoami",
        f"  etanche find --nir {nir} --json   # a synthetic patient of the tour",
        "  etanche logout",
        f"  ETANCHE_USER={dpo.username} ETANCHE_PASSWORD='{DEMO_PASSWORD}' etanche login"
        "   # the DPO",
        "  etanche audit show / etanche alerts list / etanche audit verify",
    ]
    for line in lines:
        say(line, markup=False, highlight=False, soft_wrap=True)


def _raw_file_check(database: Path, samples: list[Any]) -> None:
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
