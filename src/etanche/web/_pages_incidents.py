"""The DPO's incident pages: list with the 72-hour countdown, detail, timeline notes.

Thin over the service's ``IncidentService``, the same operations the JSON API
(and so the CLI) calls: the service asks the policy (``incident.manage``) and
writes the audit events; the pages only render. The detail page shows the art. 33 draft as
it would be printed now (the same sections as ``etanche incident report``);
the steps that follow (assessment, the draft as a PDF, the filing, closing) are in
``_pages_incident_follow``; the letters stay on the command line, where the files
go to a folder the DPO chooses on the service's host.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from etanche.errors import UsageError, ValidationError
from etanche.leak.incident import FOUND_ON, Incident, countdown
from etanche.leak.incident._notification import fr_datetime
from etanche.service import IncidentService
from etanche.web._auth import form_person, page_person
from etanche.web._incident_steps import assessment_choices, deadline_sentence, steps
from etanche.web._pages_common import PARIS, field, form_data, now_paris, render
from etanche.web._state import Person
from etanche.web.api._incidents import incidents

router = APIRouter(tags=["pages"])

MAX_NOTE = 2000
_KINDS = {
    "discovered": "Découverte",
    "opened": "Ouverture",
    "scan": "Analyse",
    "note": "Note",
    "measure": "Mesure",
    "assessed": "Évaluation",
    "report": "Notification",
    "notify": "Lettres",
    "described": "Faits",
    "alert": "Alerte",
    "filed": "Dépôt CNIL",
    "planned": "Mesure prévue",
    "closed": "Clôture",
}
_FLASHES = {
    "ouvert": "L'incident est ouvert : le délai de 72 heures court depuis la découverte.",
    "note": "La note a été ajoutée à la chronologie.",
    "mesure": "La mesure a été ajoutée à la chronologie.",
    "evaluee": "La gravité a été réévaluée.",
    "alerte": "L'alerte a été ajoutée à la chronologie, en français.",
    "deposee": "Le dépôt de la notification auprès de la CNIL est enregistré.",
    "close": "L'incident est clos ; sa chronologie est conservée.",
}


def follow_desk(person: Person) -> IncidentService:
    # a session without compartment: the pages read incidents, never patients
    return incidents(person)


def _row(incident: Incident) -> dict[str, object]:
    left = countdown(incident.deadline)
    severity = incident.severity
    if incident.reported_at is not None:
        late = incident.reported_at > incident.deadline
        deadline = f"projet établi le {fr_datetime(incident.reported_at)}" + (
            " (hors délai)" if late else ""
        )
        urgent = False
    else:
        deadline = left.french()
        urgent = incident.is_open
    return {
        "incident": incident,
        "deadline_at": fr_datetime(incident.deadline),
        "deadline": deadline,
        "overdue": left.overdue and incident.reported_at is None,
        "urgent": urgent,
        "level": severity.level,
        "score": f"{severity.score:g}".replace(".", ","),
    }


@router.get("/incidents")
def incidents_page(request: Request, person: Person = Depends(page_person)) -> Response:
    """Every incident, newest first: deadline countdown and ENISA severity level."""
    found = list(reversed(follow_desk(person).list()))
    return render(request, person, "incidents/list.html", {"rows": [_row(i) for i in found]})


def _new_page(
    request: Request, person: Person, values: dict[str, str], errors: dict[str, str], status: int
) -> Response:
    places = [(code, text[0].upper() + text[1:]) for code, text in FOUND_ON.items()]
    context = {"values": values, "errors": errors, "places": places}
    return render(request, person, "incidents/new.html", context, status_code=status)


@router.get("/incidents/new")
def new_incident_page(request: Request, person: Person = Depends(page_person)) -> Response:
    """The form that opens an incident (the same operation as ``etanche incident open``)."""
    follow_desk(person).list()  # asks the policy (incident.manage) before showing the form
    values = {"titre": "", "decouverte": now_paris().strftime("%Y-%m-%dT%H:%M"), "lieu": ""}
    return _new_page(request, person, values | {"contact": ""}, {}, 200)


@router.post("/incidents/new")
def open_incident(
    request: Request, person: Person = Depends(form_person), form: FormData = Depends(form_data)
) -> Response:
    """Open an incident from the page: its 72-hour clock starts at the discovery."""
    values = {name: field(form, name, 200) for name in ("titre", "decouverte", "lieu", "contact")}
    errors: dict[str, str] = {}
    if not values["titre"]:
        errors["titre"] = "Indiquez ce qui a été constaté."
    discovered: datetime | None = None
    try:
        discovered = datetime.fromisoformat(values["decouverte"]).replace(tzinfo=PARIS)
    except ValueError:
        errors["decouverte"] = "Date et heure invalides : jour/mois/année et heure attendus."
    if discovered is not None and discovered > datetime.now(UTC):
        errors["decouverte"] = "La découverte ne peut pas être dans le futur."
    if values["lieu"] and values["lieu"] not in FOUND_ON:
        errors["lieu"] = "Lieu inconnu."
    if errors or discovered is None:
        return _new_page(request, person, values, errors, 422)
    try:
        incident = follow_desk(person).open(
            values["titre"],
            discovered_at=discovered,
            dpo_contact=values["contact"] or None,
            found_on=values["lieu"] or None,
        )
    except (UsageError, ValidationError):
        errors["titre"] = "L'incident n'a pas pu être ouvert : vérifiez les champs."
        return _new_page(request, person, values, errors, 422)
    return RedirectResponse(f"/incidents/{incident.id}?note=ouvert", status_code=303)


@router.get("/incidents/{incident_id}")
def incident_page(
    request: Request, incident_id: str, person: Person = Depends(page_person)
) -> Response:
    """Timeline, severity with its explanation, and the art. 33 draft as it reads now."""
    desk = follow_desk(person)
    incident = desk.get(incident_id[:64])
    return detail(request, person, desk, incident, {}, 200)


@router.post("/incidents/{incident_id}/notes")
def add_note(
    request: Request,
    incident_id: str,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """A timeline entry (a measure taken if ticked): what was found, decided or done."""
    desk = follow_desk(person)
    text = field(form, "note", MAX_NOTE)
    measure = field(form, "mesure", 10) == "oui"
    if not text:
        incident = desk.get(incident_id[:64])
        errors = {"note": "Écrivez ce qui a été constaté, décidé ou fait."}
        return detail(request, person, desk, incident, errors, 422)
    incident = desk.note(incident_id[:64], text, measure=measure)
    flash = "mesure" if measure else "note"
    return RedirectResponse(f"/incidents/{incident.id}?note={flash}", status_code=303)


def detail(
    request: Request,
    person: Person,
    desk: IncidentService,
    incident: Incident,
    errors: dict[str, str],
    status: int,
) -> Response:
    severity = incident.severity
    return render(
        request,
        person,
        "incidents/detail.html",
        {
            **_row(incident),
            "severity": severity,
            "discovered": fr_datetime(incident.discovered_at),
            "factors": (severity.dpc, severity.ei, severity.cb),
            "timeline": [
                (fr_datetime(e.at), _KINDS.get(e.kind, e.kind), e.actor, e.text)
                for e in reversed(incident.timeline)
            ],
            "per_lab": sorted((lab, len(ids)) for lab, ids in incident.matched.items()),
            "draft": desk.notification(incident),
            "errors": errors,
            "note_flash": _FLASHES.get(request.query_params.get("note", "")),
            "max_note": MAX_NOTE,
            "steps": steps(incident),
            "deadline_sentence": deadline_sentence(incident),
            "filed_default": now_paris().strftime("%Y-%m-%dT%H:%M"),
            **assessment_choices(incident),
        },
        status_code=status,
    )
