"""``etanche requests``: patients' rights requests, the DPO's workflow (GDPR art. 12, 15-21).

add → lookup (the requester's records: lab and id only) → link → verify-identity
→ extend (once, two months, with a reason) → close (granted or refused with a
reason) → lift (a restriction). ``check`` runs the deadline check now. Every
command is a client of the service, which decides and audits each step. The
requester's contact is printed only with ``--reveal-contact``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from etanche.cli import _context as ctx
from etanche.cli._app import app, parse_date
from etanche.errors import EtancheError, UsageError

requests_app = typer.Typer(
    help="Patients' rights requests: deadlines, identity checks, extensions, answers.",
    no_args_is_help=True,
)
app.add_typer(requests_app, name="requests")

RequestId = Annotated[str, typer.Argument(help="Request id (as printed by `requests list`).")]
Json = Annotated[bool, typer.Option("--json", help="JSON on stdout.")]


def _path(request_id: str, *tail: str) -> str:
    if not request_id or "/" in request_id or len(request_id) > 32:
        raise UsageError(f"request id: not a request id: {request_id[:40]!r}")
    return "/".join(["/rights-requests", request_id, *tail])


def _said(request: dict[str, Any], what: str) -> None:
    ctx.say(
        f"Request {request['id']} ({request['kind']}) {what}: {request['status_fr']}, "
        f"due {request['due_fr']}"
        + (f" ({request['days_left']} days left)." if request["days_left"] is not None else ".")
    )


@requests_app.command("add")
def add(
    kind: Annotated[
        str, typer.Argument(help="access, rectification, erasure, restriction or objection.")
    ],
    contact: Annotated[
        str, typer.Option("--contact", help="Where to send the answer (stored encrypted).")
    ],
    received: Annotated[
        str | None,
        typer.Option("--received", help="When it was received, ISO with time zone (default now)."),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="What is asked.")] = None,
    record: Annotated[
        str | None, typer.Option("--record", help="The record it is about (from `lookup`).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Register a request: due one month after its receipt (art. 12(3))."""
    body: dict[str, Any] = {"kind": kind, "contact": contact, "note": note, "record": record}
    if received is not None:
        try:
            moment = datetime.fromisoformat(received)
        except ValueError:
            raise UsageError("--received: expected e.g. 2026-12-03T09:30+01:00") from None
        body["received_at"] = moment.isoformat()
    request = ctx.service().post("/rights-requests", body)
    if as_json:
        ctx.echo_json(request)
        return
    _said(request, "registered")


@requests_app.command("list")
def list_requests(as_json: Json = False) -> None:
    """Every request with its deadline and the days left."""
    found = ctx.service().get("/rights-requests")["requests"]
    if as_json:
        ctx.echo_json({"requests": found})
        return
    if not found:
        ctx.console.print("No request.")
        return
    table = Table("id", "kind", "status", "received", "due", "days left", "lab")
    for r in found:
        left = "" if r["days_left"] is None else str(r["days_left"])
        table.add_row(
            r["id"], r["kind"], r["status"], r["received_fr"], r["due_fr"], left, r["lab"] or ""
        )
    ctx.console.print(table)


@requests_app.command("show")
def show(
    request_id: RequestId,
    reveal_contact: Annotated[
        bool, typer.Option("--reveal-contact", help="Print the requester's contact too.")
    ] = False,
    as_json: Json = False,
) -> None:
    """One request: steps, identity check, extension, answer (the contact on demand)."""
    request = ctx.service().get(_path(request_id))
    if not reveal_contact:
        request["contact"] = None
    if as_json:
        ctx.echo_json(request)
        return
    out = [
        f"Request {request['id']}: {request['kind']} ({request['status']}), received "
        f"{request['received_fr']}, due {request['due_fr']}.",
        f"Record: {request['lab'] or '-'} {request['record'] or '-'}",
    ]
    if request["contact"]:
        out.append(f"Contact: {request['contact']}")
    if request["identity"]:
        i = request["identity"]
        out.append(f"Identity checked on {i['at_fr']} by {i['by']} ({i['document']}).")
    if request["extension"]:
        e = request["extension"]
        out.append(f"Extended by {e['by']} on {e['at_fr']}; requester told {e['told_fr']}.")
    if request["outcome"]:
        out.append(f"Answer: {request['outcome']}.")
    if request["legal"]:
        legal = request["legal"]
        out.append(f"Retention {legal['category']} runs until {legal['end']} ({legal['source']}).")
    out += [f"  {e['at_fr']}  {e['by']}  {e['step']}" for e in request["timeline"]]
    ctx.console.print("\n".join(out), markup=False, highlight=False)


