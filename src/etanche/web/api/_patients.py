"""Patients over JSON: search, the masked or revealed record, erasure."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from etanche.errors import UsageError
from etanche.service import patient_detail, patient_summary
from etanche.web._auth import api_person
from etanche.web._state import Person

router = APIRouter(tags=["patients"])

REVEAL_PURPOSE = "reveal requested by the client"


class Search(BaseModel):
    """Exactly one key: identifiers travel in the body, never in the URL."""

    nir: str | None = Field(default=None, max_length=32)
    birth_name: str | None = Field(default=None, max_length=200)
    first_name: str | None = Field(default=None, max_length=200)
    birth_date: date | None = None
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    reveal: bool = False


@router.post("/patients/search")
def search(body: Search, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Patients matching one key (masked unless ``reveal``, which is audited as such)."""
    service = person.patients(REVEAL_PURPOSE if body.reveal else None)
    by_name = body.birth_name or body.first_name or body.birth_date
    given = [x for x in (body.nir, by_name, body.phone, body.email) if x]
    if len(given) != 1:
        raise UsageError(
            "search: give exactly one of nir, name + first name + birth date, phone, email"
        )
    if body.nir:
        found = service.find_by_nir(body.nir)
    elif body.phone:
        found = service.find_by_phone(body.phone)
    elif body.email:
        found = service.find_by_email(body.email)
    else:
        if not (body.birth_name and body.first_name and body.birth_date):
            raise UsageError("search: a name needs a first name and a birth date")
        found = service.find_by_name(body.birth_name, body.first_name, body.birth_date)
    rows = [patient_summary(p, reveal=body.reveal) for p in found]
    return {"count": len(rows), "patients": rows}


@router.get("/patients/{patient_id}")
def show(
    patient_id: str,
    reveal: bool = False,
    clinical: bool = True,
    person: Person = Depends(api_person),
) -> dict[str, Any]:
    """One patient: the compartments the policy grants, masked unless ``reveal``."""
    service = person.patients(REVEAL_PURPOSE if reveal else None)
    if not clinical:
        service.without_clinical()
    patient = service.get(patient_id)
    specimens = service.specimens_of(patient_id)
    return patient_detail(patient, specimens, reveal=reveal, clinical_open=service.holds_clinical())


@router.post("/patients/{patient_id}/erase")
def erase(patient_id: str, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Crypto-shred one patient: keys, data, indexes and specimens are destroyed."""
    person.patients().erase(patient_id)
    return {"id": patient_id, "erased": True}
