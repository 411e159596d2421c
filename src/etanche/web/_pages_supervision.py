"""The DPO's pages: audit browser with live verification, alerts, decoys.

Each page calls one supervision operation of the service (``Oversight``), which
asks the policy (``audit.read``, ``audit.verify``, ``alert.read``, ``alert.ack``,
``decoy.manage``; all network-wide resources), logs what was done and raises
the critical alert when live verification fails.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from etanche.errors import ValidationError
from etanche.service import ALERT_RULES as RULES
from etanche.service import SEVERITIES
from etanche.web._audit_fr import ACTIONS
from etanche.web._auth import form_person, page_person
from etanche.web._pages_common import PARIS, field, form_data, render
from etanche.web._pages_forms import parse_date
from etanche.web._state import Person

router = APIRouter(tags=["pages"])

PAGE_EVENTS = 200
MAX_PLANT_WEB = 500  # larger batches belong to the CLI (`etanche decoys plant`)


def _day_start(day: date) -> datetime:
    """Midnight in Paris: the DPO thinks in local days."""
    return datetime.combine(day, time(0, 0), tzinfo=PARIS)


# -- audit ---------------------------------------------------------------------------
_SHOWN_END = re.compile(r"^[0-9a-f]{8,31}$")


@router.get("/audit")
def audit_page(request: Request, person: Person = Depends(page_person)) -> Response:
    """Events, newest first, filtered by actor, patient id, action and days."""
    query = request.query_params
    filters = {
        "acteur": query.get("acteur", "").strip()[:64],
        "patient": query.get("patient", "").strip()[:64],
        "action": query.get("action", "").strip()[:48],
        "du": query.get("du", "").strip()[:10],
        "au": query.get("au", "").strip()[:10],
    }
    errors: dict[str, str] = {}
    if filters["action"] and filters["action"] not in ACTIONS:
        errors["action"] = "Action inconnue."
    bounds: dict[str, datetime | None] = {"du": None, "au": None}
    for name in ("du", "au"):
        if filters[name]:
            try:
                day = parse_date(filters[name])
            except ValidationError:
                errors[name] = "Date invalide : jour/mois/année attendu."
            else:
                bounds[name] = _day_start(day + timedelta(days=1 if name == "au" else 0))
    object_id = filters["patient"].lower().lstrip("…") or None
    if object_id and _SHOWN_END.match(object_id):
        object_id = "*" + object_id  # the 8 characters the list shows: every id ending so
    events, key_id = person.oversight().browse(
        actor=filters["acteur"] or None,
        object_id=object_id,
        action=filters["action"] or None,
        since=bounds["du"],
        until=bounds["au"],
        limit=PAGE_EVENTS,
        skip=bool(errors),
    )
    return render(
        request,
        person,
        "audit.html",
        {
            "filters": filters,
            "errors": errors,
            "events": events,
            "limit": PAGE_EVENTS,
            "actions": sorted(ACTIONS.items(), key=lambda item: item[1]),
            "key_id": key_id,
        },
        status_code=422 if errors else 200,
    )


@router.get("/audit/verification")
def verification(request: Request, person: Person = Depends(page_person)) -> Response:
    """Verify the whole log now, with the public key only (loaded by the audit page)."""
    report, key_id = person.oversight().verify()
    witnesses = [
        (name, *report.witnessed_by.get(name, (None, None))) for name in report.pinned_witnesses
    ]
    cosigned = [
        (name, size, None if at is None else datetime.fromtimestamp(at, UTC))
        for name, size, at in witnesses
    ]
    return render(
        request,
        person,
        "_verification.html",
        {"report": report, "key_id": key_id, "head": report.latest_head, "witnesses": cosigned},
    )


@router.get("/audit/public-key.pem")
def public_key(person: Person = Depends(page_person)) -> Response:
    """The log's public key: all an outside verifier needs (`etanche audit verify`)."""
    pem = person.oversight().public_key()
    return Response(
        pem,
        media_type="application/x-pem-file",
        headers={"Content-Disposition": 'attachment; filename="audit-public.pem"'},
    )


# -- alerts --------------------------------------------------------------------------
@router.get("/alerts")
def alerts_page(request: Request, person: Person = Depends(page_person)) -> Response:
    """Open alerts (or all of them), each with an acknowledgement form."""
    show_all = request.query_params.get("tous") == "1"
    found = person.oversight().alerts(open_only=not show_all, limit=PAGE_EVENTS)
    return render(
        request,
        person,
        "alerts.html",
        {
            "alerts": found,
            "show_all": show_all,
            "rules": RULES,
            "severities": SEVERITIES,
            "errors": {},
        },
    )


@router.post("/alerts/{alert_id}/ack")
def acknowledge(
    request: Request,
    alert_id: str,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """Acknowledge an alert with a note saying what was checked or done."""
    alert_ref = alert_id[:64]
    note = field(form, "note", 1000)
    oversight = person.oversight()
    try:
        oversight.acknowledge(alert_ref, note)
    except ValidationError as exc:
        if exc.field != "note":
            raise
        found = oversight.open_alerts_to_ack(PAGE_EVENTS)
        return render(
            request,
            person,
            "alerts.html",
            {
                "alerts": found,
                "show_all": False,
                "rules": RULES,
                "severities": SEVERITIES,
                "errors": {alert_ref: "Écrivez ce qui a été vérifié ou fait avant d'acquitter."},
            },
            status_code=422,
        )
    return RedirectResponse("/alerts?ok=acquittee", status_code=303)


# -- decoys --------------------------------------------------------------------------
@router.get("/decoys")
def decoys_page(request: Request, person: Person = Depends(page_person)) -> Response:
    """How many decoys exist (never which), and the form to plant more."""
    total = person.oversight().decoys()
    return render(
        request, person, "decoys.html", {"total": total, "limit": MAX_PLANT_WEB, "errors": {}}
    )


@router.post("/decoys")
def plant(
    request: Request,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """Plant decoy patients; their ids are neither shown nor stored in clear."""
    text = field(form, "count", 10)
    count = int(text) if text.isdigit() else 0
    oversight = person.oversight()
    try:
        oversight.plant(count, MAX_PLANT_WEB)
    except ValidationError as exc:
        if exc.field != "count":
            raise
        total = oversight.decoys_unlogged()
        message = f"Indiquez un nombre entre 1 et {MAX_PLANT_WEB}."
        return render(
            request,
            person,
            "decoys.html",
            {"total": total, "limit": MAX_PLANT_WEB, "errors": {"count": message}},
            status_code=422,
        )
    return RedirectResponse("/decoys?ok=plantes", status_code=303)
