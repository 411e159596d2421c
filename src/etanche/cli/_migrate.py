"""``etanche migrate``: plan, approve, check, run, verify and close a migration."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from etanche._files import write_private
from etanche.access import Action
from etanche.cli import _legacy as ctx
from etanche.cli._app import app
from etanche.cli._legacy import Keyfile, Vault_
from etanche.crypto import AgeIdentity
from etanche.errors import UsageError
from etanche.leak.trace import unmark_row
from etanche.migrate import (
    CERTIFICATE_KIND,
    MigrationPlan,
    Plans,
    build_package,
    check_plan,
    close_plan,
    import_rows,
    load_plan,
    open_package,
    package_rows,
    verify_certificate,
)
from etanche.migrate._verify import Reconciliation
from etanche.service import marker_for, plan_marks
from etanche.vault import Documents

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


def _reporter(bar: Progress) -> Callable[[int], None]:
    """A progress callback taking running totals (the migrate API reports totals)."""
    last = [0]

    def advance(done: int) -> None:
        ctx.advance(bar, done - last[0])
        last[0] = done

    return advance


def _lab_of(plan: MigrationPlan) -> str | None:
    """The one lab a single-lab plan concerns; None (network-wide) for several."""
    return plan.labs[0] if len(plan.labs) == 1 else None


def _details(plan: MigrationPlan) -> dict[str, Any]:
    return {"plan": plan.id, "plan_sha256": plan.sha256[:16]}


@migrate_app.command("plan")
def register(plan_file: PlanFile, vault: Vault_ = None, keyfile: Keyfile = None) -> None:
    """Register a plan (again): it waits for its two named approvers."""
    plan = load_plan(plan_file)
    plan_marks(plan)
    with ctx.authorized(
        vault, keyfile, Action.MIGRATION_PLAN, _details(plan), lab_id=_lab_of(plan)
    ) as (store, actor, _):
        record = Plans(store).register(plan, actor.username)
    names = " and ".join(a.username for a in plan.approvers)
    ctx.console.print(
        f"Plan {plan.id} registered (SHA-256 {plan.sha256[:16]}…), state {record.state}; "
        f"approvals needed from {names}."
    )


@migrate_app.command()
def approve(plan_file: PlanFile, vault: Vault_ = None, keyfile: Keyfile = None) -> None:
    """Approve a registered plan as one of its two named approvers (signed)."""
    plan = load_plan(plan_file)
    with ctx.authorized(
        vault, keyfile, Action.MIGRATION_APPROVE, _details(plan), lab_id=_lab_of(plan)
    ) as (store, actor, event):
        record = Plans(store).approve(plan, actor.username)
        event["state"] = record.state
    ctx.console.print(f"Plan {plan.id}: approved by {actor.username}; state {record.state}.")


@migrate_app.command()
def check(
    plan_file: PlanFile,
    as_json: AsJson = False,
    html: Annotated[Path | None, typer.Option("--html", help="Write an HTML report.")] = None,
    workers: Workers = 1,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Dry run over the whole source: counts and located problems, nothing written."""
    plan = load_plan(plan_file)
    with ctx.authorized(
        vault,
        keyfile,
        Action.MIGRATION_PLAN,
        {**_details(plan), "step": "check"},
        lab_id=_lab_of(plan),
    ) as (_, _, event):
        with ctx.progress_bar("Checking the source", None) as bar:
            report = check_plan(plan, progress=_reporter(bar), workers=workers)
        event.update(
            records=report.records, valid=report.valid, rejected=report.in_scope - report.valid
        )
    data = report.to_dict()
    if html is not None:
        write_private(html, report.to_html())
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
        ctx.console.print(
            "Refused credential columns: " + ", ".join(columns["refused_credentials"])
        )
    if columns["free_text_for_review"]:
        ctx.console.print("Free text to review: " + ", ".join(columns["free_text_for_review"]))
    ctx.console.print(
        f"{data['records']} records: {data['valid']} valid in scope, {data['rejected']} rejected, "
        f"{data['out_of_scope']} out of scope."
    )


