"""``etanche migrate``: plan, approve, check, run, verify and close a migration.

Person commands send the plan (its text and the absolute folder it was read
from) to the service, which decides, audits, reads the sources and writes the
package on its own host. ``verify`` without ``--import`` and
``verify-certificate`` are the recipient's offline tools: they load the
migration room only when run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from etanche._files import write_private
from etanche.cli import _context as ctx
from etanche.cli._app import app
from etanche.errors import ConfigError, UsageError

migrate_app = typer.Typer(
    help="Safe migration: approved plans, minimal encrypted packages, signed deletion.",
    no_args_is_help=True,
)
app.add_typer(migrate_app, name="migrate")

PlanFile = Annotated[Path, typer.Argument(help="The migration plan (YAML).")]
AsJson = Annotated[bool, typer.Option("--json", help="JSON on stdout.")]
Workers = Annotated[
    int, typer.Option("--workers", min=0, help="Processes validating records beside this one.")
]


def _plan(path: Path) -> dict[str, str]:
    """The plan as the service reads it: text, name as given, absolute folder."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), None, None, f"cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(str(path), None, None, "not valid UTF-8 YAML") from None
    return {"text": text, "name": str(path), "folder": str(path.absolute().parent)}


def _read_text(path: Path, option: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise UsageError(f"{option}: cannot read {path.name}") from None


@migrate_app.command("plan")
def register(plan_file: PlanFile) -> None:
    """Register a plan (again): it waits for its two named approvers."""
    done = ctx.service().post("/migrations/plan", _plan(plan_file))
    names = " and ".join(done["approvers"])
    ctx.say(
        f"Plan {done['plan']} registered (SHA-256 {done['sha256'][:16]}…), state {done['state']}; "
        f"approvals needed from {names}."
    )


@migrate_app.command()
def approve(plan_file: PlanFile) -> None:
    """Approve a registered plan as one of its two named approvers (signed)."""
    done = ctx.service().post("/migrations/approve", _plan(plan_file))
    ctx.say(f"Plan {done['plan']}: approved by {done['approved_by']}; state {done['state']}.")


@migrate_app.command()
def check(
    plan_file: PlanFile,
    as_json: AsJson = False,
    html: Annotated[Path | None, typer.Option("--html", help="Write an HTML report.")] = None,
    workers: Workers = 1,
) -> None:
    """Dry run over the whole source: counts and located problems, nothing written."""
    body = {**_plan(plan_file), "workers": workers, "html": html is not None}
    lines = ctx.service().stream("POST", "/migrations/check", body)
    result = ctx.follow(lines, "Checking the source")
    data: dict[str, Any] = result["report"]
    if html is not None:
        write_private(html, result["html"])
    if as_json:
        typer.echo(json.dumps(data))
        return
    _print_check(data)


def _print_check(data: dict[str, Any]) -> None:
    table = Table(title=f"Plan {data['plan']}: per lab")
    for column in ("lab", "records", "valid", "rejected", "out of scope", "specimens"):
        table.add_column(column, justify="left" if column == "lab" else "right")
    for lab, c in data["per_lab"].items():
        table.add_row(
            lab,
            *(
                str(c.get(k, 0))
                for k in ("records", "valid", "rejected", "out_of_scope", "specimens")
            ),
        )
    ctx.console.print(table)
    problems = Table(title="Problems")
    problems.add_column("kind")
    problems.add_column("count", justify="right")
    problems.add_column("first places")
    for kind, count in data["counts"].items():
        places = ", ".join(
            p["location"] + (f" ({p['field']})" if p["field"] else "")
            for p in data["problems"].get(kind, [])[:3]
        )
        problems.add_row(kind, str(count), places)
    ctx.console.print(problems)
    columns = data["columns"]
    if columns["refused_credentials"]:
        ctx.say("Refused credential columns: " + ", ".join(columns["refused_credentials"]))
    if columns["free_text_for_review"]:
        ctx.say("Free text to review: " + ", ".join(columns["free_text_for_review"]))
    ctx.say(
        f"{data['records']} records: {data['valid']} valid in scope, {data['rejected']} rejected, "
        f"{data['out_of_scope']} out of scope."
    )


@migrate_app.command()
def run(
    plan_file: PlanFile,
    out: Annotated[Path, typer.Option("--out", help="Package folder (resumes a killed run).")],
    workers: Workers = 1,
) -> None:
    """Build the encrypted, signed package of an approved plan (resumable)."""
    body = {**_plan(plan_file), "out": str(out.absolute()), "workers": workers}
    lines = ctx.service().stream("POST", "/migrations/run", body)
    result = ctx.follow(lines, "Packaging")
    ctx.say(
        f"Package {result['package']}: {result['records']} records and {result['canaries']} "
        f"canaries in {result['parts']} parts "
        f"({result['resumed_parts']} from an earlier run), "
        f"content {result['content_sha256'][:16]}…, in {out}"
    )


@migrate_app.command()
def verify(
    package: Annotated[Path, typer.Argument(help="Package folder received.")],
    identity: Annotated[Path, typer.Option("--identity", help="Your age secret key file.")],
    signer_key: Annotated[
        Path | None,
        typer.Option("--signer-key", help="Sender's public key (PEM) to pin the signature."),
    ] = None,
    into: Annotated[
        bool, typer.Option("--import", help="Import through the service (your organisation's).")
    ] = False,
    to_fhir: Annotated[Path | None, typer.Option("--to-fhir", help="Write FHIR NDJSON.")] = None,
    to_csv: Annotated[Path | None, typer.Option("--to-csv", help="Write canonical CSV.")] = None,
    as_json: AsJson = False,
    workers: Workers = 1,
) -> None:
    """Check a received package (signature, hashes, counts), then import or convert it."""
    if sum(bool(x) for x in (into, to_fhir, to_csv)) > 1:
        raise UsageError("verify: choose one of --import, --to-fhir, --to-csv")
    if into and signer_key is None:
        # the manifest's own key proves nothing about who sent it: never import on it
        raise UsageError("--import: pin the sender's public key with --signer-key")
    identity_text = _read_text(identity, "--identity")
    pinned = _read_text(signer_key, "--signer-key") if signer_key is not None else None
    if into:
        body = {
            "package": str(package.absolute()),
            "identity": identity_text,
            "signer_key_pem": pinned,
            "workers": workers,
        }
        lines = ctx.service().stream("POST", "/migrations/import", body)
        data = ctx.follow(lines, "Verifying and importing")
    else:
        data = _verify_offline(package, identity_text, pinned, to_fhir, to_csv)
    if as_json:
        typer.echo(json.dumps(data))
        return
    _print_reconciliation(data)


def _verify_offline(
    package: Path,
    identity_text: str,
    pinned: str | None,
    to_fhir: Path | None,
    to_csv: Path | None,
) -> dict[str, Any]:
    """The recipient's local check (and conversion): no service, no vault."""
    from etanche import exchange
    from etanche.migrate import Reconciliation, open_received, package_rows

    with ctx.progress_bar("Verifying", None) as bar:
        checked = open_received(
            package,
            identity_text,
            signer_key_pem=pinned.encode("utf-8") if pinned is not None else None,
            progress=ctx.totals(bar),
        )
    report = Reconciliation(checked.manifest)
    rows = (record for _, _, record in package_rows(checked, report))
    if to_fhir is not None:
        exchange.write_fhir_ndjson(rows, to_fhir)
    elif to_csv is not None:
        exchange.write_canonical_csv(rows, to_csv)
    else:
        for _ in rows:
            pass
    data = report.to_dict()
    data["signature"] = "pinned key" if checked.pinned else "key in the manifest (not pinned)"
    return data


def _print_reconciliation(data: dict[str, Any]) -> None:
    table = Table(title=f"Package {data['package']} (plan {data['plan']})")
    for column in ("lab", "patients announced", "received", "specimens announced", "received"):
        table.add_column(column, justify="left" if column == "lab" else "right")
    for lab, c in data["per_lab"].items():
        table.add_row(
            lab,
            str(c["announced_patients"]),
            str(c["received_patients"]),
            str(c["announced_specimens"]),
            str(c["received_specimens"]),
        )
    ctx.console.print(table)
    for compartment, c in data["per_compartment"].items():
        ctx.say(f"{compartment}: {c['received']} values of {c['announced']} announced")
    verdict = "match the manifest" if data["matches"] else "DIFFER from the manifest"
    ctx.say(
        f"Signature checked with the {data['signature']}; counts {verdict}; "
        f"{data['canaries_dropped']} canary records dropped, {data['imported']} imported. "
        f"The plan expires on {data['expires_at'][:10]}: delete this package and its key by then."
    )


def _certificate_text(signed: dict[str, Any]) -> str:
    return json.dumps(signed, indent=1, sort_keys=True) + "\n"


@migrate_app.command()
def close(
    plan_id: Annotated[str, typer.Argument(help="Id of the plan to close.")],
    certificate: Annotated[
        Path | None, typer.Option("--certificate", help="Write the signed certificate here.")
    ] = None,
) -> None:
    """Destroy the plan's packages, shred their keys, write a signed deletion certificate."""
    signed = ctx.service().post(f"/migrations/{plan_id}/close")
    if certificate is not None:
        write_private(certificate, _certificate_text(signed))
    body = signed["certificate"]
    deleted = sum(1 for a in body["artefacts"] if a["deleted"])
    ctx.say(
        f"Plan {plan_id} closed: {deleted} files destroyed, "
        f"{len(body['keys_shredded'])} keys shredded; certificate signed "
        f"by key {body['signer']['key_id']}."
    )


@migrate_app.command("export-key")
def export_key_cmd(
    file: Annotated[Path, typer.Argument(help="Where to write the PEM (e.g. network.pem).")],
) -> None:
    """Write the network's package signing key (PEM), for recipients to pin (--signer-key)."""
    answer = ctx.service().get("/migrations/signer-key")
    write_private(file, answer["pem"])
    ctx.say(f"Package signing key {answer['key_id']} written to {file}.")


@migrate_app.command("certificate")
def certificate_cmd(
    plan_id: Annotated[str, typer.Argument(help="Id of a closed plan.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write it (JSON).")],
) -> None:
    """Write the signed deletion certificate of a closed plan."""
    signed = ctx.service().post(f"/migrations/{plan_id}/certificate")
    write_private(out, _certificate_text(signed))
    ctx.say(f"Certificate of plan {plan_id} written to {out}")


@migrate_app.command("verify-certificate")
def verify_certificate_cmd(
    certificate: Annotated[Path, typer.Argument(help="A deletion certificate (JSON).")],
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="The network's public key (PEM).")
    ] = None,
) -> None:
    """Check a deletion certificate's signature offline; exit 5 if it fails."""
    from etanche.migrate import verify_certificate

    try:
        signed = json.loads(certificate.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UsageError(f"{certificate.name}: not a readable JSON certificate") from None
    pem = None
    if public_key is not None:
        try:
            pem = public_key.read_bytes()
        except OSError:
            raise UsageError(f"--public-key: cannot read {public_key.name}") from None
    verify_certificate(signed, pem)
    plan = signed["certificate"]["plan"]["id"]
    ctx.say(f"Certificate of plan {plan}: signature verifies.")


@migrate_app.command()
def status(as_json: AsJson = False) -> None:
    """Plans, their approvals, packages and certificates."""
    data = ctx.service().get("/migrations")
    if as_json:
        typer.echo(json.dumps(data))
        return
    table = Table(title="Migration plans")
    for column in ("plan", "state", "approvals", "expires", "recipients"):
        table.add_column(column)
    for row in data["plans"]:
        table.add_row(
            row["plan"],
            row["state"],
            ", ".join(row["approvals"]) or "—",
            (row["expires_at"] or "")[:10],
            ", ".join(row["recipients"]),
        )
    ctx.console.print(table)
