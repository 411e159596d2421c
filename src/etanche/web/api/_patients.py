"""Patients over JSON: search, the masked or revealed record, erasure."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from etanche.domain import parse_birth, parse_french_date, search_prefix
from etanche.errors import UsageError
from etanche.service import LinkTraits, patient_detail, patient_summary
from etanche.web._auth import api_person
from etanche.web._state import Person

router = APIRouter(tags=["patients"])

REVEAL_PURPOSE = "reveal requested by the client"


class Search(BaseModel):
    """Exactly one key: identifiers travel in the body, never in the URL.

    Dates are read as a French person types them (12/12/1959, 12121959, ISO);
    ``prefix`` (3 letters or more of the birth name) goes with ``born`` (a year,
    month/year or a date) and searches the caller's labs only; ``sound`` matches
    the whole birth name by its French pronunciation instead.
    """

    nir: str | None = Field(default=None, max_length=32)
    birth_name: str | None = Field(default=None, max_length=200)
    first_name: str | None = Field(default=None, max_length=200)
    birth_date: str | None = Field(default=None, max_length=20)
    prefix: str | None = Field(default=None, max_length=200)
    born: str | None = Field(default=None, max_length=20)
    sound: bool = False
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    reveal: bool = False


class Link(BaseModel):
    """The lab of the new record, and the NIR or INS traits of the person known elsewhere."""

    lab_id: str = Field(max_length=16)
    nir: str | None = Field(default=None, max_length=32)
    birth_name: str | None = Field(default=None, max_length=200)
    first_name: str | None = Field(default=None, max_length=200)
    birth_date: str | None = Field(default=None, max_length=20)


@router.post("/patients/search")
def search(body: Search, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Patients matching one key (masked unless ``reveal``, which is audited as such)."""
    service = person.patients(REVEAL_PURPOSE if body.reveal else None)
    by_name = body.birth_name or body.first_name or body.birth_date
    by_prefix = body.prefix or body.born
    given = [x for x in (body.nir, by_name, by_prefix, body.phone, body.email) if x]
    if len(given) != 1:
        raise UsageError(
            "search: give exactly one of nir, name + first name + birth date, "
            "prefix + born, phone, email"
        )
    if by_prefix:
        if not (body.prefix and body.born):
            raise UsageError("search: a prefix needs a birth year or date (born)")
        born = parse_birth(body.born, "born")
        if body.sound:
            found = service.find_by_sound(body.prefix, born)
        else:
            found = service.find_by_prefix(search_prefix(body.prefix, "prefix"), born)
    elif body.nir:
        found = service.find_by_nir(body.nir)
    elif body.phone:
        found = service.find_by_phone(body.phone)
    elif body.email:
        found = service.find_by_email(body.email)
    else:
        if not (body.birth_name and body.first_name and body.birth_date):
            raise UsageError("search: a name needs a first name and a birth date")
        found = service.find_by_name(
            body.birth_name, body.first_name, parse_french_date(body.birth_date, "birth_date")
        )
    rows = [patient_summary(p, reveal=body.reveal) for p in found]
    return {"count": len(rows), "patients": rows}


@router.post("/patients/link")
def link(body: Link, person: Person = Depends(api_person)) -> dict[str, Any]:
    """A record of the caller's lab bound to the network identity of a patient known elsewhere.

    Only identity traits are copied; the link is audited in both labs.
    """
    traits = None
    if not body.nir:
        if not (body.birth_name and body.first_name and body.birth_date):
            raise UsageError("link: give the NIR, or birth name, first name and birth date")
        traits = LinkTraits(
            body.birth_name, body.first_name, parse_french_date(body.birth_date, "birth_date")
        )
    patient = person.patients().link(body.lab_id, nir=body.nir, traits=traits)
    return {"id": patient.id, "lab": patient.lab_id, "linked": True}


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
