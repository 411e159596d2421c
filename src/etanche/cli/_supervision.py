"""``etanche alerts`` and ``etanche decoys``: supervision from the command line (F8).

Clients of the service: it holds the rules, raises and stores the alerts, and
plants decoys under keys no person holds. ``register`` writes the register of
processing (art. 30) the service builds. ``alerts rules --rules FILE`` and
``retention check FILE`` are the local tools here: they validate a rules or
retention file before it is given to the service, without the service.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from etanche._files import write_private
from etanche.cli import _context as ctx
from etanche.cli._app import AsJson, app
from etanche.errors import UsageError

alerts_app = typer.Typer(help="Supervision alerts: list, acknowledge, rules.", no_args_is_help=True)
decoys_app = typer.Typer(
    help="Decoy patients: realistic records whose touch raises a critical alert.",
    no_args_is_help=True,
)
retention_app = typer.Typer(
    help="Retention (docs/retention.md): check a rules file, purge, legal holds, verify reports.",
    no_args_is_help=True,
)
app.add_typer(alerts_app, name="alerts")
app.add_typer(decoys_app, name="decoys")
app.add_typer(retention_app, name="retention")


@alerts_app.command("list")
def alerts_list(
    show_all: Annotated[bool, typer.Option("--all", help="Acknowledged alerts too.")] = False,
    as_json: AsJson = False,
) -> None:
    """List open alerts, newest first (--all for acknowledged ones too)."""
    found = ctx.service().get("/alerts", all=str(show_all).lower())
    if as_json:
        ctx.echo_json(found)
        return
    if not found["alerts"]:
        ctx.say("No open alert." if not show_all else "No alert.")
        return
    ctx.console.print(_table(found["alerts"]))


@alerts_app.command("ack")
def alerts_ack(
    alert_id: Annotated[str, typer.Argument(help="Alert id (as printed by `alerts list`).")],
    note: Annotated[str | None, typer.Option(help="What was checked or done.")] = None,
) -> None:
    """Acknowledge an alert as the logged-in person: records who, when and the note; once."""
    alert = ctx.service().post("/alerts/ack", {"alert": alert_id, "note": note})
    ctx.say(f"Alert {alert['id']} ({alert['rule']}) acknowledged by {alert['acknowledged_by']}.")


@alerts_app.command("rules")
def alerts_rules(
    as_json: AsJson = False,
    rules: Annotated[
        Path | None,
        typer.Option(
            "--rules",
            help="Validate this local rules file (YAML, over the packaged defaults) instead of "
            "showing the service's rules.",
        ),
    ] = None,
) -> None:
    """Show the rules and sinks in force in the service, or validate a local rules file."""
    if rules is not None:
        from etanche import verify as offline  # a local check: no service needed

        doc = offline.check_rules_file(rules)
    else:
        doc = ctx.service().get("/alerts/rules")
    if as_json:
        ctx.echo_json(doc)
        return
    from rich.table import Table

    table = Table("rule", "enabled", "severity", "parameters", title=f"Rules ({doc['source']})")
    for rule in doc["rules"]:
        params = "; ".join(f"{k}={_shown(v)}" for k, v in rule["parameters"].items()) or "-"
        table.add_row(rule["name"], "yes" if rule["enabled"] else "no", rule["severity"], params)
    ctx.console.print(table)
    names = ", ".join(f"{s['name']} ({s['type']})" for s in doc["sinks"]) or "none"
    ctx.say(f"Sinks: {names}.")


@decoys_app.command("plant")
def decoys_plant(
    n: Annotated[int, typer.Argument(min=1, max=100_000, help="How many decoys to add.")],
) -> None:
    """Add N realistic decoy patients; their ids are neither shown nor stored in clear."""
    done = ctx.service().post("/decoys/plant", {"count": n})
    ctx.say(
        f"Planted {done['planted']} decoy patients ({done['total']} in the registry, kept as "
        "keyed digests only)."
    )


@decoys_app.command("count")
def decoys_count() -> None:
    """How many decoys the registry holds."""
    total = ctx.service().get("/decoys/count")["total"]
    ctx.say(f"{total} decoy patients in the registry.")


@retention_app.command("check")
def retention_check(
    path: Annotated[
        Path | None,
        typer.Argument(help="Site retention file (YAML); none: the packaged defaults."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Validate a retention file over the packaged defaults, locally, and show the result.

    No service and no key: the file holds durations and sources, no patient data. A bad
    line gives one error naming the file, the line and the field (exit 2).
    """
    from etanche.domain import load_retention  # a local check: no service needed

    rules = load_retention(path)
    rows = [
        {
            "category": r.category,
            "duration": r.duration,
            "start": r.start,
            "source": r.source,
            "confirmed": r.confirmed,
        }
        for r in rules
    ]
    if as_json:
        ctx.echo_json({"source": rules.source, "categories": rows})
        return
    from rich.table import Table

    table = Table("category", "duration", "start", "confirmed", "source", title=rules.source)
    for row in rows:
        table.add_row(
            str(row["category"]),
            str(row["duration"]),
            str(row["start"]),
            "yes" if row["confirmed"] else "to confirm",
            str(row["source"]),
        )
    ctx.console.print(table)


