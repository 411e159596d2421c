"""The clinical part of a record, edited by whoever the policy lets (biologists).

The form is opened through ``PatientService.clinical_form`` and saved through
``update_clinical``: both decide ``clinical.update`` and log a refusal, so a
secretary who types the address gets the French 403 page and a forged form
changes nothing. The reason is required; the replaced part is kept with it.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from etanche.domain import Patient, Sex
from etanche.errors import RecordNotFound, UsageError, ValidationError, ValidationErrors
from etanche.web._auth import form_person, page_person
from etanche.web._clinical_form import BLOOD_GROUPS, clinical_raw, read_clinical
from etanche.web._pages_common import form_data, render
from etanche.web._pages_fr import invalid_fr
from etanche.web._state import Person

router = APIRouter(tags=["pages"])

_PATIENT_ID = re.compile(r"^[0-9a-f]{32}$")
LABELS = {
    "blood_group": ("Groupe sanguin", "f-blood_group"),
    "pregnant": ("Grossesse", "f-pregnant-oui"),
    "treatments": ("Traitements", "f-treatments"),
    "pathologies": ("Pathologies", "f-pathologies"),
    "comments": ("Commentaires", "f-comments"),
    "motif": ("Motif de la modification", "f-motif"),
}


def _checked_id(patient_id: str) -> str:
    if not _PATIENT_ID.match(patient_id):
        raise RecordNotFound("patient: not found")
    return patient_id


def _page(
    request: Request,
    person: Person,
    patient: Patient,
    raw: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        person,
        "clinical_form.html",
        {
            "patient": patient,
            "values": raw,
            "errors": errors,
            "labels": LABELS,
            "groups": [(g, g) for g in BLOOD_GROUPS],
            "show_pregnancy": patient.sex is Sex.FEMALE or raw.get("pregnant") in ("oui", "non"),
        },
        status_code=status_code,
    )


@router.get("/patients/{patient_id}/clinique")
def clinical_page(
    request: Request, patient_id: str, person: Person = Depends(page_person)
) -> Response:
    """The clinical edit form, filled from an audited read (refused to other roles)."""
    patient = person.patients().clinical_form(_checked_id(patient_id))
    return _page(request, person, patient, clinical_raw(patient), {})


@router.post("/patients/{patient_id}/clinique")
def save_clinical(
    request: Request,
    patient_id: str,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """Save the clinical part with its reason; every field error at once, nothing half-saved."""
    service = person.patients()
    patient = service.clinical_form(_checked_id(patient_id))
    read = read_clinical(form, patient)
    if not read.errors:
        try:
            service.update_clinical(patient.id, read.clinical, reason=read.reason)
        except ValidationError as exc:  # the record-level rules of the vault
            read.errors.update(_clinical_errors(exc))
        except UsageError:
            read.errors["motif"] = "Le motif est trop court."
    if read.errors:
        return _page(request, person, patient, read.raw, read.errors, status_code=422)
    return RedirectResponse(f"/patients/{patient.id}?ok=clinique", status_code=303)


def _clinical_errors(exc: ValidationError) -> dict[str, str]:
    """The vault's clinical checks on the form's fields (``clinical.treatments[1].atc``)."""
    items = exc.errors if isinstance(exc, ValidationErrors) else (exc,)
    out: dict[str, str] = {}
    for item in items:
        name = re.split(r"[.\[]", item.field.removeprefix("clinical."))[0]
        out.setdefault(name if name in LABELS else "_form", invalid_fr(item))
    return out
