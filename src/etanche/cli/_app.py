"""The ``etanche`` command: a thin client of the service, plus a few bootstrap commands.

Person commands (find, show, users, migrate …) send one authenticated request to
the running service and print its answer; they never read a key, a passphrase
or the database. Bootstrap commands (init, serve, unseal, upgrade, synth, demo)
set the service up; only they load the service's rooms, and only when run.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from etanche.cli import _context as ctx
from etanche.errors import UsageError

app = typer.Typer(
    name="etanche",
    help=(
        "Étanche: encrypted, audited patient data for a network of medical biology labs.\n\n"
        "Person commands are clients of the running service (`etanche serve`, address in "
        "ETANCHE_SERVICE).\n\n"
        "Exit codes: 0 ok, 1 internal error, 2 usage, 3 invalid data, 4 vault, 5 keys or "
        "integrity, 6 malformed source file, 7 access (login, session, permission), "
        "8 migration (plan not approved, package rejected, expired), 9 service (not running, "
        "sealed), 130 interrupted."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="Key management: KEK and lab key rotation.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

AsJson = Annotated[bool, typer.Option("--json", help="JSON on stdout.")]


@app.command()
def find(
    nir: Annotated[str | None, typer.Option(help="NIR / INS matricule.")] = None,
    name: Annotated[
        str | None, typer.Option(help="Birth name (with --first-name and --birth-date).")
    ] = None,
    first_name: Annotated[str | None, typer.Option(help="First birth first name.")] = None,
    birth_date: Annotated[
        str | None,
        typer.Option(help="Birth date as typed: 12/12/1959, 12-12-1959, 12.12.1959, 12121959."),
    ] = None,
    prefix: Annotated[
        str | None,
        typer.Option(help="First letters (3 or more) of the birth name, with --born; own labs."),
    ] = None,
    born: Annotated[
        str | None, typer.Option(help="With --prefix: birth year (1959), 12/1959 or a date.")
    ] = None,
    sound: Annotated[
        bool, typer.Option(help="With --prefix: match the whole name by French pronunciation.")
    ] = False,
    phone: Annotated[str | None, typer.Option(help="Phone number, any French writing.")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    reveal: Annotated[bool, typer.Option(help="Show values instead of masks.")] = False,
    as_json: AsJson = False,
) -> None:
    """Find patients by NIR, by name + first name + birth date, by name prefix + birth year,
    by phone or by e-mail."""
    by_prefix = prefix or born
    given = [x for x in (nir, name or first_name or birth_date, by_prefix, phone, email) if x]
    if len(given) != 1:
        raise UsageError(
            "find: give exactly one of --nir, --name/--first-name/--birth-date, "
            "--prefix/--born, --phone, --email"
        )
    if by_prefix and not (prefix and born):
        raise UsageError("find: --prefix needs --born (a birth year, month/year or date)")
    if not (nir or phone or email or by_prefix) and not (name and first_name and birth_date):
        raise UsageError("find: --name needs --first-name and --birth-date")
    body = {
        "nir": nir,
        "birth_name": name,
        "first_name": first_name,
        "birth_date": parse_date(birth_date, "--birth-date").isoformat() if birth_date else None,
        "prefix": prefix,
        "born": born,
        "sound": sound,
        "phone": phone,
        "email": email,
        "reveal": reveal,
    }
    found = ctx.service().post("/patients/search", body)
    if as_json:
        ctx.echo_json(found)
        return
    if not found["patients"]:
        ctx.say("No patient found.")
        return
    from etanche.cli._render import summary_table

    ctx.console.print(summary_table(found["patients"]))


@app.command()
def link(
    lab: Annotated[str, typer.Option(help="Your lab, where the new record is created.")],
    nir: Annotated[str | None, typer.Option(help="NIR of the patient known elsewhere.")] = None,
    name: Annotated[str | None, typer.Option(help="Birth name (without --nir).")] = None,
    first_name: Annotated[str | None, typer.Option(help="First birth first name.")] = None,
    birth_date: Annotated[str | None, typer.Option(help="Birth date as typed.")] = None,
) -> None:
    """Link a patient known in another lab to yours: a new record with identity traits only,
    bound to the same network identity, audited in both labs."""
    if not nir and not (name and first_name and birth_date):
        raise UsageError("link: give --nir, or --name, --first-name and --birth-date")
    body = {
        "lab_id": lab,
        "nir": nir,
        "birth_name": name,
        "first_name": first_name,
        "birth_date": parse_date(birth_date, "--birth-date").isoformat() if birth_date else None,
    }
    done = ctx.service().post("/patients/link", body)
    ctx.say(f"Patient {done['id']} created in lab {done['lab']}, linked to the network identity.")


@app.command()
def show(
    patient_id: Annotated[str, typer.Argument(help="Patient id (as printed by find).")],
    reveal: Annotated[bool, typer.Option(help="Show values instead of masks.")] = False,
    clinical: Annotated[bool, typer.Option(help="Open the clinical compartment too.")] = True,
    as_json: AsJson = False,
) -> None:
    """Show one patient, masked unless --reveal (a reveal is recorded in the audit log)."""
    detail = ctx.service().get(
        f"/patients/{patient_id}",
        reveal=str(reveal).lower(),
        clinical=str(clinical).lower(),
    )
    if as_json:
        ctx.echo_json(detail)
    else:
        import json

        ctx.console.print_json(json.dumps(detail, ensure_ascii=False))


@app.command()
def erase(
    patient_id: Annotated[str, typer.Argument(help="Patient id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Crypto-shred one patient: keys, data, indexes and specimens are destroyed."""
    client = ctx.service()
    if not yes and not typer.confirm(f"Erase patient {patient_id} for good?"):
        raise typer.Abort()
    client.post(f"/patients/{patient_id}/erase")
    ctx.say(f"Patient {patient_id} erased (keys shredded).")


