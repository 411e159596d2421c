"""Specimen: what a lab collected for a patient, with its prescriber.

Search by patient and create, through ``PatientService`` (decided and audited
as ``specimen.list`` and ``specimen.create``). The prescriber travels as a
contained ServiceRequest (the order) whose requester is a contained
Practitioner. Reading a specimen by its id alone is not offered: the service
lists specimens per patient, and finding a specimen's patient would mean
reading the vault around the policy (docs/fhir.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fhir.resources.R4B.specimen import Specimen as FhirSpecimen

from etanche.domain import Physician, Specimen, validate_specimen
from etanche.errors import PermissionDenied, RecordNotFound, ValidationError, ValidationErrors
from etanche.service import new_record_id
from etanche.web._auth import api_person
from etanche.web._state import Person
from etanche.web.fhir._common import (
    ACCESSION_SYSTEM,
    LAB_EXTENSION_URL,
    SNOMED,
    aware_time,
    base_url,
    checked,
    fhir_datetime,
    lab_for,
    only_params,
    organization_lab,
    parse_resource,
    patient_id_param,
    raise_problems,
    searchset,
    translate,
    valid_id,
)
from etanche.web.fhir._outcome import FhirResponse, FhirRoute, SearchError
from etanche.web.fhir._practitioner import physician_from, practitioner
from etanche.web.fhir._request import ERRORS, body_of, fhir_body

router = APIRouter(route_class=FhirRoute)

SEARCH_PARAMS = ("patient", "subject")

# Specimen types of the network (French labels, as stored) ↔ SNOMED CT specimen concepts.
SPECIMEN_TYPES: dict[str, tuple[str, str]] = {
    "sang veineux": ("122555007", "Venous blood specimen"),
    "sang capillaire": ("122554006", "Capillary blood specimen"),
    "urine": ("122575003", "Urine specimen"),
    "écouvillon nasopharyngé": ("258500001", "Nasopharyngeal swab"),
}
_BY_CODE = {code: label for label, (code, _) in SPECIMEN_TYPES.items()}
_ACCEPTED = frozenset(
    {
        "resourceType",
        "id",
        "meta",
        "text",
        "language",
        "extension",
        "contained",
        "accessionIdentifier",
        "status",
        "type",
        "subject",
        "collection",
        "request",
    }
)


# -- domain → FHIR ----------------------------------------------------------------
def specimen_resource(specimen: Specimen) -> dict[str, Any]:
    """The FHIR Specimen of a domain specimen, validated by fhir.resources."""
    kind: dict[str, Any] = {"text": specimen.specimen_type}
    known = SPECIMEN_TYPES.get(specimen.specimen_type)
    if known is not None:
        kind["coding"] = [{"system": SNOMED, "code": known[0], "display": known[1]}]
    subject = {"reference": f"Patient/{specimen.patient_id}"}
    doc: dict[str, Any] = {
        "resourceType": "Specimen",
        "id": specimen.id,
        "extension": [
            {
                "url": LAB_EXTENSION_URL,
                "valueReference": {"reference": f"Organization/{specimen.lab_id}"},
            }
        ],
        "accessionIdentifier": {"system": ACCESSION_SYSTEM, "value": specimen.accession},
        "status": "available",
        "type": kind,
        "subject": subject,
        "collection": {"collectedDateTime": fhir_datetime(specimen.collected_at)},
    }
    if specimen.prescriber is not None:
        doc["contained"] = [
            {
                "resourceType": "ServiceRequest",
                "id": "order",
                "status": "active",
                "intent": "order",
                "subject": subject,
                "requester": {"reference": "#prescriber"},
            },
            practitioner(specimen.prescriber, "prescriber"),
        ]
        doc["request"] = [{"reference": "#order"}]
    return checked(FhirSpecimen, doc)


# -- FHIR → domain ----------------------------------------------------------------
def specimen_from(doc: dict[str, Any], person: Person) -> tuple[Specimen, dict[str, str]]:
    """A new domain specimen from a parsed FHIR Specimen, and where each field came from."""
    problems: list[ValidationError] = []
    paths: dict[str, str] = {
        "accession": "Specimen.accessionIdentifier.value",
        "collected_at": "Specimen.collection.collectedDateTime",
        "specimen_type": "Specimen.type",
        "patient_id": "Specimen.subject",
        "lab_id": "Specimen.extension",
    }
    for element in doc:
        if element not in _ACCEPTED:
            problems.append(ValidationError(f"Specimen.{element}", "element not supported here"))
    named: str | None = None
    for i, ext in enumerate(doc.get("extension", [])):
        where = f"Specimen.extension[{i}]"
        if ext.get("url") == LAB_EXTENSION_URL:
            named = organization_lab(ext.get("valueReference"), f"{where}.valueReference", problems)
            paths["lab_id"] = where
        else:
            problems.append(ValidationError(f"{where}.url", "extension not supported"))
    lab = lab_for(person.actor, named, "Specimen.extension", problems)

    patient_id = ""
    reference = str(doc.get("subject", {}).get("reference", ""))
    kind, _, ident = reference.partition("/")
    if kind != "Patient" or not valid_id(ident):
        problems.append(ValidationError("Specimen.subject", "required: a reference Patient/<id>"))
    else:
        patient_id = ident
    accession = str(doc.get("accessionIdentifier", {}).get("value", "")).strip()
    if not accession:
        problems.append(ValidationError("Specimen.accessionIdentifier.value", "required"))
    specimen_type = _specimen_type(doc.get("type"), problems)
    collected: datetime | None = None
    moment = doc.get("collection", {}).get("collectedDateTime")
    if moment is None:
        problems.append(ValidationError("Specimen.collection.collectedDateTime", "required"))
    else:
        collected = aware_time(str(moment), "Specimen.collection.collectedDateTime", problems)
    prescriber = _prescriber(doc, problems, paths)
    raise_problems(problems)
    assert collected is not None  # problems were raised otherwise
    specimen = Specimen(
        id=new_record_id(),
        patient_id=patient_id,
        lab_id=lab,
        accession=accession,
        collected_at=collected,
        specimen_type=specimen_type,
        prescriber=prescriber,
    )
    return specimen, paths


def _specimen_type(kind: Any, problems: list[ValidationError]) -> str:
    if not isinstance(kind, dict):
        problems.append(ValidationError("Specimen.type", "required"))
        return ""
    for coding in kind.get("coding", []):
        if coding.get("system") == SNOMED and coding.get("code") in _BY_CODE:
            return _BY_CODE[str(coding["code"])]
    text = str(kind.get("text", "")).strip()
    if not text:
        problems.append(
            ValidationError("Specimen.type", "a known SNOMED CT code or a text is required")
        )
    return text


def _prescriber(
    doc: dict[str, Any], problems: list[ValidationError], paths: dict[str, str]
) -> Physician | None:
    contained = {str(r.get("id")): r for r in doc.get("contained", []) if r.get("id")}
    requests = doc.get("request", [])
    used: set[str] = set()
    prescriber: Physician | None = None
    if len(requests) > 1:
        problems.append(ValidationError("Specimen.request", "one order at most"))
    elif requests:
        ref = str(requests[0].get("reference", ""))
        order = contained.get(ref[1:]) if ref.startswith("#") else None
        if order is None or order.get("resourceType") != "ServiceRequest":
            problems.append(
                ValidationError("Specimen.request[0]", "must reference a contained ServiceRequest")
            )
        else:
            used.add(ref[1:])
            requester = order.get("requester")
            if isinstance(requester, dict):
                where = "Specimen.request[0].resolve().requester"
                prescriber, rpps_path = physician_from(requester, contained, where, problems, used)
                paths["prescriber.rpps"] = rpps_path
                paths["prescriber"] = where
    for local in sorted(set(contained) - used):
        problems.append(ValidationError("Specimen.contained", f"#{local} is not referenced"))
    return prescriber


# -- routes -----------------------------------------------------------------------
@router.get(
    "/Specimen",
    response_class=FhirResponse,
    summary="Search a patient's specimens",
    responses=ERRORS,
)
def search_specimens(
    request: Request,
    patient: str | None = Query(None, description="Patient/<id> or <id>"),
    subject: str | None = Query(None, description="Patient/<id> (same as patient)"),
    person: Person = Depends(api_person),
) -> Response:
    only_params(request, SEARCH_PARAMS)
    given = patient if patient is not None else subject
    if given is None:
        raise SearchError("patient", "required (specimens are listed per patient)", code="required")
    patient_id = patient_id_param(given, "patient" if patient is not None else "subject")
    found: list[Specimen] = []
    if valid_id(patient_id):
        try:
            found = person.patients().specimens_of(patient_id)
        except (PermissionDenied, RecordNotFound):
            found = []  # outside the person's labs, or no such patient: simply absent
    return FhirResponse(searchset(request, [specimen_resource(s) for s in found]))


@router.get(
    "/Specimen/{specimen_id}",
    response_class=FhirResponse,
    summary="Read a specimen",
    responses=ERRORS,
)
def read_specimen(specimen_id: str, person: Person = Depends(api_person)) -> Response:
    if not valid_id(specimen_id):
        raise RecordNotFound("Specimen: no resource with this id")
    return FhirResponse(specimen_resource(person.patients().get_specimen(specimen_id)))


@router.post(
    "/Specimen",
    response_class=FhirResponse,
    status_code=201,
    summary="Record a specimen (201 with Location)",
    responses=ERRORS,
    openapi_extra=fhir_body("Specimen"),
)
def create_specimen(
    request: Request, body: bytes = Depends(body_of), person: Person = Depends(api_person)
) -> Response:
    doc = parse_resource(body, FhirSpecimen, "Specimen")
    specimen, paths = specimen_from(doc, person)
    try:
        validate_specimen(specimen)
    except ValidationErrors as exc:
        raise translate(exc, paths, "Specimen") from None
    person.patients().add_specimen(specimen)
    location = f"{base_url(request)}/Specimen/{specimen.id}"
    return FhirResponse(
        specimen_resource(specimen), status_code=201, headers={"Location": location}
    )
