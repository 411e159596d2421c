"""``etanche export`` and ``etanche trace``: fingerprinted exports, naming a leak's source (F10)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from etanche._files import write_private
from etanche.access import Action
from etanche.audit._events import DetailValue
from etanche.cli import _legacy as ctx
from etanche.cli._app import app
from etanche.cli._legacy import Keyfile, Vault_
from etanche.errors import UsageError
from etanche.leak.trace import Ledger, parse_marks
from etanche.leak.trace._export import FORMATS, ExportRequest, parse_fields, write_export
from etanche.leak.trace._files import FileTrace, trace_file
from etanche.leak.trace._report import render_html, render_table, to_dict, verdict


@app.command("export")
def export_cmd(
    lab: Annotated[str, typer.Option("--lab", help="Lab whose patients are exported.")],
    recipient: Annotated[str, typer.Option("--recipient", help="Who receives the file.")],
    out: Annotated[Path, typer.Option("--out", help="File to write.")],
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
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Write a lab's patients for one recipient: fingerprinted, with canaries, in the ledger."""
    if fmt not in FORMATS:
        raise UsageError(f"--format: expected one of {', '.join(FORMATS)}")
    request = ExportRequest(
        lab_id=lab,
        recipient=recipient,
        purpose=purpose,
        fmt=fmt,
        out=out,
        marks=parse_marks(marks),
        canary_rate=canary_rate,
        retention_days=retention_days,
        fields=parse_fields(fields),
    )
    details: dict[str, DetailValue] = {"lab": lab, "recipient": recipient, "format": fmt}
    with ctx.authorized(vault, keyfile, Action.EXPORT_CREATE, details, lab_id=lab) as (
        store,
        _,
        event,
    ):
        Ledger(store).purge_expired()
        entry = write_export(store, request)
        event.update(
            export_id=entry.export_id,
            rows=len(entry.rows),
            canaries=len(entry.canaries),
            marks=",".join(sorted(entry.mark.marks)) or "none",
        )
    ctx.console.print(
        f"Export {entry.export_id} for {entry.recipient}: {len(entry.rows)} patients and "
        f"{len(entry.canaries)} canaries written to {out} ({fmt}); ledger entry kept until "
        f"{entry.expires_at:%Y-%m-%d}.",
        markup=False,
        highlight=False,
    )


@app.command("trace")
def trace_cmd(
    files: Annotated[list[Path], typer.Argument(help="Found files (any shape; folders walked).")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON report on stdout.")] = False,
    html_out: Annotated[
        Path | None, typer.Option("--html", help="Also write an HTML report there.")
    ] = None,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Name the export a found file came from: canaries, fingerprints, row order, scope."""
    details: dict[str, DetailValue] = {"files": len(files)}
    traces: list[FileTrace] = []
    with ctx.authorized(vault, keyfile, Action.LEAK_TRACE, details) as (store, _, event):
        # Blind indexes and the ledger only: no compartment key is unwrapped.
        ledger = Ledger(store)
        ledger.purge_expired()
        entries = ledger.entries()
        for path in files:
            traces.append(trace_file(path, entries, vault=store))
        event.update(
            exports_scored=len(entries),
            rows=sum(t.result.found_rows for t in traces),
            identified=sum(t.result.identified for t in traces),
            accused=",".join(s.export_id for t in traces for s in t.result.sources) or None,
        )
    if html_out is not None:
        write_private(html_out, render_html(traces))
    if as_json:
        typer.echo(json.dumps({"files": [to_dict(t) for t in traces]}))
        return
    for trace in traces:
        r = trace.result
        ctx.console.print(
            f"{trace.path}: {r.found_rows} rows, {r.identified} recognised, "
            f"{r.exports} exports scored: {verdict(trace)}.",
            markup=False,
            highlight=False,
        )
        if r.identified:
            for table in render_table(trace):
                ctx.console.print(table)
