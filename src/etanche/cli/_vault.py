"""``etanche vault verify`` and ``vault reindex``: the vault's integrity and search indexes.

The service compares each patient's admin and clinical values with their last
``vault.write`` event (revision and SHA-256 of the ciphertext) after verifying
the audit log itself. An older ciphertext written back, a value set to NULL or
a row deleted behind the service is reported by table, row id and compartment,
and the command exits 5. Auditor or DPO.

``reindex`` asks the service to compute the front-desk index rows (prefix and
phonetic, with the birth year) of records written before those indexes existed;
the service also does it by itself at unseal when it finds such records. Network-wide
lab admin; the answer holds counts only.
"""

from __future__ import annotations

import typer

from etanche.cli import _context as ctx
from etanche.cli._app import AsJson, app
from etanche.errors import IntegrityError

vault_app = typer.Typer(
    help="The vault's integrity (stored ciphertexts against their logged writes) and indexes.",
    no_args_is_help=True,
)
app.add_typer(vault_app, name="vault")


@vault_app.command("verify")
def verify(as_json: AsJson = False) -> None:
    """Report every value that is not its last logged write; exit 5 if any."""
    report = ctx.service().post("/vault/verify")
    if as_json:
        ctx.echo_json(report)
    else:
        for problem in report["problems"]:
            ctx.say(f"problem: {problem}")
        status = "ok" if report["ok"] else "ROLLED BACK OR ALTERED"
        ctx.say(
            f"vault {status}: {report['values']} values checked against "
            f"{report['writes']} logged writes, {report['findings']} findings, "
            f"{report['audit_problems']} audit log problems"
        )
    if not report["ok"]:
        raise IntegrityError(
            f"vault: {report['findings'] + report['audit_problems']} problems found; "
            "values are not their last logged write"
        )


@vault_app.command("reindex")
def reindex(as_json: AsJson = False) -> None:
    """Backfill the front-desk search indexes of records written before they existed."""
    report = ctx.service().post("/vault/reindex")
    if as_json:
        ctx.echo_json(report)
        return
    ctx.say(
        f"front-desk indexes: {report['indexed']} records indexed in {report['batches']} "
        f"batches, {report['unreadable']} unreadable (shredded or damaged)"
    )
