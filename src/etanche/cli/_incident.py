"""``etanche incident``: the DPO's breach workflow (GDPR art. 33 and 34).

open (optionally scanning the found files) → note / describe / assess → report
(the CNIL draft, Markdown and PDF) → filed (the notification was filed with the
CNIL) → notify (letters to the patients) → close. Every
command is a client of the service, which decides and audits each step; found
files are scanned here (a local read) and only their rows' normalised
identifiers go to the service to be matched. Patient ids and letters never
reach stdout, stderr or a log.
"""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from etanche._files import write_private
from etanche.cli import _context as ctx
from etanche.cli._app import app
from etanche.errors import UsageError

CIRCUMSTANCES = (
    "exposed",
    "copied",
    "published",
    "altered",
    "altered-lost",
    "unavailable",
    "lost",
    "malicious",
    "public",
    "vulnerable",
)

FOUND_ON = ("telegram", "forum", "paste", "web", "darkweb", "storage", "device", "email", "other")
CAUSES = (
    "internal-malicious",
    "internal-accidental",
    "external-malicious",
    "external-accidental",
    "unknown",
)
MEASURES = ("contain", "takedown", "trace", "complaint", "passwords", "inform", "phishing")

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
FoundOn = Annotated[
    str | None,
    typer.Option(
        "--found-on",
        help="Where the file turned up: "
        + ", ".join(FOUND_ON)
        + " (online places default to published, malicious).",
    ),
]
DpoSex = Annotated[
    str | None,
    typer.Option("--dpo-sex", help="F or M: 'Déléguée' or 'Délégué' in the draft and letters."),
]
Circ = Annotated[
    list[str] | None,
    typer.Option(
        "--circumstances",
        help="Circumstances, comma-separated or repeated: " + ", ".join(CIRCUMSTANCES) + ".",
    ),
]


