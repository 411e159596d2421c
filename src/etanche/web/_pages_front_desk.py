"""The front desk's cross-lab pages: link a patient known elsewhere, break the glass.

Both act through the service: ``PatientService.link`` copies identity traits
only and audits the link in both labs; ``People.break_glass`` widens the
session for a stated reason and a limited time, and the alert rules fire on it.
The page only collects the form and shows the answer in French.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from etanche.domain import parse_french_date
from etanche.errors import RecordNotFound, UsageError, ValidationError
from etanche.service import LinkTraits
from etanche.web._auth import form_person, page_person
from etanche.web._pages_common import form_data, person_labs, render
from etanche.web._pages_forms import raw_values
from etanche.web._pages_patients import BAD_DATE, lab_options
from etanche.web._state import Person

router = APIRouter(tags=["pages"])

BREAK_GLASS_MINUTES = (15, 30, 60, 120)
_LINK_FIELDS = ("nir", "birth_name", "first_name", "birth_date", "lab_id")


@router.post("/patients/link")
def link_patient(
    request: Request,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """Create this lab's record of a patient known elsewhere, bound to one network identity."""
    raw = raw_values(form, _LINK_FIELDS)
    notice = None
    try:
        traits = None
        if not raw["nir"]:
            birth = parse_french_date(raw["birth_date"])
            traits = LinkTraits(raw["birth_name"], raw["first_name"].split()[0], birth)
        patient = person.patients().link(raw["lab_id"], nir=raw["nir"] or None, traits=traits)
    except (ValidationError, IndexError):
        notice = BAD_DATE
    except RecordNotFound:
        notice = "Aucun dossier de cette identité dans un autre laboratoire du réseau."
    except UsageError:
        notice = (
            "Votre laboratoire a déjà un dossier de cette personne : ouvrez-le plutôt "
            "(recherche par NIR ou identité)."
        )
    else:
        return RedirectResponse(f"/patients/{patient.id}?ok=rattache", status_code=303)
    return render(
        request,
        person,
        "search.html",
        {
            "mode": "nir",
            "values": {},
            "errors": {},
            "notice": notice,
            "lab_options": lab_options(person),
        },
        status_code=409,
    )


@router.get("/break-glass")
def break_glass_page(request: Request, person: Person = Depends(page_person)) -> Response:
    """The emergency access form: a reason and a time limit, both recorded."""
    return _break_glass_form(request, person, {"minutes": "30"}, {})


@router.post("/break-glass")
def break_glass(
    request: Request,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """Widen this session outside one's labs (search and read only): audited and alerted."""
    raw = raw_values(form, ("reason", "minutes"))
    minutes = int(raw["minutes"]) if raw["minutes"] in {str(m) for m in BREAK_GLASS_MINUTES} else 0
    if not minutes:
        return _break_glass_form(request, person, raw, {"minutes": "Choisissez une durée."}, 422)
    try:
        person.people().break_glass(person.actor, person.token, raw["reason"], minutes)
    except ValidationError:
        message = (
            "Expliquez en une phrase (15 caractères au moins) pourquoi l'accès est nécessaire."
        )
        return _break_glass_form(request, person, raw, {"reason": message}, 422)
    return RedirectResponse("/patients?ok=bris", status_code=303)


def _break_glass_form(
    request: Request,
    person: Person,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        person,
        "break_glass.html",
        {
            "values": values,
            "errors": errors,
            "durations": BREAK_GLASS_MINUTES,
            "labs": person_labs(person.state, person.actor),
        },
        status_code=status_code,
    )
