"""The DPO's pages: audit browser with live verification, alerts, decoys.

Each page asks the policy (``audit.read``, ``audit.verify``, ``alert.read``,
``alert.ack``, ``decoy.manage``; all network-wide resources) and logs what was
done, as the CLI does. Verification uses the log's public key only, like an
outside verifier would; a failure raises the critical alert.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from etanche.access import Action
from etanche.audit import AuditLog, Outcome, verify_log
from etanche.audit._alerts import AlertEngine
from etanche.audit._decoys import decoy_count, plant_decoys
from etanche.audit._events import DetailValue
from etanche.errors import RecordNotFound, UsageError, ValidationError
from etanche.vault import ALL_COMPARTMENTS
from etanche.web._auth import form_person, page_person
from etanche.web._pages_common import PARIS, authorize, field, form_data, record, render
from etanche.web._pages_forms import parse_date
from etanche.web._pages_fr import ACTIONS, RULES, SEVERITIES
from etanche.web._state import Person, ServerState

router = APIRouter(tags=["pages"])

PAGE_EVENTS = 200
MAX_PLANT_WEB = 500  # larger batches belong to the CLI (`etanche decoys plant`)


def _alerts(state: ServerState) -> AlertEngine:
    return AlertEngine.from_config(state.vault.engine, state.config.rules)


def _day_start(day: date) -> datetime:
    """Midnight in Paris: the DPO thinks in local days."""
    return datetime.combine(day, time(0, 0), tzinfo=PARIS)


# -- audit ---------------------------------------------------------------------------
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
    authorize(person, Action.AUDIT_READ, {"operation": "browse"})
    log = AuditLog.for_vault(person.state.vault)
    events = []
    if not errors:
        events = log.events(
            actor=filters["acteur"] or None,
            object_id=filters["patient"] or None,
            action=filters["action"] or None,
            since=bounds["du"],
            until=bounds["au"],
            limit=PAGE_EVENTS,
            newest_first=True,
        )
    record(person, Action.AUDIT_READ, details={"operation": "browse", "count": len(events)})
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
            "key_id": log.key_id,
        },
        status_code=422 if errors else 200,
    )


@router.get("/audit/verification")
def verification(request: Request, person: Person = Depends(page_person)) -> Response:
    """Verify the whole log now, with the public key only (loaded by the audit page)."""
    authorize(person, Action.AUDIT_VERIFY, {"operation": "verify"})
    state = person.state
    log = AuditLog.for_vault(state.vault)
    report = verify_log(state.vault.engine, log.public_key_pem())
    details: dict[str, DetailValue] = {
        "operation": "verify",
        "events": report.events,
        "heads": report.heads,
        "problems": len(report.problems),
    }
    record(person, Action.AUDIT_VERIFY, Outcome.OK if report.ok else Outcome.FAILED, details)
    if not report.ok:
        _alerts(state).report_verification_failure(report.problems, actor=person.actor.username)
    return render(
        request,
        person,
        "_verification.html",
        {"report": report, "key_id": log.key_id, "head": report.latest_head},
    )


@router.get("/audit/public-key.pem")
def public_key(person: Person = Depends(page_person)) -> Response:
    """The log's public key: all an outside verifier needs (`etanche audit verify`)."""
    authorize(person, Action.AUDIT_VERIFY, {"operation": "export-key"})
    pem = AuditLog.for_vault(person.state.vault).public_key_pem()
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
    authorize(person, Action.ALERT_READ)
    found = _alerts(person.state).list_alerts(open_only=not show_all, limit=PAGE_EVENTS)
    record(person, Action.ALERT_READ, details={"count": len(found)})
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
    details: dict[str, DetailValue] = {"alert": alert_ref}
    authorize(person, Action.ALERT_ACK, details)
    note = field(form, "note", 1000)
    engine = _alerts(person.state)
    if not note:
        found = engine.list_alerts(open_only=True, limit=PAGE_EVENTS)
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
    try:
        engine.acknowledge(alert_ref, person.actor.username, note)
    except (UsageError, RecordNotFound) as exc:
        record(person, Action.ALERT_ACK, Outcome.FAILED, {**details, "error": type(exc).__name__})
        raise
    record(person, Action.ALERT_ACK, details=details)
    return RedirectResponse("/alerts?ok=acquittee", status_code=303)


# -- decoys --------------------------------------------------------------------------
@router.get("/decoys")
def decoys_page(request: Request, person: Person = Depends(page_person)) -> Response:
    """How many decoys exist (never which), and the form to plant more."""
    authorize(person, Action.DECOY_MANAGE, {"operation": "count"})
    total = decoy_count(person.state.vault)
    record(person, Action.DECOY_MANAGE, details={"operation": "count"})
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
    authorize(person, Action.DECOY_MANAGE, {"operation": "plant", "count": count})
    state = person.state
    if not 1 <= count <= MAX_PLANT_WEB:
        total = decoy_count(state.vault)
        message = f"Indiquez un nombre entre 1 et {MAX_PLANT_WEB}."
        return render(
            request,
            person,
            "decoys.html",
            {"total": total, "limit": MAX_PLANT_WEB, "errors": {"count": message}},
            status_code=422,
        )
    # Planting seals records under the lab keys; nothing is decrypted.
    session = state.vault.session(ALL_COMPARTMENTS)
    planted = plant_decoys(session, count)
    record(person, Action.DECOY_MANAGE, details={"operation": "plant", "count": len(planted)})
    return RedirectResponse("/decoys?ok=plantes", status_code=303)
