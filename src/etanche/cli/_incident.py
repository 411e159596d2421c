"""``etanche incident``: the DPO's breach workflow (GDPR art. 33 and 34).

open (optionally scanning the found files) → note / assess → report (the CNIL
draft, Markdown and PDF) → notify (letters to the patients) → close. Every
command is decided by the policy and audited by ``IncidentDesk``; patient ids
and letters never reach stdout, stderr or a log.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from etanche.cli import _legacy as ctx
from etanche.cli._app import app
from etanche.cli._legacy import Keyfile, Vault_
from etanche.errors import UsageError
from etanche.leak.incident import (
    CIRCUMSTANCES,
    Incident,
    IncidentDesk,
    countdown,
    font_files,
    parse_circumstances,
)

incident_app = typer.Typer(
    help="Breach incidents: 72-hour deadline, ENISA severity, CNIL draft, letters to patients.",
    no_args_is_help=True,
)
app.add_typer(incident_app, name="incident")

PARIS = ZoneInfo("Europe/Paris")
IncidentId = Annotated[str, typer.Argument(help="Incident id (as printed by `incident list`).")]
Json = Annotated[bool, typer.Option("--json", help="JSON on stdout.")]
Contact = Annotated[
    str | None,
    typer.Option("--dpo-contact", help="The DPO's contact for the CNIL and the letters."),
]
Circ = Annotated[
    list[str] | None,
    typer.Option(
        "--circumstances",
        help="Circumstances, comma-separated or repeated: " + ", ".join(CIRCUMSTANCES) + ".",
    ),
]


def _desk(who: ctx.PersonAtWork) -> IncidentDesk:
    return IncidentDesk(who.vault, who.trail, who.actor, client=ctx.CLIENT)


def _moment(value: str) -> datetime:
    """ISO 8601; a time without zone is Paris time (where the labs are)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError("--discovered-at: expected an ISO date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


def _local(moment: datetime) -> str:
    return f"{moment.astimezone(PARIS):%Y-%m-%d %H:%M} (Paris)"


@incident_app.command("open")
def incident_open(
    title: Annotated[str, typer.Option("--title", help="Short description (no patient data).")],
    found: Annotated[
        list[Path] | None,
        typer.Option("--found", exists=True, help="A found file to scan (repeat for several)."),
    ] = None,
    discovered_at: Annotated[
        str | None,
        typer.Option(help="When the breach was discovered (ISO; default now): starts the 72 h."),
    ] = None,
    circumstances: Circ = None,
    dpo_contact: Contact = None,
    as_json: Json = False,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Open an incident with its timeline and 72-hour deadline; --found scans the files."""
    circ = parse_circumstances(circumstances) if circumstances else None
    discovered = _moment(discovered_at) if discovered_at else None
    with ctx.person(vault, keyfile) as who:
        desk = _desk(who)
        if found:
            with ctx.progress_bar("Scanning found files", None) as bar:
                incident = desk.open(
                    title,
                    discovered_at=discovered,
                    circumstances=circ,
                    dpo_contact=dpo_contact,
                    found=found,
                    progress=lambda n: ctx.advance(bar, n),
                )
        else:
            incident = desk.open(
                title, discovered_at=discovered, circumstances=circ, dpo_contact=dpo_contact
            )
    if as_json:
        typer.echo(json.dumps(_summary(incident), ensure_ascii=False))
        return
    severity = incident.severity
    ctx.console.print(
        f"Incident {incident.id} opened; notify the CNIL by {_local(incident.deadline)} "
        f"({countdown(incident.deadline).english()}). Severity {severity.level.value} "
        f"({severity.score:g}); {incident.matched_count} of our patients recognised.",
        markup=False,
        highlight=False,
    )


@incident_app.command("list")
def incident_list(as_json: Json = False, vault: Vault_ = None, keyfile: Keyfile = None) -> None:
    """Incidents, newest first, with the deadline countdown and the severity level."""
    with ctx.person(vault, keyfile) as who:
        found = list(reversed(_desk(who).list()))
    if as_json:
        typer.echo(json.dumps({"incidents": [_summary(i) for i in found]}, ensure_ascii=False))
        return
    if not found:
        ctx.console.print("No incident.")
        return
    table = Table("id", "state", "title", "discovered", "deadline", "severity", "patients")
    for incident in found:
        table.add_row(
            incident.id,
            incident.state,
            incident.title,
            _local(incident.discovered_at),
            _deadline_text(incident),
            incident.severity.level.value,
            str(incident.matched_count),
        )
    ctx.console.print(table)


@incident_app.command("show")
def incident_show(
    incident_id: IncidentId, as_json: Json = False, vault: Vault_ = None, keyfile: Keyfile = None
) -> None:
    """Timeline, deadline countdown and the severity with its explanation."""
    with ctx.person(vault, keyfile) as who:
        incident = _desk(who).get(incident_id)
    if as_json:
        typer.echo(json.dumps(_detail(incident), ensure_ascii=False))
        return
    severity = incident.severity
    out = [
        f"Incident {incident.id} ({incident.state}): {incident.title}",
        f"Discovered {_local(incident.discovered_at)}; CNIL deadline {_local(incident.deadline)}: "
        f"{_deadline_text(incident)}.",
        f"Patients recognised: {incident.matched_count}"
        + (f" ({_per_lab(incident)})" if incident.matched else "")
        + (f"; letters prepared: {incident.letters}" if incident.letters else "")
        + ".",
        f"Severity (ENISA): {severity.level.value}, SE = {severity.dpc.score:g} × "
        f"{severity.ei.score:g} + {severity.cb.score:g} = {severity.score:g}"
        + ("; tell the persons (art. 34)." if severity.level.persons_to_be_told else "."),
    ]
    for factor in (severity.dpc, severity.ei, severity.cb):
        out.append(f"  {factor.name} = {factor.score:g}")
        out += [f"    - {reason}" for reason in factor.reasons]
    out.append("Timeline:")
    out += [f"  {_local(e.at)}  {e.actor}  {e.text}" for e in incident.timeline]
    for line in out:
        ctx.console.print(line, markup=False, highlight=False)


@incident_app.command("note")
def incident_note(
    incident_id: IncidentId,
    text: Annotated[str, typer.Argument(help="What happened or was done (no patient data).")],
    measure: Annotated[
        bool, typer.Option("--measure", help="A measure taken (goes into art. 33(3)(d)).")
    ] = False,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Add a timeline entry."""
    with ctx.person(vault, keyfile) as who:
        incident = _desk(who).note(incident_id, text, measure=measure)
    ctx.console.print(f"Incident {incident.id}: {len(incident.timeline)} timeline entries.")


@incident_app.command("assess")
def incident_assess(
    incident_id: IncidentId,
    circumstances: Circ = None,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Set the circumstances of the breach again; the severity follows."""
    with ctx.person(vault, keyfile) as who:
        incident = _desk(who).assess(incident_id, circumstances or [])
    severity = incident.severity
    ctx.console.print(
        f"Incident {incident.id}: severity {severity.level.value} ({severity.score:g})."
    )


@incident_app.command("close")
def incident_close(incident_id: IncidentId, vault: Vault_ = None, keyfile: Keyfile = None) -> None:
    """Close the incident (its record and timeline are kept)."""
    with ctx.person(vault, keyfile) as who:
        incident = _desk(who).close(incident_id)
    ctx.console.print(f"Incident {incident.id} closed.")


@incident_app.command("report")
def incident_report(
    incident_id: IncidentId,
    md: Annotated[Path | None, typer.Option("--md", help="Write the draft as Markdown.")] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the draft as PDF.")] = None,
    delay_reason: Annotated[
        str | None,
        typer.Option("--delay-reason", help="Why the notification comes after 72 hours."),
    ] = None,
    dpo_contact: Contact = None,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """The notification draft for the CNIL with every art. 33(3) field and the timeline."""
    if md is None and pdf is None:
        raise UsageError("report: give --md FILE and/or --pdf FILE")
    with ctx.person(vault, keyfile) as who:
        draft = _desk(who).draft(incident_id, delay_reason=delay_reason, dpo_contact=dpo_contact)
    written = []
    if md is not None:
        draft.write_markdown(md)
        written.append(str(md))
    if pdf is not None:
        draft.write_pdf(pdf)
        written.append(str(pdf))
    ctx.console.print(f"Draft written: {', '.join(written)}.", markup=False, highlight=False)
    if pdf is not None and font_files() is None:
        ctx.err_console.print(
            "Warning: DejaVu fonts not installed (Debian fonts-dejavu-core); the PDF uses a core "
            "font and plain quotes."
        )
    if draft.late:
        ctx.err_console.print(
            "Warning: past the 72-hour deadline; the draft must state the reasons for the delay"
            + (" (--delay-reason)." if "À COMPLÉTER" in draft.to_markdown() else ".")
        )


@incident_app.command("notify")
def incident_notify(
    incident_id: IncidentId,
    out: Annotated[Path, typer.Option("--out", help="Empty folder for the letters (0700).")],
    dpo_contact: Contact = None,
    batch: Annotated[int, typer.Option(min=1, max=5000, help="Letters per PDF file.")] = 500,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Letters (art. 34) to the incident's recognised patients, one per page, PDF batches."""
    with ctx.person(vault, keyfile) as who, ctx.progress_bar("Writing letters", None) as bar:
        run = _desk(who).letters(
            incident_id,
            out,
            dpo_contact=dpo_contact,
            batch=batch,
            total=lambda n: bar.update(bar.task_ids[0], total=n),
            progress=lambda n: ctx.advance(bar, n),
        )
    ctx.console.print(
        f"{run.letters} letters in {len(run.files)} PDF file(s) and index.json under {out} "
        f"({run.without_address} without a postal address).",
        markup=False,
        highlight=False,
    )


def _deadline_text(incident: Incident) -> str:
    if incident.reported_at is not None:
        late = " (late)" if incident.reported_at > incident.deadline else ""
        return f"draft made {_local(incident.reported_at)}{late}"
    return countdown(incident.deadline).english()


def _per_lab(incident: Incident) -> str:
    return ", ".join(f"{lab}: {len(ids)}" for lab, ids in sorted(incident.matched.items()))


def _summary(incident: Incident) -> dict[str, Any]:
    severity = incident.severity
    left = countdown(incident.deadline)
    return {
        "id": incident.id,
        "state": incident.state,
        "title": incident.title,
        "discovered_at": incident.discovered_at.isoformat(),
        "deadline": incident.deadline.isoformat(),
        "seconds_left": int(left.left.total_seconds()),
        "reported_at": incident.reported_at.isoformat() if incident.reported_at else None,
        "severity": severity.level.value,
        "score": severity.score,
        "matched": incident.matched_count,
        "letters": incident.letters,
    }


def _detail(incident: Incident) -> dict[str, Any]:
    """Everything but the patient ids."""
    return {
        **_summary(incident),
        "circumstances": incident.circumstances.tokens(),
        "matched_per_lab": {lab: len(ids) for lab, ids in incident.matched.items()},
        "assessment": incident.severity.to_dict(),
        "report": incident.report,
        "timeline": [e.to_dict() for e in incident.timeline],
    }
