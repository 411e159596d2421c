"""``etanche identity``: RNIV identity statuses and merges of duplicate records.

A client of the service like every person command: the service decides, logs and
writes. The INSi result is read from a JSON file the desk saved (traits on a
command line would land in the shell's history); answers show ids, statuses,
document kinds, dates and trait names, never a trait's value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from etanche.cli import _context as ctx
from etanche.cli._app import AsJson, app, parse_date
from etanche.errors import UsageError

identity_app = typer.Typer(
    help="Identity vigilance (RNIV): statuses of the INS, merges of duplicate records.",
    no_args_is_help=True,
)
app.add_typer(identity_app, name="identity")

PatientId = Annotated[str, typer.Argument(help="Patient id.")]
MergeId = Annotated[str, typer.Argument(help="Merge id (from `etanche identity merges`).")]
_INS_FIELDS = ("matricule", "oid", "birth_name", "first_names", "sex", "birth_date")


def _show_status(doc: dict[str, Any], as_json: bool) -> None:
    if as_json:
        ctx.echo_json(doc)
        return
    ctx.say(f"{doc['id']} ({doc['lab']}): identity status {doc['status']}")
    if doc["document"]:
        d = doc["document"]
        ctx.say(f"  document: {d['kind']}, checked by {d['by']} at {d['at']}")
    if doc["ins"]:
        ins = doc["ins"]
        differ = ", ".join(ins["traits_differ"]) or "none"
        ctx.say(f"  INS {ins['matricule']} ({ins['oid']}), retrieved {ins['retrieved_at']}")
        ctx.say(f"  strict traits differing from the record: {differ}")
    if doc["downgrade"]:
        g = doc["downgrade"]
        ctx.say(f"  last downgrade: from {g['from']}, {g['reason']}, by {g['by']} at {g['at']}")


def _show_merge(doc: dict[str, Any], as_json: bool) -> None:
    if as_json:
        ctx.echo_json(doc)
        return
    waiting = f", waiting for {', '.join(doc['missing_labs'])}" if doc["missing_labs"] else ""
    ctx.say(
        f"merge {doc['id']}: {doc['state']}{waiting}; survivor {doc['survivor']} "
        f"({doc['survivor_lab']}), absorbed {doc['absorbed']} ({doc['absorbed_lab']}); "
        f"approved by {', '.join(doc['approvers'])}"
    )


@identity_app.command("status")
def status(patient_id: PatientId, as_json: AsJson = False) -> None:
    """The identity status and its evidence (an audited read)."""
    _show_status(ctx.service().get(f"/identity/{patient_id}/status"), as_json)


@identity_app.command("validate")
def validate(
    patient_id: PatientId,
    document: Annotated[
        str,
        typer.Option(
            "--document",
            help="Kind of high-trust document checked: cni, passeport, titre_sejour, "
            "livret_famille or extrait_naissance (a minor's, with a parent's document).",
        ),
    ],
    checked_on: Annotated[
        str | None, typer.Option("--checked-on", help="Day of the check (default: today).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Record a high-trust identity document checked at the desk (its kind, never a copy)."""
    body: dict[str, Any] = {"document": document}
    if checked_on:
        body["checked_on"] = parse_date(checked_on, "--checked-on").isoformat()
    _show_status(ctx.service().post(f"/identity/{patient_id}/validate", body), as_json)


@identity_app.command("retrieve-ins")
def retrieve_ins(
    patient_id: PatientId,
    result: Annotated[
        Path,
        typer.Option(
            "--result",
            help="JSON file of the INSi answer: matricule, oid, birth_name, first_names (list), "
            "sex, birth_date, birthplace_insee, retrieved_on.",
            exists=True,
            dir_okay=False,
        ),
    ],
    as_json: AsJson = False,
) -> None:
    """Enter the INSi teleservice's answer (Étanche never calls the teleservice)."""
    try:
        body = json.loads(result.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"--result: not a readable JSON file ({type(exc).__name__})") from None
    if not isinstance(body, dict):
        raise UsageError("--result: expected a JSON object")
    missing = [name for name in _INS_FIELDS if name not in body]
    if missing:
        raise UsageError(f"--result: missing {', '.join(missing)}")
    body.setdefault("retrieved_on", body.get("date"))
    _show_status(ctx.service().post(f"/identity/{patient_id}/retrieve-ins", body), as_json)


@identity_app.command("qualify")
def qualify(patient_id: PatientId, as_json: AsJson = False) -> None:
    """Qualify: a checked document and an INS whose five strict traits match."""
    _show_status(ctx.service().post(f"/identity/{patient_id}/qualify"), as_json)


@identity_app.command("downgrade")
def downgrade(
    patient_id: PatientId,
    to: Annotated[str, typer.Option("--to", help="Lower status: PROV, RECUP or VALI.")],
    reason: Annotated[
        str,
        typer.Option(
            "--reason", help="document_doubt, ins_doubt or identity_doubt (identity officer)."
        ),
    ],
    as_json: AsJson = False,
) -> None:
    """Lower an identity's status with a reason (identity officer)."""
    body = {"to": to.upper(), "reason": reason}
    _show_status(ctx.service().post(f"/identity/{patient_id}/downgrade", body), as_json)


@identity_app.command("restore")
def restore(patient_id: PatientId, as_json: AsJson = False) -> None:
    """Undo the last downgrade as far as the evidence still supports (identity officer)."""
    _show_status(ctx.service().post(f"/identity/{patient_id}/restore"), as_json)


@identity_app.command("merges")
def merges(as_json: AsJson = False) -> None:
    """Merges of your labs: pending, merged, unmerged."""
    found = ctx.service().get("/identity/merges")
    if as_json:
        ctx.echo_json(found)
        return
    for doc in found["merges"]:
        _show_merge(doc, False)
    ctx.say(f"{len(found['merges'])} merges")


@identity_app.command("merge")
def merge(
    survivor: Annotated[str, typer.Argument(help="Id of the record that stays.")],
    absorbed: Annotated[str, typer.Argument(help="Id of the record absorbed into it.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    as_json: AsJson = False,
) -> None:
    """Merge two records of one person (across labs: waits for the other lab's officer)."""
    if not yes and not typer.confirm(f"Merge {absorbed} into {survivor}?"):
        raise typer.Abort()
    body = {"survivor": survivor, "absorbed": absorbed}
    _show_merge(ctx.service().post("/identity/merges", body), as_json)


@identity_app.command("approve")
def approve(merge_id: MergeId, as_json: AsJson = False) -> None:
    """Approve a merge across labs as the other lab's identity officer."""
    _show_merge(ctx.service().post(f"/identity/merges/{merge_id}/approve"), as_json)


@identity_app.command("unmerge")
def unmerge(
    merge_id: MergeId,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    as_json: AsJson = False,
) -> None:
    """Undo a merge exactly: both records and their specimens are as before."""
    if not yes and not typer.confirm(f"Undo merge {merge_id}?"):
        raise typer.Abort()
    _show_merge(ctx.service().post(f"/identity/merges/{merge_id}/unmerge"), as_json)