@migrate_app.command()
def run(
    plan_file: PlanFile,
    out: Annotated[Path, typer.Option("--out", help="Package folder (resumes a killed run).")],
    workers: Workers = 1,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Build the encrypted, signed package of an approved plan (resumable)."""
    plan = load_plan(plan_file)
    with ctx.authorized(
        vault, keyfile, Action.MIGRATION_RUN, _details(plan), lab_id=_lab_of(plan)
    ) as (store, actor, event):
        Plans(store).require_approved(plan)  # refuse before any progress is drawn
        with ctx.progress_bar("Packaging", None) as bar:
            result = build_package(
                plan,
                store,
                out,
                actor=actor.username,
                progress=_reporter(bar),
                outbound=marker_for(plan, store),
                workers=workers,
            )
        event.update(
            package=result.package_id,
            records=result.records,
            parts=result.parts,
            resumed_parts=result.resumed_parts,
        )
    ctx.console.print(
        f"Package {result.package_id}: {result.records} records and {result.canaries} canaries "
        f"in {result.parts} parts "
        f"({result.resumed_parts} from an earlier run), content {result.content_sha256[:16]}…, "
        f"in {out}"
    )


@migrate_app.command()
def verify(
    package: Annotated[Path, typer.Argument(help="Package folder received.")],
    identity: Annotated[Path, typer.Option("--identity", help="Your age secret key file.")],
    signer_key: Annotated[
        Path | None,
        typer.Option("--signer-key", help="Sender's public key (PEM) to pin the signature."),
    ] = None,
    into: Annotated[bool, typer.Option("--import", help="Import into --vault.")] = False,
    to_fhir: Annotated[Path | None, typer.Option("--to-fhir", help="Write FHIR NDJSON.")] = None,
    to_csv: Annotated[Path | None, typer.Option("--to-csv", help="Write canonical CSV.")] = None,
    as_json: AsJson = False,
    workers: Workers = 1,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Check a received package (signature, hashes, counts), then import or convert it."""
    if sum(bool(x) for x in (into, to_fhir, to_csv)) > 1:
        raise UsageError("verify: choose one of --import, --to-fhir, --to-csv")
    if into and signer_key is None:
        # the manifest's own key proves nothing about who sent it: never import on it
        raise UsageError("--import: pin the sender's public key with --signer-key")
    try:
        key = AgeIdentity.from_text(identity.read_text(), field="--identity")
    except OSError:
        raise UsageError(f"--identity: cannot read {identity.name}") from None
    pinned = signer_key.read_bytes() if signer_key is not None else None
    with ctx.progress_bar("Verifying", None) as bar:
        checked = open_package(
            package,
            [key],
            signer_key_pem=pinned,
            progress=_reporter(bar),
        )
    if into:
        if not vault:
            raise UsageError("--import: give the target vault with --vault")
        with ctx.authorized(
            vault, keyfile, Action.MIGRATION_IMPORT, {"package": checked.manifest["package_id"]}
        ) as (store, _, event):
            with ctx.progress_bar("Importing", checked.manifest["counts"]["records"]) as bar:
                report = import_rows(
                    checked, store, workers=workers, normalise=unmark_row, progress=_reporter(bar)
                )
            event.update(imported=report.imported, canaries_dropped=report.canaries_dropped)
    else:
        report = Reconciliation(checked.manifest)
        rows = (record for _, _, record in package_rows(checked, report))
        from etanche import exchange

        if to_fhir is not None:
            exchange.write_fhir_ndjson(rows, to_fhir)
        elif to_csv is not None:
            exchange.write_canonical_csv(rows, to_csv)
        else:
            for _ in rows:
                pass
    data = report.to_dict()
    data["signature"] = "pinned key" if checked.pinned else "key in the manifest (not pinned)"
    if as_json:
        typer.echo(json.dumps(data))
        return
    _print_reconciliation(data)


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
        ctx.console.print(f"{compartment}: {c['received']} values of {c['announced']} announced")
    verdict = "match the manifest" if data["matches"] else "DIFFER from the manifest"
    ctx.console.print(
        f"Signature checked with the {data['signature']}; counts {verdict}; "
        f"{data['canaries_dropped']} canary records dropped, {data['imported']} imported. "
        f"The plan expires on {data['expires_at'][:10]}: delete this package and its key by then."
    )


@migrate_app.command()
def close(
    plan_id: Annotated[str, typer.Argument(help="Id of the plan to close.")],
    certificate: Annotated[
        Path | None, typer.Option("--certificate", help="Write the signed certificate here.")
    ] = None,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Destroy the plan's packages, shred their keys, write a signed deletion certificate."""
    with ctx.authorized(vault, keyfile, Action.MIGRATION_CLOSE, {"plan": plan_id}) as (
        store,
        actor,
        event,
    ):
        signed = close_plan(store, plan_id, actor=actor.username, reason="closed on demand")
        event["artefacts"] = len(signed["certificate"]["artefacts"])
    text = json.dumps(signed, indent=1, sort_keys=True)
    if certificate is not None:
        write_private(certificate, text + "\n")
    deleted = sum(1 for a in signed["certificate"]["artefacts"] if a["deleted"])
    ctx.console.print(
        f"Plan {plan_id} closed: {deleted} files destroyed, "
        f"{len(signed['certificate']['keys_shredded'])} keys shredded; certificate signed "
        f"by key {signed['certificate']['signer']['key_id']}."
    )


@migrate_app.command("certificate")
def certificate_cmd(
    plan_id: Annotated[str, typer.Argument(help="Id of a closed plan.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write it (JSON).")],
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Write the signed deletion certificate of a closed plan."""
    with ctx.authorized(vault, keyfile, Action.MIGRATION_CLOSE, {"plan": plan_id}) as (store, _, _):
        signed = Documents(store).get(CERTIFICATE_KIND, plan_id).body
    write_private(out, json.dumps(signed, indent=1, sort_keys=True) + "\n")
    ctx.console.print(f"Certificate of plan {plan_id} written to {out}")


@migrate_app.command("verify-certificate")
def verify_certificate_cmd(
    certificate: Annotated[Path, typer.Argument(help="A deletion certificate (JSON).")],
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="The network's public key (PEM).")
    ] = None,
) -> None:
    """Check a deletion certificate's signature offline; exit 5 if it fails."""
    try:
        signed = json.loads(certificate.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UsageError(f"{certificate.name}: not a readable JSON certificate") from None
    verify_certificate(signed, public_key.read_bytes() if public_key else None)
    plan = signed["certificate"]["plan"]["id"]
    ctx.console.print(f"Certificate of plan {plan}: signature verifies.")


@migrate_app.command()
def status(as_json: AsJson = False, vault: Vault_ = None, keyfile: Keyfile = None) -> None:
    """Plans, their approvals, packages and certificates."""
    with ctx.authorized(vault, keyfile, Action.MIGRATION_CLOSE) as (store, _, _):
        records = Plans(store).all()
    data: list[dict[str, Any]] = [
        {
            "plan": r.id,
            "state": r.state,
            "sha256": r.sha256,
            "approvals": [a["username"] for a in r.approvals],
            "expires_at": r.expires_at.isoformat() if r.expires_at else None,
            "recipients": list(r.recipients),
        }
        for r in records
    ]
    if as_json:
        typer.echo(json.dumps({"plans": data}))
        return
    table = Table(title="Migration plans")
    for column in ("plan", "state", "approvals", "expires", "recipients"):
        table.add_column(column)
    for row in data:
        table.add_row(
            row["plan"],
            row["state"],
            ", ".join(row["approvals"]) or "—",
            (row["expires_at"] or "")[:10],
            ", ".join(row["recipients"]),
        )
    ctx.console.print(table)