def _moment(value: str, option: str = "--discovered-at") -> datetime:
    """ISO 8601; a time without zone is Paris time (where the labs are)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option}: expected an ISO date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


def _local(moment: str) -> str:
    return f"{datetime.fromisoformat(moment).astimezone(PARIS):%Y-%m-%d %H:%M} (Paris)"


def _path(incident_id: str, action: str = "") -> str:
    return f"/incidents/{incident_id}" + (f"/{action}" if action else "")


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
    found_on: FoundOn = None,
    dpo_sex: DpoSex = None,
    as_json: Json = False,
) -> None:
    """Open an incident with its timeline and 72-hour deadline; --found scans the files."""
    discovered = _moment(discovered_at) if discovered_at else None
    client = ctx.service()
    body: dict[str, Any] = {
        "title": title,
        "discovered_at": discovered.isoformat() if discovered else None,
        "circumstances": circumstances,
        "dpo_contact": dpo_contact,
        "found_on": found_on,
        "dpo_sex": dpo_sex,
    }
    if found:
        from etanche.cli._scan import scan_files

        report, identifiers = scan_files(list(found), collect=True)
        assert identifiers is not None
        body["report"] = report.to_dict()
        body["identifiers"] = [list(row) for row in identifiers.rows]
        body["exposures"] = identifiers.exposures()
    incident = client.post("/incidents", body)
    if as_json:
        ctx.echo_json(incident)
        return
    ctx.say(
        f"Incident {incident['id']} opened; notify the CNIL by {_local(incident['deadline'])} "
        f"({incident['countdown']}). Severity {incident['severity']} "
        f"({incident['score']:g}); {incident['matched']} of our patients recognised."
    )


@incident_app.command("list")
def incident_list(as_json: Json = False) -> None:
    """Incidents, newest first, with the deadline countdown and the severity level."""
    found = ctx.service().get("/incidents")["incidents"]
    if as_json:
        ctx.echo_json({"incidents": found})
        return
    if not found:
        ctx.console.print("No incident.")
        return
    table = Table("id", "state", "title", "discovered", "deadline", "severity", "patients")
    for incident in found:
        table.add_row(
            incident["id"],
            incident["state"],
            incident["title"],
            _local(incident["discovered_at"]),
            _deadline_text(incident),
            incident["severity"],
            str(incident["matched"]),
        )
    ctx.console.print(table)


@incident_app.command("show")
def incident_show(incident_id: IncidentId, as_json: Json = False) -> None:
    """Timeline, deadline countdown and the severity with its explanation."""
    incident = ctx.service().get(_path(incident_id))
    if as_json:
        ctx.echo_json(incident)
        return
    severity = incident["assessment"]
    per_lab = ", ".join(f"{lab}: {n}" for lab, n in sorted(incident["matched_per_lab"].items()))
    out = [
        f"Incident {incident['id']} ({incident['state']}): {incident['title']}",
        f"Discovered {_local(incident['discovered_at'])}; CNIL deadline "
        f"{_local(incident['deadline'])}: {_deadline_text(incident)}.",
        f"Patients recognised: {incident['matched']}"
        + (f" ({per_lab})" if per_lab else "")
        + (f"; letters prepared: {incident['letters']}" if incident["letters"] else "")
        + ".",
        f"Severity (ENISA): {severity['level']}, SE = {severity['formula']} = "
        f"{severity['score']:g}"
        + ("; tell the persons (art. 34)." if incident["tell_persons"] else "."),
    ]
    for key in ("dpc", "ei", "cb"):
        factor = severity[key]
        out.append(f"  {factor['name']} = {factor['score']:g}")
        out += [f"    - {reason}" for reason in factor["reasons"]]
    out.append("Timeline:")
    out += [f"  {_local(e['at'])}  {e['actor']}  {e['text']}" for e in incident["timeline"]]
    for line in out:
        ctx.say(line)


@incident_app.command("note")
def incident_note(
    incident_id: IncidentId,
    text: Annotated[str, typer.Argument(help="What happened or was done (no patient data).")],
    measure: Annotated[
        bool, typer.Option("--measure", help="A measure taken (goes into art. 33(3)(d)).")
    ] = False,
    planned: Annotated[
        bool, typer.Option("--planned", help="A measure planned, not yet taken.")
    ] = False,
    covers: Annotated[
        str | None,
        typer.Option(
            "--covers",
            help="The proposed measure this one stands for, so the draft stops proposing it: "
            + ", ".join(MEASURES)
            + ".",
        ),
    ] = None,
) -> None:
    """Add a timeline entry (a note, a measure taken or a measure planned)."""
    done = ctx.service().post(
        _path(incident_id, "notes"),
        {"text": text, "measure": measure, "planned": planned, "covers": covers},
    )
    ctx.say(f"Incident {done['id']}: {done['timeline_entries']} timeline entries.")


@incident_app.command("assess")
def incident_assess(incident_id: IncidentId, circumstances: Circ = None) -> None:
    """Set the circumstances of the breach again; the severity follows."""
    done = ctx.service().post(_path(incident_id, "assess"), {"circumstances": circumstances or []})
    ctx.say(f"Incident {done['id']}: severity {done['severity']} ({done['score']:g}).")


@incident_app.command("describe")
def incident_describe(
    incident_id: IncidentId,
    started_at: Annotated[
        str | None, typer.Option(help="When the breach began (ISO; Paris time without zone).")
    ] = None,
    cause: Annotated[
        str | None, typer.Option(help="Cause, as the CNIL form asks: " + ", ".join(CAUSES) + ".")
    ] = None,
    exit_path: Annotated[
        str | None,
        typer.Option(help="How the data left (French, no patient data), e.g. the server."),
    ] = None,
    found_on: FoundOn = None,
    dpo_sex: DpoSex = None,
) -> None:
    """Record the facts the CNIL form asks beside the scan: start, cause, exit path."""
    done = ctx.service().post(
        _path(incident_id, "describe"),
        {
            "started_at": _moment(started_at, "--started-at").isoformat() if started_at else None,
            "cause": cause,
            "exit_path": exit_path,
            "found_on": found_on,
            "dpo_sex": dpo_sex,
        },
    )
    ctx.say(f"Incident {done['id']}: facts recorded; severity {done['severity']}.")


@incident_app.command("filed")
def incident_filed(
    incident_id: IncidentId,
    at: Annotated[
        str | None,
        typer.Option("--at", help="When it was filed (ISO; Paris time without zone; default now)."),
    ] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help="The CNIL's reference of the notification.")
    ] = None,
) -> None:
    """Record that a notification was filed with the CNIL (initial, then supplementary).

    The letters name the CNIL from then on; the 72 hours are judged on the initial filing.
    """
    done = ctx.service().post(
        _path(incident_id, "filed"),
        {"at": _moment(at, "--at").isoformat() if at else None, "reference": reference},
    )
    kind = "initial" if len(done["filings"]) == 1 else "supplementary"
    ctx.say(
        f"Incident {done['id']}: {kind} notification recorded as filed"
        + (" (after the 72-hour deadline)." if done["late"] and kind == "initial" else ".")
    )


@incident_app.command("close")
def incident_close(incident_id: IncidentId) -> None:
    """Close the incident (its record and timeline are kept)."""
    done = ctx.service().post(_path(incident_id, "close"))
    ctx.say(f"Incident {done['id']} closed.")


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
    dpo_sex: DpoSex = None,
) -> None:
    """The notification draft for the CNIL with every art. 33(3) field and the timeline.

    The service drafts it (and records the drafting); the files are written here, 0600.
    """
    if md is None and pdf is None:
        raise UsageError("report: give --md FILE and/or --pdf FILE")
    draft = ctx.service().post(
        _path(incident_id, "report"),
        {
            "markdown": md is not None,
            "pdf": pdf is not None,
            "delay_reason": delay_reason,
            "dpo_contact": dpo_contact,
            "dpo_sex": dpo_sex,
        },
    )
    written = []
    if md is not None:
        write_private(md, str(draft["markdown"]))
        written.append(str(md))
    if pdf is not None:
        write_private(pdf, base64.b64decode(draft["pdf"]))
        written.append(str(pdf))
    ctx.say(f"Draft written: {', '.join(written)}.")
    if pdf is not None and draft["core_font"]:
        ctx.err_console.print(
            "Warning: DejaVu fonts not installed (Debian fonts-dejavu-core); the PDF uses a core "
            "font and plain quotes."
        )
    if draft["late"]:
        ctx.err_console.print(
            "Warning: past the 72-hour deadline and not filed in time; the notification must "
            "state the reasons for the delay"
            + (" (--delay-reason)." if draft["incomplete"] else ".")
        )


@incident_app.command("notify")
def incident_notify(
    incident_id: IncidentId,
    out: Annotated[
        Path,
        typer.Option("--out", help="Empty folder for the letters (0700), on the service's host."),
    ],
    dpo_contact: Contact = None,
    batch: Annotated[int, typer.Option(min=1, max=5000, help="Letters per PDF file.")] = 500,
    dpo_sex: DpoSex = None,
) -> None:
    """Letters (art. 34) to the incident's recognised patients, one per page, PDF batches.

    The service writes them into ``--out`` (made absolute) on its own host: names and
    addresses never travel to this terminal.
    """
    lines = ctx.service().stream(
        "POST",
        _path(incident_id, "notify"),
        {
            "out": str(out.absolute()),
            "dpo_contact": dpo_contact,
            "batch": batch,
            "dpo_sex": dpo_sex,
        },
    )
    run = ctx.follow(lines, "Writing letters")
    ctx.say(
        f"{run['letters']} letters in {len(run['files'])} PDF file(s) and index.json under {out} "
        f"({run['without_address']} without a postal address)."
    )


def _deadline_text(incident: dict[str, Any]) -> str:
    """Filed (and whether in time), else the countdown: a draft does not stop the clock."""
    filed = incident.get("notified_at")
    if filed:
        return f"filed {_local(filed)}" + (" (late)" if incident.get("late") else "")
    drafted = incident.get("reported_at")
    return str(incident["countdown"]) + (f"; draft made {_local(drafted)}" if drafted else "")
