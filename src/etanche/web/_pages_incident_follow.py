"""The DPO follows an incident from its page: assessment, an alert cited, the CNIL draft,
the filing, closing with a conclusion.

The same ``IncidentService`` operations as ``etanche incident assess | report |
filed | close``: the service asks the policy (``incident.manage``) and audits
each step; these routes read the form, name a wrong field in French and render.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from etanche.errors import RecordNotFound, UsageError
from etanche.web._auth import form_person
from etanche.web._incident_steps import CRITERIA, FLAGS
from etanche.web._pages_common import PARIS, field, form_data
from etanche.web._pages_incidents import MAX_NOTE, detail, follow_desk
from etanche.web._state import Person

router = APIRouter(tags=["pages"])

MAX_REFERENCE = 200
MAX_REASON = 2000


def _done(incident_id: str, flash: str) -> Response:
    return RedirectResponse(f"/incidents/{incident_id}?note={flash}", status_code=303)


def _refused(
    request: Request, person: Person, incident_id: str, errors: dict[str, str]
) -> Response:
    desk = follow_desk(person)
    return detail(request, person, desk, desk.get(incident_id), errors, 422)


@router.post("/incidents/{incident_id}/evaluer")
def assess(
    request: Request,
    incident_id: str,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """The circumstances of the breach, one per criterion; the ENISA severity follows."""
    known = {name: tokens for name, _, tokens in CRITERIA}
    tokens = [field(form, name, 32) for name in known]
    if any(t and t not in known[name] for name, t in zip(known, tokens, strict=True)):
        return _refused(request, person, incident_id[:64], {"evaluation": "Choix inconnu."})
    flags = [str(v) for v in form.getlist("indice") if str(v) in FLAGS]
    incident = follow_desk(person).assess(incident_id[:64], [t for t in tokens if t] + flags)
    return _done(incident.id, "evaluee")


@router.post("/incidents/{incident_id}/alerte")
def cite_alert(
    request: Request,
    incident_id: str,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """An alert of the supervision on the timeline (and so in the draft), in French."""
    alert_id = field(form, "alerte", 64)
    if not alert_id:
        errors = {"alerte": "Indiquez la référence de l'alerte (page Alertes)."}
        return _refused(request, person, incident_id[:64], errors)
    try:
        incident = follow_desk(person).cite_alert(incident_id[:64], alert_id)
    except RecordNotFound:
        follow_desk(person).get(incident_id[:64])  # an unknown incident stays a 404
        return _refused(request, person, incident_id[:64], {"alerte": "Alerte introuvable."})
    return _done(incident.id, "alerte")


@router.post("/incidents/{incident_id}/notification")
def draft(
    request: Request,
    incident_id: str,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """The art. 33 draft as a PDF to file with the CNIL (recorded as drafted)."""
    reason = field(form, "retard", MAX_REASON) or None
    notification = follow_desk(person).draft(incident_id[:64], delay_reason=reason)
    name = f"notification-cnil-{notification.incident_id}.pdf"
    return Response(
        notification.to_pdf(),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/incidents/{incident_id}/depot")
def filed(
    request: Request,
    incident_id: str,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """A notification filed with the CNIL: when (Paris time, default now) and its reference."""
    typed = field(form, "depot", 40)
    reference = field(form, "reference", MAX_REFERENCE) or None
    moment: datetime | None = None
    if typed:
        try:
            moment = datetime.fromisoformat(typed).replace(tzinfo=PARIS)
        except ValueError:
            errors = {"depot": "Date et heure invalides : jour/mois/année et heure attendus."}
            return _refused(request, person, incident_id[:64], errors)
        if moment > datetime.now(UTC):
            errors = {"depot": "Le dépôt ne peut pas être dans le futur."}
            return _refused(request, person, incident_id[:64], errors)
    try:
        incident = follow_desk(person).filed(incident_id[:64], moment, reference=reference)
    except UsageError:
        errors = {"depot": "Le dépôt ne peut pas précéder la découverte de la violation."}
        return _refused(request, person, incident_id[:64], errors)
    return _done(incident.id, "deposee")


@router.post("/incidents/{incident_id}/cloture")
def close(
    request: Request,
    incident_id: str,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """Close the incident with the DPO's conclusion (its record and timeline are kept)."""
    conclusion = field(form, "conclusion", MAX_NOTE)
    if not conclusion:
        errors = {"conclusion": "Écrivez la conclusion de l'incident avant de le clore."}
        return _refused(request, person, incident_id[:64], errors)
    try:
        incident = follow_desk(person).close(incident_id[:64], conclusion=conclusion)
    except UsageError:
        errors = {"conclusion": "L'incident est déjà clos."}
        return _refused(request, person, incident_id[:64], errors)
    return _done(incident.id, "close")