@keys_app.command("rotate-kek")
def rotate_kek() -> None:
    """New key-encryption key; every data key is rewrapped, no data re-encrypted."""
    done = ctx.service().post("/keys/rotate-kek")
    ctx.say(
        f"KEK rotated: {done['data_keys']} data keys rewrapped under {done['kek']}; "
        "old KEKs destroyed."
    )


@keys_app.command("rotate-lab")
def rotate_lab(
    lab_id: Annotated[str, typer.Argument(help="Lab code, e.g. L01.")],
    batch_size: Annotated[int, typer.Option(min=1, help="Patients per committed batch.")] = 500,
) -> None:
    """Re-encrypt a lab's patients under a new lab key, in resumable batches."""
    lines = ctx.service().stream("POST", f"/keys/rotate-lab/{lab_id}", {"batch_size": batch_size})
    report = ctx.follow(lines, f"Re-encrypting lab {lab_id}")
    state = "done, old lab keys shredded" if report["finished"] else "interrupted; run again"
    ctx.say(
        f"Lab {lab_id} key v{report['version']}: {report['patients']} patients re-encrypted "
        f"({state})."
    )


def parse_date(value: str, option: str) -> date:
    """A date as a French person types it (31/12/1990, 31-12-1990, 31.12.1990, 31121990)
    or ISO (1990-12-31)."""
    text = value.strip()
    if len(text) == 8 and text.isdigit():
        text = f"{text[:2]}/{text[2:4]}/{text[4:]}"
    for separator in ("/", ".", "-"):
        parts = text.split(separator)
        if len(parts) == 3 and len(parts[0]) <= 2 and len(parts[2]) == 4:
            text = (
                f"{parts[2]}-{int(parts[1]):02d}-{int(parts[0]):02d}"
                if all(p.isdigit() for p in parts)
                else text
            )
            break
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{option}: expected a date as DD/MM/YYYY, DD-MM-YYYY, DD.MM.YYYY, DDMMYYYY "
            "or YYYY-MM-DD"
        ) from None


def _register_more() -> None:
    from etanche.cli import (  # noqa: F401  (commands register on import)
        _audit,
        _backup,
        _bootstrap,
        _demo,
        _identity,
        _incident,
        _linkage,
        _migrate,
        _people,
        _requests,
        _rights,
        _scan,
        _supervision,
        _trace,
        _vault,
        _witness,
    )


_register_more()

__all__ = ["app", "parse_date"]