@requests_app.command("lookup")
def lookup(
    birth_name: Annotated[str, typer.Option("--birth-name", help="Requester's birth name.")],
    first_name: Annotated[str, typer.Option("--first-name", help="Requester's first name.")],
    birth_date: Annotated[str, typer.Option("--birth-date", help="DD/MM/YYYY.")],
    nir: Annotated[str | None, typer.Option("--nir", help="Social security number.")] = None,
    as_json: Json = False,
) -> None:
    """The requester's records across the network: lab and record id, never data."""
    day = parse_date(birth_date, "--birth-date")
    body = {
        "birth_name": birth_name,
        "first_name": first_name,
        "birth_date": day.isoformat(),
        "nir": nir,
    }
    found = ctx.service().post("/rights-requests/lookup", body)["records"]
    if as_json:
        ctx.echo_json({"records": found})
        return
    if not found:
        ctx.say("No record matches these traits.")
        return
    for match in found:
        ctx.console.print(f"{match['lab']}  {match['record']}  ({match['by']})", markup=False)


@requests_app.command("link")
def link(
    request_id: RequestId,
    record: Annotated[str, typer.Argument(help="Record id (from `lookup`).")],
    as_json: Json = False,
) -> None:
    """Attach the record the request is about."""
    request = ctx.service().post(_path(request_id, "record"), {"record": record})
    if as_json:
        ctx.echo_json(request)
        return
    _said(request, "linked")


@requests_app.command("verify-identity")
def verify_identity(
    request_id: RequestId,
    document: Annotated[
        str,
        typer.Option(
            "--document",
            help="id_card, passport, residence_permit, driving_licence or in_person.",
        ),
    ],
    as_json: Json = False,
) -> None:
    """Record that the requester's identity was checked (the kind of document, never a copy)."""
    request = ctx.service().post(_path(request_id, "identity"), {"document": document})
    if as_json:
        ctx.echo_json(request)
        return
    _said(request, "identity verified")


@requests_app.command("extend")
def extend(
    request_id: RequestId,
    reason: Annotated[str, typer.Option("--reason", help="Why two more months are needed.")],
    told_on: Annotated[
        str | None,
        typer.Option("--told-on", help="When the requester was told, DD/MM/YYYY (default today)."),
    ] = None,
    as_json: Json = False,
) -> None:
    """The one extension by two months (art. 12(3)); the requester must be told."""
    body: dict[str, Any] = {"reason": reason}
    if told_on is not None:
        body["told_on"] = parse_date(told_on, "--told-on").isoformat()
    request = ctx.service().post(_path(request_id, "extend"), body)
    if as_json:
        ctx.echo_json(request)
        return
    _said(request, "extended")


@requests_app.command("close")
def close(
    request_id: RequestId,
    outcome: Annotated[str, typer.Argument(help="granted or refused.")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (required for a refusal).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Answer the request. A granted erasure is refused with the legal reason while a
    retention duty runs; a granted restriction flags the record."""
    request = ctx.service().post(_path(request_id, "close"), {"outcome": outcome, "reason": reason})
    if as_json:
        ctx.echo_json(request)
        return
    _said(request, "closed")
    if request["legal"]:
        legal = request["legal"]
        ctx.say(
            f"Erasure refused: retention {legal['category']} runs until {legal['end']} "
            f"({legal['source']})."
        )


@requests_app.command("lift")
def lift(request_id: RequestId, as_json: Json = False) -> None:
    """Lift the restriction a granted request set."""
    request = ctx.service().post(_path(request_id, "lift"))
    if as_json:
        ctx.echo_json(request)
        return
    ctx.say(f"Restriction of request {request['id']} lifted.")


@requests_app.command("check")
def check(as_json: Json = False) -> None:
    """Check every deadline against the audit log now; each finding raises its alert."""
    findings = ctx.service().post("/rights-requests/check")["findings"]
    if as_json:
        ctx.echo_json({"findings": findings})
        return
    if not findings:
        ctx.say("Every open request is within its deadline.")
        return
    for f in findings:
        ctx.console.print(f"{f['request']}  due {f['due']}  {f['problem']}", markup=False)
    raise EtancheError(f"requests: {len(findings)} findings; each raised its alert (exit 1)")
