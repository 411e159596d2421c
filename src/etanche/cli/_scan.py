"""``etanche scan``: what personal and health data found files expose (issue 7 §1).

A local tool: the files are read here, with no login, and the leak scan is
imported only when the command runs (polars and edsnlp load slowly). With
``--vault``, a logged-in person allowed to scan (the DPO) also learns how many
of our patients each lab has in the files: the rows' normalised identifiers go
to the service, which matches them by blind index, audits the scan and answers
counts per lab. No digest is computed here, no key is held.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from etanche._files import write_private
from etanche.cli import _context as ctx
from etanche.cli._app import app

if TYPE_CHECKING:  # imported when the command runs: polars and edsnlp load slowly
    from etanche.leak.scan import IdentifierSet, ScanReport


@app.command()
def scan(
    paths: Annotated[
        list[Path], typer.Argument(help="Files, directories or zip archives to scan.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="JSON report on stdout.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a self-contained HTML report.")
    ] = None,
    vault: Annotated[
        bool,
        typer.Option(
            "--vault",
            help="Match the rows against the vault's patients through the service "
            "(needs a login with the right).",
        ),
    ] = False,
) -> None:
    """Find personal and health data in found files: per category, masked samples.

    CSV/TSV, XLSX, JSON, NDJSON, SQL dumps, plain text and zip archives, any size.
    """
    client = ctx.service() if vault else None  # no session: refused before reading
    report, identifiers = scan_files(paths, collect=vault)
    if client is not None and identifiers is not None:
        answer = client.post(
            "/leak/scan/match",
            {
                "identifiers": [list(row) for row in identifiers.rows],
                "files": len(paths),
                "tables": len(report.files),
                "rows": report.rows,
            },
        )
        report.vault_matches = {str(k): int(n) for k, n in answer["vault_matches"].items()}
    if html is not None:
        from etanche.leak.scan import render_html

        write_private(html, render_html(report))
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    _print(report, html)


def scan_files(paths: list[Path], *, collect: bool) -> tuple[ScanReport, IdentifierSet | None]:
    """The local scan (with a progress bar on a terminal); ``collect`` keeps identifiers."""
    from etanche.leak.scan import IdentifierSet, scan_paths

    identifiers = IdentifierSet() if collect else None
    if not ctx.err_console.is_terminal:
        return scan_paths(paths, identifiers=identifiers), identifiers
    with ctx.progress_bar("Scanning rows", None) as bar:
        report = scan_paths(paths, identifiers=identifiers, progress=lambda n: ctx.advance(bar, n))
    return report, identifiers


def _print(report: ScanReport, html: Path | None) -> None:
    out = ctx.console
    for file in report.files:
        if file.error:
            # readers' errors already name the file
            line = file.error if file.error.startswith(file.name) else f"{file.name}: {file.error}"
            out.print(line, markup=False, highlight=False)
            continue
        table = Table(
            title=f"{file.name} ({file.format}, {file.rows:,} rows)", title_justify="left"
        )
        for column in ("category", "count", "columns", "confidence", "masked samples"):
            table.add_column(
                column, justify="right" if column in ("count", "confidence") else "left"
            )
        for name, finding in file.categories.items():
            if finding.count:
                table.add_row(
                    name,
                    f"{finding.count:,}",
                    ", ".join(finding.columns),
                    f"{finding.confidence:.2f}",
                    " | ".join(finding.samples),
                )
        if table.row_count:
            out.print(table)
        else:
            out.print(f"{file.name}: no personal data found.", markup=False, highlight=False)
    found = ", ".join(f"{k} {c.count:,}" for k, c in report.categories.items() if c.count)
    out.print(
        f"{len(report.files)} table(s), {report.rows:,} rows, {report.bytes_read:,} bytes; "
        f"about {report.persons:,} distinct persons. Found: {found or 'nothing'}.",
        markup=False,
        highlight=False,
    )
    if report.special_category:
        out.print("Special-category data (GDPR art. 9): health data present.", style="bold red")
    if report.vault_matches is not None:
        labs = ", ".join(f"{lab} {n:,}" for lab, n in report.vault_matches.items()) or "none"
        out.print(f"Our patients in these files, per lab: {labs}.", markup=False, highlight=False)
        out.print(
            "Run `etanche trace FILE` to find which export the file came from.",
            markup=False,
            highlight=False,
        )
    for note in report.notes:
        out.print(f"Note: {note}", markup=False, highlight=False)
    if html is not None:
        out.print(f"HTML report written to {html}.", markup=False, highlight=False)
