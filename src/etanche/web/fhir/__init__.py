"""FHIR R4 API at /fhir (placeholder router until the resources land)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

router = APIRouter(tags=["fhir"])


def operation_outcome(status: int, code: str, message: str) -> JSONResponse:
    """Errors as a FHIR OperationOutcome."""
    return JSONResponse(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "processing", "diagnostics": message}],
        },
        status_code=status,
        media_type="application/fhir+json",
    )
