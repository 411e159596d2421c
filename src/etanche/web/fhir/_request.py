"""Request plumbing shared by the resource modules: raw bodies and OpenAPI notes.

Bodies are read raw and parsed by fhir.resources (not by FastAPI), so the
OpenAPI document describes them by hand: a JSON object of the right
``resourceType``, in ``application/fhir+json`` or ``application/json``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import Request

from etanche.web.fhir._outcome import FHIR_JSON, SearchError

_OUTCOME = {"content": {FHIR_JSON: {"schema": {"type": "object"}}}}

# Error answers every FHIR operation may give, all OperationOutcomes.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed request (OperationOutcome)", **_OUTCOME},
    401: {"description": "No valid bearer token (OperationOutcome)", **_OUTCOME},
    403: {"description": "Refused by the policy (OperationOutcome)", **_OUTCOME},
    404: {"description": "No such resource (OperationOutcome)", **_OUTCOME},
    422: {"description": "Invalid resource (OperationOutcome)", **_OUTCOME},
}


async def body_of(request: Request) -> bytes:
    """The raw request body (the endpoints themselves run in the thread pool)."""
    return await request.body()


FORM = "application/x-www-form-urlencoded"


async def form_of(request: Request) -> list[tuple[str, object]]:
    """The parameters of a ``POST [type]/_search``: a URL-encoded form (FHIR R4 3.1.1.5.5)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not kind and not await request.body():
        return []  # no parameter at all: the search says which one it needs
    if kind != FORM:
        raise SearchError("Content-Type", f"a search is POSTed as {FORM}", code="not-supported")
    form = await request.form()
    return list(form.multi_items())


def search_form(params: Iterable[str]) -> dict[str, Any]:
    """``openapi_extra`` declaring the URL-encoded form of a ``_search``."""
    schema = {
        "type": "object",
        "properties": {name: {"type": "string"} for name in params},
        "additionalProperties": False,
    }
    return {"requestBody": {"required": True, "content": {FORM: {"schema": schema}}}}


def fhir_body(resource_type: str) -> dict[str, Any]:
    """``openapi_extra`` declaring a FHIR resource body of ``resource_type``."""
    schema = {
        "type": "object",
        "required": ["resourceType"],
        "properties": {"resourceType": {"type": "string", "enum": [resource_type]}},
        "additionalProperties": True,
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                FHIR_JSON: {"schema": schema},
                "application/json": {"schema": schema},
            },
        }
    }
