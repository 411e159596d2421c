"""The FHIR router: the public CapabilityStatement, the resources, and a fallback.

Every route but ``/metadata`` depends on ``api_person`` (a bearer token); the
fallback answers any other path or method under /fhir with an
OperationOutcome, and it too needs a person, so an anonymous caller learns
nothing about which routes exist.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, Security
from fastapi.security import HTTPBearer

from etanche.web._auth import api_person
from etanche.web._state import Person
from etanche.web.fhir import (
    _audit_event,
    _capability,
    _coverage,
    _coverage_update,
    _observation,
    _patient,
    _specimen,
)
from etanche.web.fhir._outcome import FhirRoute, operation_outcome

# Documents the bearer scheme in the OpenAPI document; api_person does the checking.
bearer = HTTPBearer(
    scheme_name="bearer",
    description="A personal API token (etk_…) or a web session token (ets_…)",
    auto_error=False,
)

router = APIRouter(tags=["fhir"], route_class=FhirRoute)
router.include_router(_capability.router)

_resources = APIRouter(route_class=FhirRoute, dependencies=[Security(bearer)])
for _module in (_patient, _specimen, _observation, _coverage, _coverage_update, _audit_event):
    _resources.include_router(_module.router)
router.include_router(_resources)

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@router.api_route("/{rest:path}", methods=_METHODS, include_in_schema=False)
def unsupported(request: Request, rest: str, person: Person = Depends(api_person)) -> Response:
    """Any other FHIR path or interaction: an OperationOutcome, not a bare 404."""
    return operation_outcome(
        404,
        "not-supported",
        f"{request.method} is not offered on this path; see GET /fhir/metadata",
    )
