"""The DPO's rights-request pages: list with deadlines and days left, detail, forms.

Thin over the service's ``RightsRequests``, the same operations the JSON API
(and so the CLI) calls: the service asks the policy, audits each step and
weighs an erasure against the retention rules; the pages check the form in
French and render. Dates are Paris dates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from etanche.domain import DOCUMENTS, KINDS, PARIS
from etanche.errors import UsageError
from etanche.service import RightsRequests, request_detail, request_summary
from etanche.web._auth import form_person, page_person
from etanche.web._pages_common import field, form_data, render
from etanche.web._state import Person

router = APIRouter(tags=["pages"])

MAX_ID = 32
MAX_TEXT = 1000

_FLASHES = {
    "enregistree": "La demande a été enregistrée : réponse due dans un mois.",
    "identite": "La vérification d'identité a été enregistrée.",
    "rattachee": "Le dossier a été rattaché à la demande.",
    "prolongee": "La demande a été prolongée de deux mois.",
    "close": "La demande a été close.",
    "levee": "La limitation du traitement a été levée.",
}

# the service's English refusals of a step, in French
_STEP_ERRORS = {
    "already extended once": "La demande a déjà été prolongée une fois (article 12(3)).",
    "already closed": "La demande est déjà close.",
    "identity already verified": "L'identité du demandeur a déjà été vérifiée.",
    "verify the requester's identity first": (
        "Vérifiez d'abord l'identité du demandeur avant d'accorder la demande."
    ),
    "link the record it is about first": "Rattachez d'abord le dossier concerné.",
    "must be told within the first month": (
        "Le demandeur doit être informé de la prolongation dans le premier mois."
    ),
    "must not be in the future": "La date ne peut pas être dans le futur.",
    "not a granted restriction": "Cette demande n'a pas posé de limitation.",
    "already lifted": "La limitation a déjà été levée.",
}


def _desk(person: Person) -> RightsRequests:
    return person.rights()


def _step_error(exc: UsageError) -> str:
    text = str(exc)
    for needle, french in _STEP_ERRORS.items():
        if needle in text:
            return french
    return "Cette étape n'est pas possible dans l'état de la demande."


def _day(form: FormData, name: str) -> date | None:
    text = field(form, name, 10)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@router.get("/rights-requests")
def requests_page(request: Request, person: Person = Depends(page_person)) -> Response:
    """Every request, the nearest deadline first among the open ones."""
    rows = [request_summary(r) for r in _desk(person).list()]
    rows.sort(key=lambda r: (r["days_left"] is None, r["days_left"] or 0, r["id"]))
    return _list(request, person, rows, {}, {}, 200)


def _list(
    request: Request,
    person: Person,
    rows: list[dict[str, Any]],
    errors: dict[str, str],
    values: dict[str, str],
    status: int,
) -> Response:
    return render(
        request,
        person,
        "rights/list.html",
        {
            "rows": rows,
            "kinds": {k: f"{name} ({article})" for k, (name, article) in KINDS.items()},
            "errors": errors,
            "values": values,
            "today": datetime.now(PARIS).date().isoformat(),
        },
        status_code=status,
    )


@router.post("/rights-requests")
def add_request(
    request: Request,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """Register a request received on a given day (default today)."""
    values = {name: field(form, name, MAX_TEXT) for name in ("type", "contact", "objet", "recue")}
    errors: dict[str, str] = {}
    if values["type"] not in KINDS:
        errors["type"] = "Choisissez le droit exercé."
    if not values["contact"]:
        errors["contact"] = "Indiquez où adresser la réponse (adresse postale ou électronique)."
    received = _day(form, "recue")
    now = datetime.now(UTC)
    if values["recue"] and received is None:
        errors["recue"] = "Indiquez une date de réception valide."
    elif received is not None and received > now.astimezone(PARIS).date():
        errors["recue"] = "La date de réception ne peut pas être dans le futur."
    if errors:
        rows = [request_summary(r) for r in _desk(person).list()]
        return _list(request, person, rows, errors, values, 422)
    moment = None
    if received is not None:
        noon = datetime.combine(received, time(12, 0), tzinfo=PARIS)
        moment = min(noon.astimezone(UTC), now)
    stored = _desk(person).add(
        values["type"], contact=values["contact"], received_at=moment, note=values["objet"] or None
    )
    return RedirectResponse(f"/rights-requests/{stored.id}?fait=enregistree", status_code=303)


@router.get("/rights-requests/{request_id}")
def request_page(
    request: Request, request_id: str, person: Person = Depends(page_person)
) -> Response:
    desk = _desk(person)
    stored = desk.get(request_id[:MAX_ID])
    flash = _FLASHES.get(request.query_params.get("fait", ""))
    return _detail(request, person, desk, request_detail(stored), {}, None, flash, 200)


def _detail(
    request: Request,
    person: Person,
    desk: RightsRequests,
    detail: dict[str, Any],
    errors: dict[str, str],
    matches: list[dict[str, str]] | None,
    flash: str | None,
    status: int,
) -> Response:
    restricted = bool(detail["record"]) and desk.restricted(detail["record"])
    return render(
        request,
        person,
        "rights/detail.html",
        {
            "r": detail,
            "documents": DOCUMENTS,
            "errors": errors,
            "matches": matches,
            "note_flash": flash,
            "restricted": restricted,
            "today": datetime.now(PARIS).date().isoformat(),
        },
        status_code=status,
    )


def _step(
    request: Request, person: Person, request_id: str, work: Any, flash: str, key: str
) -> Response:
    """Run one step; a refusal of the service is shown in French on the detail page."""
    desk = _desk(person)
    try:
        stored = work(desk, request_id[:MAX_ID])
    except UsageError as exc:
        detail = request_detail(desk.get(request_id[:MAX_ID]))
        return _detail(request, person, desk, detail, {key: _step_error(exc)}, None, None, 422)
    return RedirectResponse(f"/rights-requests/{stored.id}?fait={flash}", status_code=303)


def _invalid(request: Request, person: Person, request_id: str, errors: dict[str, str]) -> Response:
    desk = _desk(person)
    detail = request_detail(desk.get(request_id[:MAX_ID]))
    return _detail(request, person, desk, detail, errors, None, None, 422)


@router.post("/rights-requests/{request_id}/identite")
def verify_identity(
    request: Request,
    request_id: str,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    document = field(form, "piece", 32)
    if document not in DOCUMENTS:
        return _invalid(request, person, request_id, {"piece": "Choisissez la pièce présentée."})
    return _step(
        request,
        person,
        request_id,
        lambda desk, rid: desk.verify_identity(rid, document),
        "identite",
        "piece",
    )


@router.post("/rights-requests/{request_id}/recherche")
def lookup(
    request: Request,
    request_id: str,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """The requester's records across the network (lab and record id), to link one."""
    birth_name, first_name = field(form, "nom", 200), field(form, "prenom", 200)
    birth_date, nir = _day(form, "naissance"), field(form, "nir", 32) or None
    errors: dict[str, str] = {}
    if not birth_name:
        errors["nom"] = "Indiquez le nom de naissance."
    if not first_name:
        errors["prenom"] = "Indiquez le prénom."
    if birth_date is None:
        errors["naissance"] = "Indiquez la date de naissance."
    if errors or birth_date is None:
        return _invalid(request, person, request_id, errors)
    desk = _desk(person)
    found = desk.lookup(birth_name, first_name, birth_date, nir)
    matches = [{"lab": m.lab_id, "record": m.patient_id, "by": m.matched_by} for m in found]
    detail = request_detail(desk.get(request_id[:MAX_ID]))
    return _detail(request, person, desk, detail, {}, matches, None, 200)