@retention_app.command("purge")
def retention_purge(
    report: Annotated[Path, typer.Option("--report", help="Signed purge report to write (0600).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would go; shred nothing.")
    ] = False,
    markdown: Annotated[
        Path | None,
        typer.Option("--markdown", help="Also write the French summary for the DPO (0600)."),
    ] = None,
) -> None:
    """Crypto-shred what the retention rules say has expired (dpo); writes the signed report.

    Patients under a legal hold are kept; a record whose clear date differs from its
    sealed one is refused, not shredded. Counts per category and lab, no personal value.
    """
    answer = ctx.service().post("/retention/purge", {"dry_run": dry_run})
    signed = answer["signed"]
    write_private(report, json.dumps(signed, indent=1, ensure_ascii=False) + "\n")
    if markdown is not None:
        write_private(markdown, str(answer["markdown"]))
    body = signed["report"]
    verb = "Would shred" if dry_run else "Shredded"
    for category, labs in body["counts"].items():
        per_lab = ", ".join(f"{lab} {n}" for lab, n in labs.items())
        ctx.say(f"{verb} {sum(labs.values())} {category} ({per_lab}).")
    if not body["counts"]:
        ctx.say("Nothing has expired.")
    kept = body["kept"]
    ctx.say(
        f"Kept: {kept['held']} under a legal hold, {kept['refused']} refused (dates differ). "
        f"Report {report} (audit event {signed['event']['seq']})."
    )


@retention_app.command("hold")
def retention_hold(
    patient_id: Annotated[str, typer.Argument(help="Patient id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (no personal value).")],
) -> None:
    """Put a patient under a legal hold (dpo): the purge keeps it until released."""
    ctx.service().post("/retention/hold", {"patient": patient_id, "reason": reason})
    ctx.say(f"Patient {patient_id} is under a legal hold.")


@retention_app.command("release")
def retention_release(
    patient_id: Annotated[str, typer.Argument(help="Patient id.")],
) -> None:
    """Lift a patient's legal hold (dpo)."""
    ctx.service().post("/retention/release", {"patient": patient_id})
    ctx.say(f"Patient {patient_id}: legal hold lifted.")


@retention_app.command("verify-report")
def retention_verify_report(
    report: Annotated[Path, typer.Argument(help="Signed purge report (JSON).")],
    log_key: Annotated[
        Path, typer.Option("--log-key", help="The audit log's public key (PEM), pinned.")
    ],
    as_json: AsJson = False,
) -> None:
    """Check a purge report offline with the pinned log key (exit 5 if it fails).

    Checks the signature, that the report's audit event names this report, and the
    counts; `audit prove SEQ` then shows that event is in the witnessed log.
    """
    from etanche import verify as offline  # offline: no service, pinned key only

    try:
        doc = json.loads(report.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise UsageError(f"{report}: not a readable JSON purge report") from None
    checked = offline.verify_purge_report(doc, log_key.read_bytes())
    if as_json:
        ctx.echo_json(checked)
        return
    kind = "dry run" if checked["dry_run"] else "purge"
    ctx.say(
        f"Purge report OK ({kind} at {checked['at']}): {checked['records']} records, "
        f"audit event {checked['seq']} (leaf {checked['leaf_hash'][:16]}…), "
        f"retention file SHA-256 {str(checked['retention_sha256'])[:16]}…."
    )


def _shown(value: object) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _time(value: str) -> str:
    return f"{datetime.fromisoformat(value):%Y-%m-%d %H:%M}"


def _table(found: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table("id", "raised (UTC)", "severity", "rule", "actor", "summary", "acknowledged")
    for alert in found:
        acked = (
            f"{alert['acknowledged_by']} {_time(alert['acknowledged_at'])}"
            if alert["acknowledged_at"]
            else "-"
        )
        table.add_row(
            alert["id"],
            _time(alert["created_at"]),
            alert["severity"],
            alert["rule"],
            alert["actor"] or "-",
            alert["summary"],
            acked,
        )
    return table


@app.command("register")
def processing_register(
    out: Annotated[Path, typer.Option("--out", help="File to write (0600).")],
    fmt: Annotated[
        str, typer.Option("--format", help="md (Markdown) or pdf.", case_sensitive=False)
    ] = "md",
) -> None:
    """The register of processing (GDPR art. 30), in French, built by the service (dpo, auditor).

    Controllers, purposes, categories, recipients, retention with its sources and the
    security measures in force; the service records who asked for it.
    """
    fmt = fmt.lower()
    if fmt not in ("md", "pdf"):
        raise UsageError(f"--format: expected md or pdf, got {fmt[:10]!r}")
    doc = ctx.service().get("/register", format=fmt)
    if fmt == "pdf":
        write_private(out, base64.b64decode(doc["pdf"]))
    else:
        write_private(out, str(doc["markdown"]))
    ctx.say(f"Register written: {out}.")
    if fmt == "pdf" and doc["core_font"]:
        ctx.err_console.print(
            "Warning: DejaVu fonts not installed (Debian fonts-dejavu-core); the PDF uses a core "
            "font and plain quotes."
        )
