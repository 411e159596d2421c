"""``etanche export`` and ``etanche trace``: fingerprinted exports, naming a leak's source (F10).

Both are clients of the service. ``export`` sends an approved export plan and
asks the service to write the file at the absolute ``--out`` path on its own
host (age-encrypted to the plan's recipient, 0600); ``trace`` names found
files on the service's host and prints the report it answers; ``--html`` is
written here, 0600.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from etanche._files import write_private
from etanche.cli import _context as ctx
from etanche.cli._app import app
from etanche.cli._migrate import _plan as plan_file_body


@app.command("export")
def export_cmd(
    out: Annotated[
        Path, typer.Option("--out", help="File to write (on the service's host; made absolute).")
    ],
    plan: Annotated[
        Path | None,
        typer.Option(
            "--plan",
            help="The export plan (kind: export) two named approvers signed; it fixes the lab, "
            "fields, recipient, marks and canaries.",
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv (canonical columns) or fhir.")] = "csv",
    lab: Annotated[str | None, typer.Option("--lab", hidden=True)] = None,
    recipient: Annotated[str | None, typer.Option("--recipient", hidden=True)] = None,
    fields: Annotated[str | None, typer.Option("--fields", hidden=True)] = None,
    marks: Annotated[str | None, typer.Option("--marks", hidden=True)] = None,
    canary_rate: Annotated[float | None, typer.Option("--canary-rate", hidden=True)] = None,
    retention_days: Annotated[int | None, typer.Option("--retention-days", hidden=True)] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", hidden=True)] = None,
    plaintext: Annotated[bool, typer.Option("--plaintext", hidden=True)] = False,
) -> None:
    """Write an approved export plan's lab: fingerprinted, with canaries, age-encrypted, 0600.

    The hidden options are what the plan decides; they are sent so that the
    service refuses them by name and audits the attempt.
    """
    body: dict[str, Any] = {
        "plan": plan_file_body(plan) if plan is not None else None,
        "out": str(out.absolute()),
        "format": fmt,
        "lab": lab,
        "recipient": recipient,
        "fields": fields,
        "marks": marks,
        "canary_rate": canary_rate,
        "retention_days": retention_days,
        "purpose": purpose,
        "plaintext": plaintext or None,
    }
    lines = ctx.service().stream("POST", "/exports", body)
    done = ctx.follow(lines, "Exporting")
    expires = str(done.get("expires_at") or "")[:10] or "never"
    ctx.say(
        f"Export {done['export_id']} for {done['recipient']}: {done['rows']} patients of lab "
        f"{done['lab']} and {done['canaries']} canaries written to {out} ({done['format']}, "
        f"age-encrypted to the recipient, 0600); ledger entry kept until {expires}."
    )


@app.command("trace")
def trace_cmd(
    files: Annotated[
        list[Path],
        typer.Argument(help="Found files on the service's host (any shape; folders walked)."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="JSON report on stdout.")] = False,
    html_out: Annotated[
        Path | None, typer.Option("--html", help="Also write an HTML report there.")
    ] = None,
) -> None:
    """Name the export a found file came from: canaries, fingerprints, row order, scope."""
    body = {"paths": [str(p.absolute()) for p in files], "html": html_out is not None}
    answer = ctx.service().post("/leak/trace", body)
    if html_out is not None:
        write_private(html_out, str(answer["html"]))
    if as_json:
        ctx.echo_json({"files": answer["files"]})
        return
    for trace in answer["files"]:
        ctx.say(
            f"{trace['file']}: {trace['rows']} rows, {trace['identified_rows']} recognised, "
            f"{trace['exports_scored']} exports scored: {trace['verdict']}."
        )
        if trace["identified_rows"]:
            for table in _tables(trace):
                ctx.console.print(table)


_HEADERS = (
    "export",
    "recipient",
    "date",
    "rows in scope",
    "canaries",
    "marks agreeing",
    "order tau",
    "p (innocent, corrected)",
    "verdict",
)


def _tables(trace: dict[str, Any]) -> list[Table]:
    """One table per round of the attribution, as the service scored it."""
    tables = []
    for number, rnd in enumerate(trace["rounds"], start=1):
        table = Table(
            *_HEADERS, title=f"{trace['file']}: round {number}, {rnd['rows']} identified rows"
        )
        for s in rnd["ranking"]:
            table.add_row(
                s["export_id"],
                s["recipient"],
                (s["created_at"] or "-")[:10],
                f"{s['rows_in_scope']} ({s['scope_share']:.0%})",
                str(s["canary_hits"]),
                f"{s['agreements']}/{s['marks_seen']} (chance {s['expected_agreements']:.1f})",
                f"{s['order_concordance']:+.2f} on {s['order_rows']}",
                s["p_corrected"],
                "ACCUSED" if s["accused"] else "-",
            )
        tables.append(table)
    return tables
