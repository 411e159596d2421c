"""The ``etanche`` command: a thin adapter over the vault, synth and crypto rooms."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated

import typer

from etanche.cli import _context as ctx
from etanche.cli._render import patient_detail, patient_summary, summary_table
from etanche.domain import Compartment
from etanche.errors import UsageError
from etanche.vault import Vault

app = typer.Typer(
    name="etanche",
    help=(
        "Étanche: encrypted, audited patient data for a network of medical biology labs.\n\n"
        "Exit codes: 0 ok, 1 internal error, 2 usage, 3 invalid data, 4 vault, 5 keys or "
        "integrity, 6 malformed source file, 7 access (login, session, permission), "
        "8 migration (plan not approved, package rejected, expired), 130 interrupted."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="Key management: KEK and lab key rotation.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

Vault_ = Annotated[str | None, ctx.VAULT_OPTION]
Keyfile = Annotated[str | None, ctx.KEYFILE_OPTION]


@app.command()
def init(
    vault: Vault_ = None,
    keyfile: Keyfile = None,
    admin_user: Annotated[
        str | None, typer.Option(help="User name of the first account (a network-wide lab_admin).")
    ] = None,
    admin_name: Annotated[
        str | None, typer.Option(help="Full name of the person holding the first account.")
    ] = None,
) -> None:
    """Create an empty vault, its passphrase-protected key file and the first account.

    The first account is a network-wide lab_admin (password: ETANCHE_PASSWORD or a
    prompt); it is checked before anything is created.
    """
    from etanche.access import NETWORK_WIDE, Accounts, Role, validate_account
    from etanche.cli._people import account_password, ask

    where = ctx.location(vault, keyfile)
    if (admin_user or admin_name) and not (admin_user and admin_name):
        raise UsageError("init: give both --admin-user and --admin-name")
    if not admin_user and sys.stdin.isatty():
        admin_user = ask("ETANCHE_ADMIN_USER", "User name of the first account (lab_admin)")
        admin_name = ask("ETANCHE_ADMIN_NAME", "Full name of that person")
    admin: tuple[str, str, str] | None = None
    if admin_user and admin_name:
        password = account_password()
        validate_account(admin_user, admin_name, Role.LAB_ADMIN, {NETWORK_WIDE}, password)
        admin = (admin_user, admin_name, password)
    secret = ctx.passphrase(confirm=True)
    with Vault.create(where, secret) as store:
        if admin is not None:
            user = Accounts(store).add(
                admin[0], admin[1], Role.LAB_ADMIN, {NETWORK_WIDE}, admin[2], None
            )
    ctx.console.print(f"Vault created at {where.describe()} (key file {where.keyfile}).")
    if admin is not None:
        ctx.console.print(
            f"First account {user.username} (lab_admin, every lab): `etanche login` sets up "
            "its TOTP.",
            markup=False,
            highlight=False,
        )
    else:
        ctx.console.print(
            "No account yet: create the first one with `etanche users add USER --name "
            "'First Last' --role lab_admin --lab '*'`.",
            markup=False,
            highlight=False,
        )


@app.command()
def upgrade(vault: Vault_ = None, keyfile: Keyfile = None) -> None:
    """Bring the vault's schema to this program's version (Alembic migrations)."""
    before, after = Vault.upgrade(ctx.location(vault, keyfile), ctx.passphrase())
    if before == after:
        ctx.console.print(f"Schema already at revision {after}.")
    else:
        ctx.console.print(f"Schema upgraded from revision {before} to {after}.")


@app.command()
def find(
    nir: Annotated[str | None, typer.Option(help="NIR / INS matricule.")] = None,
    name: Annotated[
        str | None, typer.Option(help="Birth name (with --first-name and --birth-date).")
    ] = None,
    first_name: Annotated[str | None, typer.Option(help="First birth first name.")] = None,
    birth_date: Annotated[str | None, typer.Option(help="Birth date, YYYY-MM-DD.")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number, any French writing.")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    reveal: Annotated[bool, typer.Option(help="Show values instead of masks.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Find patients by NIR, by birth name + first name + birth date, by phone or by e-mail."""
    given = [x for x in (nir, name or first_name or birth_date, phone, email) if x]
    if len(given) != 1:
        raise UsageError(
            "find: give exactly one of --nir, --name/--first-name/--birth-date, --phone, --email"
        )
    if not (nir or phone or email) and not (name and first_name and birth_date):
        raise UsageError("find: --name needs --first-name and --birth-date")
    with ctx.person(vault, keyfile, reveal=reveal) as who:
        service = who.patients()
        if nir:
            found = service.find_by_nir(nir)
        elif phone:
            found = service.find_by_phone(phone)
        elif email:
            found = service.find_by_email(email)
        else:
            assert name and first_name and birth_date
            found = service.find_by_name(name, first_name, _parse_date(birth_date, "--birth-date"))
    rows = [patient_summary(p, reveal=reveal) for p in found]
    if as_json:
        typer.echo(json.dumps({"count": len(rows), "patients": rows}, ensure_ascii=False))
        return
    if not rows:
        ctx.console.print("No patient found.")
        return
    ctx.console.print(summary_table(rows))


