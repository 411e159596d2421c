"""The ``etanche`` command: a thin adapter over the vault, synth and crypto rooms."""

from __future__ import annotations

import json
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
        "integrity, 6 malformed source file, 130 interrupted."
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
def init(vault: Vault_ = None, keyfile: Keyfile = None) -> None:
    """Create an empty vault and its passphrase-protected key file."""
    where = ctx.location(vault, keyfile)
    secret = ctx.passphrase(confirm=True)
    Vault.create(where, secret).close()
    ctx.console.print(f"Vault created at {where.describe()} (key file {where.keyfile}).")


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
    with ctx.open_vault(vault, keyfile) as store:
        if nir:
            found = store.find_by_nir(nir)
        elif phone:
            found = store.find_by_phone(phone)
        elif email:
            found = store.find_by_email(email)
        else:
            if not (name and first_name and birth_date):
                raise UsageError("find: --name needs --first-name and --birth-date")
            found = store.find_by_name(name, first_name, _parse_date(birth_date, "--birth-date"))
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
    """Show one patient, masked unless --reveal."""
    compartments = (Compartment.ADMIN, Compartment.CLINICAL) if clinical else (Compartment.ADMIN,)
    with ctx.open_vault(vault, keyfile, compartments) as store:
        patient = store.get(patient_id)
        specimens = store.specimens_of(patient_id)
        detail = patient_detail(
            patient, specimens, reveal=reveal, clinical_open=store.holds(Compartment.CLINICAL)
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
    with ctx.open_vault(vault, keyfile) as store:
        store.get(patient_id)  # fails cleanly on an unknown or erased id
        if not yes and not typer.confirm(f"Erase patient {patient_id} for good?"):
            raise typer.Abort()
        store.erase(patient_id)
    ctx.console.print(f"Patient {patient_id} erased (keys shredded).")


@keys_app.command("rotate-kek")
def rotate_kek(vault: Vault_ = None, keyfile: Keyfile = None) -> None:
    """New key-encryption key; every data key is rewrapped, no data re-encrypted."""
    with ctx.open_vault(vault, keyfile) as store:
        kek_id, count = store.rotate_kek()
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
    with ctx.open_vault(vault, keyfile) as store:
        total = len(store.patient_ids(lab_id))
        with ctx.progress_bar(f"Re-encrypting lab {lab_id}", total) as bar:
            report = store.rotate_lab(
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
    from etanche.cli import _demo, _synth  # noqa: F401  (commands register on import)


_register_more()

__all__ = ["app"]
