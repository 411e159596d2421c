"""Coverage update: the front desk's insurance entry over FHIR (``PUT /fhir/Coverage/ID``).

The ids are the ones the read side derives from the patient (``amo-<id>``,
``amc-<id>``): a PUT replaces that part of the patient's insurance and leaves
the other, as a ``patient.update`` through the service (decided, audited, the
replaced version kept). AMO takes the régime and the caisse from ``class``
(``group``, ``subgroup``), or the payor's 5-digit organisme identifier; AMC takes
the payor's ``display`` and the ``subscriberId``. An AMC needs an AMO first.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends, Response
from fhir.resources.R4B.coverage import Coverage

from etanche.domain import Insurance, Patient
from etanche.errors import RecordNotFound, ValidationError, ValidationErrors
from etanche.web._auth import api_person
from etanche.web._state import Person
from etanche.web.fhir._common import AMO_SYSTEM, parse_resource, valid_id
from etanche.web.fhir._coverage import coverages
from etanche.web.fhir._outcome import FhirResponse, FhirRoute
from etanche.web.fhir._request import ERRORS, body_of, fhir_body

router = APIRouter(route_class=FhirRoute)

_PATHS = {
    "insurance.amo_regime": "Coverage.class[group].value",
    "insurance.amo_caisse": "Coverage.class[subgroup].value",
}


def _class_value(doc: dict[str, Any], code: str) -> str | None:
    for item in doc.get("class", []):
        codings = item.get("type", {}).get("coding", [])
        if any(c.get("code") == code for c in codings):
            return str(item.get("value", "")).strip()
    return None


def _amo(doc: dict[str, Any]) -> tuple[str, str]:
    regime, caisse = _class_value(doc, "group"), _class_value(doc, "subgroup")
    if regime is None or caisse is None:
        for payor in doc.get("payor", []):
            identifier = payor.get("identifier", {})
            if identifier.get("system") == AMO_SYSTEM:
                value = str(identifier.get("value", "")).strip()
                regime, caisse = value[:2], value[2:]
    if not regime or not caisse:
        raise ValidationErrors(
            [ValidationError("Coverage.class", "an AMO needs class group (régime) and subgroup")]
        )
    return regime, caisse


def _amc(doc: dict[str, Any]) -> tuple[str, str | None]:
    names = [str(p.get("display", "")).strip() for p in doc.get("payor", [])]
    name = next((n for n in names if n), "")
    if not name or len(name) > 120:
        raise ValidationErrors(
            [ValidationError("Coverage.payor[0].display", "the complementary insurer's name")]
        )
    member = str(doc.get("subscriberId", "")).strip() or None
    if member is not None and len(member) > 30:
        raise ValidationErrors([ValidationError("Coverage.subscriberId", "30 characters at most")])
    return name, member


def _with_coverage(patient: Patient, kind: str, doc: dict[str, Any]) -> Patient:
    current = patient.insurance
    if kind == "amo":
        regime, caisse = _amo(doc)
        if current is None:
            return replace(patient, insurance=Insurance(regime, caisse))
        return replace(patient, insurance=replace(current, amo_regime=regime, amo_caisse=caisse))
    if current is None:
        raise ValidationErrors(
            [ValidationError("Coverage.type", "put the patient's AMO coverage before the AMC")]
        )
    name, member = _amc(doc)
    return replace(patient, insurance=replace(current, amc_name=name, amc_member_number=member))


@router.put(
    "/Coverage/{coverage_id}",
    response_class=FhirResponse,
    summary="Replace a patient's AMO or AMC coverage (amo-<patient id>, amc-<patient id>)",
    responses=ERRORS,
    openapi_extra=fhir_body("Coverage"),
)
def update_coverage(
    coverage_id: str, body: bytes = Depends(body_of), person: Person = Depends(api_person)
) -> Response:
    kind, _, patient_id = coverage_id.partition("-")
    if kind not in ("amo", "amc") or not valid_id(coverage_id) or not patient_id:
        raise RecordNotFound("Coverage: no resource with this id")
    doc = parse_resource(body, Coverage, "Coverage")
    if doc.get("id") not in (None, coverage_id):
        raise ValidationErrors([ValidationError("Coverage.id", "does not match the URL")])
    service = person.patients()
    service.without_clinical()
    updated = _with_coverage(service.get(patient_id), kind, doc)
    try:
        service.update(updated)
    except ValidationErrors as exc:
        raise ValidationErrors(
            [ValidationError(_PATHS.get(e.field, "Coverage"), e.reason) for e in exc.errors]
        ) from None
    for coverage in coverages(updated):
        if coverage["id"] == coverage_id:
            return FhirResponse(coverage)
    raise RecordNotFound("Coverage: no resource with this id")  # pragma: no cover