@app.command()
def show(
    patient_id: Annotated[str, typer.Argument(help="Patient id (as printed by find).")],
    reveal: Annotated[bool, typer.Option(help="Show values instead of masks.")] = False,
    clinical: Annotated[bool, typer.Option(help="Open the clinical compartment too.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Show one patient, masked unless --reveal (a reveal is recorded in the audit log)."""
    with ctx.person(vault, keyfile, reveal=reveal, clinical=clinical) as who:
        service = who.patients()
        patient = service.get(patient_id)
        specimens = service.specimens_of(patient_id)
        detail = patient_detail(
            patient,
            specimens,
            reveal=reveal,
            clinical_open=who.vault.holds(Compartment.CLINICAL),
        )
    if as_json:
        typer.echo(json.dumps(detail, ensure_ascii=False))
    else:
        ctx.console.print_json(json.dumps(detail, ensure_ascii=False))


@app.command()
def erase(
    patient_id: Annotated[str, typer.Argument(help="Patient id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Crypto-shred one patient: keys, data, indexes and specimens are destroyed."""
    with ctx.person(vault, keyfile) as who:
        who.vault.lab_of(patient_id)  # fails cleanly on an unknown or erased id
        if not yes and not typer.confirm(f"Erase patient {patient_id} for good?"):
            raise typer.Abort()
        who.patients().erase(patient_id)
    ctx.console.print(f"Patient {patient_id} erased (keys shredded).")


@keys_app.command("rotate-kek")
def rotate_kek(vault: Vault_ = None, keyfile: Keyfile = None) -> None:
    """New key-encryption key; every data key is rewrapped, no data re-encrypted."""
    with ctx.person(vault, keyfile) as who:
        kek_id, count = who.keys().rotate_kek()
    ctx.console.print(
        f"KEK rotated: {count} data keys rewrapped under {kek_id}; old KEKs destroyed."
    )


@keys_app.command("rotate-lab")
def rotate_lab(
    lab_id: Annotated[str, typer.Argument(help="Lab code, e.g. L01.")],
    batch_size: Annotated[int, typer.Option(min=1, help="Patients per committed batch.")] = 500,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Re-encrypt a lab's patients under a new lab key, in resumable batches."""
    with ctx.person(vault, keyfile) as who:
        total = len(who.vault.patient_ids(lab_id))
        with ctx.progress_bar(f"Re-encrypting lab {lab_id}", total) as bar:
            report = who.keys().rotate_lab(
                lab_id, batch_size=batch_size, progress=lambda n: ctx.advance(bar, n)
            )
    state = "done, old lab keys shredded" if report.finished else "interrupted; run again to resume"
    ctx.console.print(
        f"Lab {lab_id} key v{report.to_version}: {report.rows} patients re-encrypted ({state})."
    )


def _parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option}: expected a date as YYYY-MM-DD") from None


def _register_more() -> None:
    from etanche.cli import (  # noqa: F401  (commands register on import)
        _audit,
        _demo,
        _incident,
        _migrate,
        _people,
        _scan,
        _serve,
        _supervision,
        _synth,
        _trace,
    )


_register_more()

__all__ = ["app"]
