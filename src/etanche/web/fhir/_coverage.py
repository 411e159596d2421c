"""Coverage: the patient's compulsory (AMO) and complementary (AMC) health insurance.

Insurance is part of the patient's admin compartment, so a Coverage is read
with the same decision and audit event as its Patient (``patient.read``). Its
logical id is derived from the patient's random id: ``amo-<id>``, ``amc-<id>``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fhir.resources.R4B.coverage import Coverage

from etanche.domain import Patient
from etanche.errors import PermissionDenied, RecordNotFound
from etanche.web._auth import api_person
from etanche.web._state import Person
from etanche.web.fhir._common import (
    AMO_SYSTEM,
    checked,
    only_params,
    patient_id_param,
    searchset,
    valid_id,
)
from etanche.web.fhir._outcome import FhirResponse, FhirRoute, SearchError
from etanche.web.fhir._request import ERRORS

router = APIRouter(route_class=FhirRoute)

SEARCH_PARAMS = ("beneficiary", "patient")
_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def coverages(patient: Patient) -> list[dict[str, Any]]:
    """The AMO and AMC Coverages of a patient (none without insurance)."""
    insurance = patient.insurance
    if insurance is None:
        return []
    beneficiary = {"reference": f"Patient/{patient.id}"}
    organisme = f"{insurance.amo_regime}{insurance.amo_caisse}"
    amo: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": f"amo-{patient.id}",
        "status": "active",
        "type": {
            "coding": [{"system": _ACT_CODE, "code": "PUBLICPOL", "display": "public healthcare"}],
            "text": "AMO (assurance maladie obligatoire)",
        },
        "beneficiary": beneficiary,
        "payor": [
            {
                "identifier": {"system": AMO_SYSTEM, "value": organisme},
                "display": f"AMO régime {insurance.amo_regime}, caisse {insurance.amo_caisse}",
            }
        ],
        "class": [
            {
                "type": {"coding": [{"system": _CLASS, "code": "group"}]},
                "value": insurance.amo_regime,
                "name": "régime",
            },
            {
                "type": {"coding": [{"system": _CLASS, "code": "subgroup"}]},
                "value": insurance.amo_caisse,
                "name": "caisse",
            },
        ],
    }
    if patient.nir:
        amo["subscriberId"] = patient.nir
    found = [checked(Coverage, amo)]
    if insurance.amc_name:
        amc: dict[str, Any] = {
            "resourceType": "Coverage",
            "id": f"amc-{patient.id}",
            "status": "active",
            "type": {"text": "AMC (assurance maladie complémentaire, mutuelle)"},
            "beneficiary": beneficiary,
            "payor": [{"display": insurance.amc_name}],
            "class": [
                {
                    "type": {"coding": [{"system": _CLASS, "code": "plan"}]},
                    "value": insurance.amc_name,
                }
            ],
        }
        if insurance.amc_member_number:
            amc["subscriberId"] = insurance.amc_member_number
        found.append(checked(Coverage, amc))
    return found


def _patient_of(coverage_id: str) -> str:
    kind, _, patient_id = coverage_id.partition("-")
    if kind not in ("amo", "amc") or not valid_id(coverage_id) or not patient_id:
        raise RecordNotFound("Coverage: no resource with this id")
    return patient_id


@router.get(
    "/Coverage",
    response_class=FhirResponse,
    summary="Search a patient's coverages (AMO, AMC)",
    responses=ERRORS,
)
def search_coverages(
    request: Request,
    beneficiary: str | None = Query(None, description="Patient/<id> or <id>"),
    patient: str | None = Query(None, description="Patient/<id> or <id> (same as beneficiary)"),
    person: Person = Depends(api_person),
) -> Response:
    only_params(request, SEARCH_PARAMS)
    given = beneficiary if beneficiary is not None else patient
    if given is None:
        raise SearchError(
            "beneficiary", "required (the patient whose coverages to list)", code="required"
        )
    patient_id = patient_id_param(given, "beneficiary" if beneficiary is not None else "patient")
    found: list[dict[str, Any]] = []
    if valid_id(patient_id):
        service = person.patients()
        service.without_clinical()
        try:
            found = coverages(service.get(patient_id))
        except (PermissionDenied, RecordNotFound):
            found = []  # outside the person's labs, or no such patient: simply absent
    return FhirResponse(searchset(request, found))


@router.get(
    "/Coverage/{coverage_id}",
    response_class=FhirResponse,
    summary="Read a coverage (amo-<patient id> or amc-<patient id>)",
    responses=ERRORS,
)
def read_coverage(coverage_id: str, person: Person = Depends(api_person)) -> Response:
    patient_id = _patient_of(coverage_id)
    service = person.patients()
    service.without_clinical()
    for coverage in coverages(service.get(patient_id)):
        if coverage["id"] == coverage_id:
            return FhirResponse(coverage)
    raise RecordNotFound("Coverage: no resource with this id")