@router.post("/rights-requests/{request_id}/dossier")
def link(
    request: Request,
    request_id: str,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    record = field(form, "dossier", 64)
    return _step(
        request,
        person,
        request_id,
        lambda desk, rid: desk.link(rid, record),
        "rattachee",
        "dossier",
    )


@router.post("/rights-requests/{request_id}/prolongation")
def extend(
    request: Request,
    request_id: str,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    reason = field(form, "motif", MAX_TEXT)
    told = _day(form, "informe")
    errors: dict[str, str] = {}
    if not reason:
        errors["motif"] = "Indiquez pourquoi deux mois de plus sont nécessaires."
    if told is None:
        errors["informe"] = "Indiquez la date à laquelle le demandeur a été informé."
    if errors:
        return _invalid(request, person, request_id, errors)
    return _step(
        request,
        person,
        request_id,
        lambda desk, rid: desk.extend(rid, reason, told_on=told),
        "prolongee",
        "motif",
    )


@router.post("/rights-requests/{request_id}/cloture")
def close(
    request: Request,
    request_id: str,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    outcome = field(form, "reponse", 16)
    reason = field(form, "motif_reponse", MAX_TEXT) or None
    errors: dict[str, str] = {}
    if outcome not in ("granted", "refused"):
        errors["reponse"] = "Choisissez la réponse : accordée ou refusée."
    elif outcome == "refused" and not reason:
        errors["motif_reponse"] = "Un refus doit être motivé (article 12(4))."
    if errors:
        return _invalid(request, person, request_id, errors)
    return _step(
        request,
        person,
        request_id,
        lambda desk, rid: desk.close(rid, outcome, reason),
        "close",
        "reponse",
    )


@router.post("/rights-requests/{request_id}/levee")
def lift(
    request: Request,
    request_id: str,
    person: Person = Depends(form_person),
) -> Response:
    return _step(request, person, request_id, lambda desk, rid: desk.lift(rid), "levee", "levee")
