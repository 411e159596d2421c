"""Bootstrap commands: init, serve, unseal, upgrade, synth.

The only commands that run without a logged-in person. ``init`` creates custody
and the vault; ``serve`` runs the service, sealed until its custodians unseal it
with ``unseal``; ``synth`` loads a synthetic network and, like an unseal, needs
the custodians' shares. Each loads the service's rooms only when it runs.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from etanche.cli import _context as ctx
from etanche.cli._app import app
from etanche.errors import UsageError

if TYPE_CHECKING:
    from etanche.service.bootstrap import VaultLocation
    from etanche.synth import SynthNetwork

VaultOption = Annotated[
    str | None,
    typer.Option("--vault", help="Vault directory (SQLite) or postgresql:// URL [ETANCHE_VAULT]."),
]
CustodyOption = Annotated[
    str | None,
    typer.Option(
        "--custody",
        help="Custody folder (default: beside the vault folder, '-custody') [ETANCHE_CUSTODY].",
    ),
]
ShareFiles = Annotated[
    list[Path] | None,
    typer.Option("--share-file", help="A custodian's share in clear (repeat up to the quorum)."),
]
PinFile = Annotated[
    Path | None, typer.Option("--pin-file", help="File holding the PKCS#11 token's user PIN.")
]


def _where(vault: str | None, custody: str | None) -> tuple[VaultLocation, Path]:
    from etanche.service.bootstrap import custody_folder, locate

    settings = ctx.config()
    location = locate(vault or settings.vault, settings)
    return location, custody_folder(location, custody or settings.custody)


def _read_secret(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise UsageError(f"{what} {path}: cannot read it") from None


@app.command()
def init(
    vault: VaultOption = None,
    custody: CustodyOption = None,
    custodian: Annotated[
        list[str] | None,
        typer.Option(help="NAME=age1… : a custodian and their age public key (repeat)."),
    ] = None,
    threshold: Annotated[
        int | None, typer.Option(min=1, help="Shares needed to unseal (M of N custodians).")
    ] = None,
    shares_out: Annotated[
        Path | None, typer.Option(help="Folder for the custodians' encrypted shares.")
    ] = None,
    demo_share: Annotated[
        Path | None,
        typer.Option(help="One custodian, share written IN CLEAR to this 0600 file (demos)."),
    ] = None,
    pkcs11_module: Annotated[
        Path | None, typer.Option(help="PKCS#11 module of the HSM holding the KEK.")
    ] = None,
    token: Annotated[str | None, typer.Option(help="PKCS#11 token label.")] = None,
    pin_file: PinFile = None,
    admin_user: Annotated[
        str | None, typer.Option(help="User name of the first account (a network-wide lab_admin).")
    ] = None,
    admin_name: Annotated[
        str | None, typer.Option(help="Full name of the person holding the first account.")
    ] = None,
) -> None:
    """Create custody (custodian shares or an HSM token), the vault and the first account.

    Custody is one of: --custodian NAME=age1… (repeat) with --threshold and
    --shares-out; --pkcs11-module with --token and --pin-file; --demo-share FILE.
    The first account's password comes from ETANCHE_PASSWORD or a prompt.
    """
    from etanche.service.bootstrap import Custodian, DemoPlan, QuorumPlan, TokenPlan, initialise

    location, folder = _where(vault, custody)
    chosen = [bool(custodian), demo_share is not None, pkcs11_module is not None]
    if sum(chosen) != 1:
        raise UsageError("init: choose one custody: --custodian …, --pkcs11-module or --demo-share")
    plan: QuorumPlan | DemoPlan | TokenPlan
    if custodian:
        people = []
        for given in custodian:
            name, sep, recipient = given.partition("=")
            if not sep or not name.strip():
                raise UsageError("--custodian: expected NAME=age1…")
            people.append(Custodian(name.strip(), recipient.strip()))
        if threshold is None or shares_out is None:
            raise UsageError("--custodian: give --threshold and --shares-out too")
        plan = QuorumPlan(people, threshold, shares_out.resolve())
    elif demo_share is not None:
        plan = DemoPlan(demo_share.resolve())
    else:
        assert pkcs11_module is not None
        if not token or pin_file is None:
            raise UsageError("--pkcs11-module: give --token and --pin-file too")
        plan = TokenPlan(pkcs11_module, token, _read_secret(pin_file, "--pin-file"))
    settings = ctx.config()
    admin_user = admin_user or settings.admin_user
    admin_name = admin_name or settings.admin_name
    if (admin_user or admin_name) and not (admin_user and admin_name):
        raise UsageError("init: give both --admin-user and --admin-name")
    if not admin_user and sys.stdin.isatty():
        admin_user = ctx.ask(None, "User name of the first account (lab_admin)", "")
        admin_name = ctx.ask(None, "Full name of that person", "")
    if not (admin_user and admin_name):
        # no unauthenticated door afterwards: the first lab admin is made here or never
        raise UsageError("init: give the first account with --admin-user and --admin-name")
    admin = (admin_user, admin_name, ctx.new_password(settings.password, "ETANCHE_PASSWORD"))
    report = initialise(location, folder, plan, admin)
    ctx.say(f"Vault created at {report.location.describe()}, custody ({report.kind}) in {folder}.")
    for path in report.written:
        ctx.say(f"  share written to {path} (mode 0600)")
    if isinstance(plan, DemoPlan):
        ctx.err_console.print(
            "WARNING: demo custody: the only share is in clear in "
            f"{plan.share_file}. Whoever reads that file can unseal this vault. "
            "Never use it for real data.",
            markup=False,
        )
    ctx.say(
        f"First account {report.admin} (lab_admin, every lab): `etanche login` sets up its "
        "TOTP once the service runs (`etanche serve`, then `etanche unseal`)."
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    socket_path: Annotated[
        Path | None,
        typer.Option("--socket", help="Also listen on this Unix socket (mode 0600), for the CLI."),
    ] = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="Alert rules (YAML).")] = None,
    certfile: Annotated[Path | None, typer.Option(help="TLS certificate (PEM).")] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="TLS private key.")] = None,
    pin_file: PinFile = None,
    share_file: ShareFiles = None,
    workers: Annotated[
        int,
        typer.Option(
            min=0, max=32, help="Worker processes once unsealed (0: one per core, up to 4)."
        ),
    ] = 0,
    vault: VaultOption = None,
    custody: CustodyOption = None,
) -> None:
    """Run the service: the web application, the FHIR API and the JSON API of the CLI.

    It starts sealed: custodians unseal it with `etanche unseal` (or --pin-file for
    an HSM token, --share-file for a demo share). It is the only process that
    unwraps keys.
    """

    from fastapi import FastAPI

    from etanche.service.bootstrap import open_custody
    from etanche.web import Background, WebConfig, bind_tcp, bind_unix, create_app, run_workers

    if (certfile is None) != (tls_key is None):
        raise UsageError("--certfile/--tls-key: give both or neither")
    location, folder = _where(vault, custody)
    custody_state = open_custody(folder)
    settings = ctx.config()
    rules_path = rules or (Path(settings.rules) if settings.rules else None)
    secrets = [_read_secret(p, "--share-file") for p in share_file or []]
    if pin_file is not None:
        secrets.append(_read_secret(pin_file, "--pin-file"))
    config = WebConfig(
        location,
        custody_state,
        rules_path,
        retention=Path(settings.retention) if settings.retention else None,
        secure_cookies=certfile is not None,
        trail_mode="buffered",
        verify_interval_s=settings.verify_interval,
        purge_interval_s=settings.purge_interval,
        witnesses=Path(settings.witnesses) if settings.witnesses else None,
        witness_quorum=settings.witness_quorum,
        shred_ledger=Path(settings.shred_ledger) if settings.shred_ledger else None,
    )
    app_ = create_app(config)
    sockets = [bind_tcp(host, port)]
    if socket_path is not None:
        sockets.append(bind_unix(socket_path.resolve()))
    count = workers or max(1, min(4, os.cpu_count() or 1))
    if custody_state.kind == "pkcs11":
        count = 1  # a token session does not survive fork(): one process talks to the HSM
    proxies = settings.trusted_proxies
    sealed_phase = Background(app_, sockets, trusted_proxies=proxies).start()
    state = app_.state.etanche
    try:
        for secret in secrets:
            state.core.unseal(secret)
        scheme = "https" if certfile else "http"
        extra = f" and unix:{socket_path.resolve()}" if socket_path else ""
        status = "unsealed" if not state.sealed else "SEALED: run `etanche unseal`"
        ctx.say(f"Étanche on {scheme}://{host}:{port}/{extra}, {status} (Ctrl+C stops)")
        if count == 1:
            sealed_phase.wait()
            return
        while state.sealed:  # the custodians unseal it through this one process
            time.sleep(0.2)
        time.sleep(0.5)  # let the answer to the last share leave
    except KeyboardInterrupt:
        sealed_phase.stop()
        return
    sealed_phase.stop(close_sockets=False)
    ctx.say(f"Unsealed: serving with {count} worker processes.")

    def worker_app() -> FastAPI:
        # forked after the unseal: the custody object (provider and custodians) is inherited
        return create_app(config)

    run_workers(
        worker_app, sockets, count, certfile=certfile, tls_key=tls_key, trusted_proxies=proxies
    )


@app.command()
def unseal(
    share_file: Annotated[
        Path | None, typer.Option("--share-file", help="Your share, in clear (demo custody).")
    ] = None,
    share: Annotated[
        Path | None, typer.Option("--share", help="Your share, encrypted to you (share-NAME.age).")
    ] = None,
    identity: Annotated[
        Path | None, typer.Option("--identity", help="Your age secret key, to open --share.")
    ] = None,
    pin: Annotated[
        bool, typer.Option("--pin", help="Give the HSM token's PIN (prompted, never echoed).")
    ] = False,
    for_operation: Annotated[
        str | None,
        typer.Option(
            "--for",
            help="Approve a custody operation instead: rotate-kek, reshare or approve-dpo.",
        ),
    ] = None,
) -> None:
    """Give your custodian share (or the token PIN) to the sealed service.

    With --for OPERATION, approve that custody operation on the unsealed service
    (a lab admin's `keys rotate-kek` then needs the custodians' quorum within 15 min;
    approve-dpo lets a lab admin approve the network's first DPO account).
    """
    client = ctx.service(anonymous=True)
    if pin:
        secret = ctx.ask(None, "Token PIN", "", hide=True)
    else:
        from etanche.service.bootstrap import share_from

        secret = share_from(share_file, share, identity)
    body = {"pin": secret} if pin else {"share": secret}
    if for_operation is not None:
        done = client.post("/custody/approve", {**body, "operation": for_operation})
        ctx.say(
            f"{for_operation} approved by {', '.join(done['approved_by'])} "
            f"({len(done['approved_by'])} of {done['threshold']} custodians needed)."
        )
        return
    status = client.post("/custody/unseal", body)
    if status["sealed"]:
        given = len(status.get("given", []))
        ctx.say(f"Share accepted: {given} of {status.get('threshold')} given; still sealed.")
    else:
        ctx.say("Service unsealed: it now holds its keys.")


@app.command()
def upgrade(vault: VaultOption = None) -> None:
    """Bring the vault's schema to this program's version (Alembic; no key is needed)."""
    from etanche.service.bootstrap import locate, upgrade_schema

    before, after = upgrade_schema(locate(vault or ctx.config().vault, ctx.config()))
    if before == after:
        ctx.say(f"Schema already at revision {after}.")
    else:
        ctx.say(f"Schema upgraded from revision {before} to {after}.")


_FRACTION = {"min": 0.0, "max": 1.0}


@app.command()
def synth(
    patients: Annotated[int, typer.Option(min=1, help="Number of patients.")] = 491_840,
    labs: Annotated[int, typer.Option(min=1, max=99, help="Number of labs.")] = 30,
    seed: Annotated[int, typer.Option(help="Seed: same seed, same network.")] = 0,
    legacy_csv: Annotated[
        Path | None, typer.Option(help="Write the legacy flat export (cp1252 CSV) here instead.")
    ] = None,
    invalid_nir_key: Annotated[
        float, typer.Option(**_FRACTION, help="Share of wrong NIR keys.")
    ] = 0.0,
    typos: Annotated[float, typer.Option(**_FRACTION, help="Share of typos in names.")] = 0.0,
    missing_fields: Annotated[
        float, typer.Option(**_FRACTION, help="Share of missing fields.")
    ] = 0.0,
    duplicates: Annotated[
        float, typer.Option(**_FRACTION, help="Share of patients registered again in another lab.")
    ] = 0.0,
    faulty_duplicates: Annotated[
        float,
        typer.Option(
            **_FRACTION,
            help="Share of records registering an earlier person again with desk faults.",
        ),
    ] = 0.0,
    child_on_parent_nir: Annotated[
        float, typer.Option(**_FRACTION, help="Share of minors registered on a parent's NIR.")
    ] = 0.0,
    truth: Annotated[
        Path | None,
        typer.Option(help="Write which records are the same person here (CSV, ids only)."),
    ] = None,
    share_file: ShareFiles = None,
    pin_file: PinFile = None,
    vault: VaultOption = None,
    custody: CustodyOption = None,
) -> None:
    """Generate a synthetic network (never real data) into the vault, or as a legacy CSV.

    Into a vault, custody must open as for an unseal: --share-file (repeat up to
    the quorum) or --pin-file.

    ``--legacy-csv`` is not a bulk patient output and needs no plan: it writes
    patients generated from the seed, never read from a vault (it opens none),
    to give tests, benchmarks and the demo the leaked file's shape.
    """
    from etanche.synth import SynthConfig, generate

    config = SynthConfig(
        patients=patients,
        labs=labs,
        seed=seed,
        invalid_nir_key=invalid_nir_key,
        typos=typos,
        missing_fields=missing_fields,
        duplicates_across_labs=duplicates,
        duplicates=faulty_duplicates,
        child_on_parent_nir=child_on_parent_nir,
    )
    if truth is not None:
        _write_truth(generate(config), truth)
    if legacy_csv is not None:
        _write_csv(generate(config), legacy_csv, patients)
        return
    if invalid_nir_key or typos:
        raise UsageError(
            "--invalid-nir-key/--typos: dirty data is only for --legacy-csv; the vault refuses it"
        )
    from etanche.service.bootstrap import load_synthetic, opened_provider

    location, folder = _where(vault, custody)
    secrets = [_read_secret(p, "--share-file") for p in share_file or []]
    if pin_file is not None:
        secrets.append(_read_secret(pin_file, "--pin-file"))
    if not secrets:
        raise UsageError("synth: custody must open: give --share-file (or --pin-file)")
    provider = opened_provider(folder, secrets)
    network = generate(config)
    with ctx.progress_bar("Encrypting patients", patients) as bar:
        count = load_synthetic(
            location,
            provider,
            network,
            progress=lambda n: ctx.advance(bar, n),
        )
    ctx.say(f"Added {count} synthetic patients in {len(network.labs)} labs.")


def _write_truth(network: SynthNetwork, path: Path) -> None:
    """The synthetic truth, kept apart from the vault: record ids, person ids, kinds."""
    from etanche.synth import write_truth

    if not path.parent.is_dir():
        raise UsageError(f"--truth {path}: folder {path.parent} does not exist")
    try:
        rows = write_truth(network.truth(), path)
    except OSError as exc:
        raise UsageError(f"--truth {path}: cannot write ({exc.strerror})") from None
    ctx.say(f"Wrote the truth of {rows} records to {path}.")


def _write_csv(network: object, path: Path, total: int) -> None:
    from etanche.exchange.legacy_csv import write_legacy_csv

    if not path.parent.is_dir():
        raise UsageError(f"--legacy-csv {path}: folder {path.parent} does not exist")
    try:
        with ctx.progress_bar(f"Writing {path.name}", total) as bar:
            rows = write_legacy_csv(
                network,  # type: ignore[arg-type]
                path,
                progress=lambda n: ctx.advance(bar, n),
            )
    except OSError as exc:
        raise UsageError(f"--legacy-csv {path}: cannot write ({exc.strerror})") from None
    ctx.say(f"Wrote {rows} rows of synthetic legacy export to {path}.")


custody_app = typer.Typer(help="Custody of the service's keys: custodians.", no_args_is_help=True)
app.add_typer(custody_app, name="custody")


@custody_app.command("reshare")
def custody_reshare(
    custodian: Annotated[
        list[str], typer.Option(help="NAME=age1… : a custodian and their age public key (repeat).")
    ],
    threshold: Annotated[int, typer.Option(min=1, help="Shares needed to unseal.")],
    shares_out: Annotated[Path, typer.Option(help="Folder for the new encrypted shares.")],
) -> None:
    """New custodians or threshold (lab admin), once a quorum approved `unseal --for reshare`.

    A new unseal secret is drawn: the old shares open nothing any more.
    """
    people = []
    for given in custodian:
        name, sep, recipient = given.partition("=")
        if not sep or not name.strip():
            raise UsageError("--custodian: expected NAME=age1…")
        people.append({"name": name.strip(), "recipient": recipient.strip()})
    done = ctx.service().post("/custody/reshare", {"custodians": people, "threshold": threshold})
    import base64

    from etanche._files import private_dir, write_private

    private_dir(shares_out)
    for name, data in done["shares"].items():
        target = shares_out / f"share-{name}.age"
        write_private(target, base64.b64decode(data))
        ctx.say(f"  share written to {target} (mode 0600)")
    ctx.say(
        f"Custody reshared: {threshold} of {len(done['shares'])} custodians; the old shares "
        "open nothing any more."
    )
