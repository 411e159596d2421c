"""Observation: the patient's ABO/RhD blood group (LOINC 882-1), from the clinical compartment.

Only roles whose sessions may hold the clinical key get one: a reception
account is refused before anything is read, and the refusal is audited like
the service's own denials. Its logical id is derived from the patient's
random id: ``blood-group-<id>``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fhir.resources.R4B.observation import Observation

from etanche.domain import Patient
from etanche.errors import PermissionDenied, RecordNotFound
from etanche.service import PatientService
from etanche.web._auth import api_person
from etanche.web._state import Person
from etanche.web.fhir._common import (
    LOINC,
    SNOMED,
    checked,
    only_params,
    patient_id_param,
    searchset,
    token,
    valid_id,
)
from etanche.web.fhir._outcome import FhirResponse, FhirRoute, SearchError
from etanche.web.fhir._request import ERRORS

router = APIRouter(route_class=FhirRoute)

SEARCH_PARAMS = ("patient", "subject", "code")
PREFIX = "blood-group-"
BLOOD_GROUP_LOINC = "882-1"
BLOOD_GROUP_DISPLAY = "ABO and Rh group [Type] in Blood"

# ABO + RhD → SNOMED CT "Blood group X Rh(D) positive/negative".
BLOOD_GROUPS: dict[str, str] = {
    "A+": "278149003",
    "A-": "278152006",
    "B+": "278150003",
    "B-": "278153001",
    "AB+": "278151004",
    "AB-": "278154007",
    "O+": "278147001",
    "O-": "278148006",
}


def blood_group_observation(patient: Patient) -> dict[str, Any] | None:
    """The blood-group Observation of a patient read with the clinical key, if known."""
    group = patient.clinical.blood_group
    if group is None:
        return None
    text = str(group)
    sign = "positive" if group.rh == "+" else "negative"
    value: dict[str, Any] = {"text": text}
    if text in BLOOD_GROUPS:
        value["coding"] = [
            {
                "system": SNOMED,
                "code": BLOOD_GROUPS[text],
                "display": f"Blood group {group.abo} Rh(D) {sign}",
            }
        ]
    doc = {
        "resourceType": "Observation",
        "id": f"{PREFIX}{patient.id}",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                        "display": "Laboratory",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {"system": LOINC, "code": BLOOD_GROUP_LOINC, "display": BLOOD_GROUP_DISPLAY}
            ],
            "text": "Groupe sanguin ABO RhD",
        },
        "subject": {"reference": f"Patient/{patient.id}"},
        "valueCodeableConcept": value,
    }
    return checked(Observation, doc)


def _clinical_service(person: Person, patient_id: str | None) -> PatientService:
    """A service for clinical reads, or a refusal (audited) for roles without the key."""
    return person.state.door.clinical_patients(
        person.actor, patient_id, resource="Observation", client=person.client
    )


def _wants_blood_group(code: str | None) -> bool:
    if code is None:
        return True
    system, value = token(code)
    return system in (None, LOINC) and value == BLOOD_GROUP_LOINC


@router.get(
    "/Observation",
    response_class=FhirResponse,
    summary="Search a patient's observations (blood group)",
    responses=ERRORS,
)
def search_observations(
    request: Request,
    patient: str | None = Query(None, description="Patient/<id> or <id>"),
    subject: str | None = Query(None, description="Patient/<id> (same as patient)"),
    code: str | None = Query(None, description=f"`{LOINC}|{BLOOD_GROUP_LOINC}` (the only one)"),
    person: Person = Depends(api_person),
) -> Response:
    only_params(request, SEARCH_PARAMS)
    given = patient if patient is not None else subject
    if given is None:
        raise SearchError(
            "patient", "required (observations are listed per patient)", code="required"
        )
    patient_id = patient_id_param(given, "patient" if patient is not None else "subject")
    ident = patient_id if valid_id(patient_id) else None
    service = _clinical_service(person, ident)
    found: list[dict[str, Any]] = []
    if ident is not None and _wants_blood_group(code):
        try:
            observation = blood_group_observation(service.get(ident))
        except (PermissionDenied, RecordNotFound):
            observation = None  # outside the person's labs, or no such patient: simply absent
        if observation is not None:
            found.append(observation)
    return FhirResponse(searchset(request, found))


@router.get(
    "/Observation/{observation_id}",
    response_class=FhirResponse,
    summary="Read an observation (blood-group-<patient id>)",
    responses=ERRORS,
)
def read_observation(observation_id: str, person: Person = Depends(api_person)) -> Response:
    patient_id = observation_id.removeprefix(PREFIX)
    known = observation_id.startswith(PREFIX) and valid_id(observation_id) and patient_id
    service = _clinical_service(person, patient_id if known else None)
    if not known:
        raise RecordNotFound("Observation: no resource with this id")
    observation = blood_group_observation(service.get(patient_id))
    if observation is None:
        raise RecordNotFound("Observation: no blood group recorded for this patient")
    return FhirResponse(observation)
