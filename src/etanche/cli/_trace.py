"""``etanche export`` and ``etanche trace``: fingerprinted exports, naming a leak's source (F10).

Both are clients of the service. ``export`` asks the service to write the file
at the absolute ``--out`` path on its own host (0600); ``trace`` names found
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


@app.command("export")
def export_cmd(
    lab: Annotated[str, typer.Option("--lab", help="Lab whose patients are exported.")],
    recipient: Annotated[str, typer.Option("--recipient", help="Who receives the file.")],
    out: Annotated[
        Path, typer.Option("--out", help="File to write (on the service's host; made absolute).")
    ],
    fmt: Annotated[str, typer.Option("--format", help="csv (canonical columns) or fhir.")] = "csv",
    marks: Annotated[
        str | None,
        typer.Option(
            "--marks",
            help="Marks the recipient's system tolerates: phone,case,nfd,street,nir,order "
            "(default all; 'none' for none).",
        ),
    ] = None,
    canary_rate: Annotated[
        float, typer.Option("--canary-rate", help="Canaries per row (at least 2; 0 for none).")
    ] = 0.001,
    retention_days: Annotated[
        int, typer.Option("--retention-days", help="How long the ledger keeps this export.")
    ] = 3650,
    purpose: Annotated[
        str, typer.Option("--purpose", help="Why the recipient gets the file (ledger).")
    ] = "export",
    fields: Annotated[
        str | None,
        typer.Option("--fields", help="Comma-separated canonical fields (default: admin ones)."),
    ] = None,
) -> None:
    """Write a lab's patients for one recipient: fingerprinted, with canaries, in the ledger."""
    target = out.absolute()
    body = {
        "lab": lab,
        "recipient": recipient,
        "out": str(target),
        "format": fmt,
        "marks": marks,
        "canary_rate": canary_rate,
        "retention_days": retention_days,
        "purpose": purpose,
        "fields": fields,
    }
    lines = ctx.service().stream("POST", "/exports", body)
    done = ctx.follow(lines, f"Exporting lab {lab}")
    expires = str(done.get("expires_at") or "")[:10] or "never"
    ctx.say(
        f"Export {done['export_id']} for {done['recipient']}: {done['rows']} patients and "
        f"{done['canaries']} canaries written to {out} ({done['format']}); ledger entry kept "
        f"until {expires}."
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
