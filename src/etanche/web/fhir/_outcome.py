"""Every FHIR error is an OperationOutcome, whatever raised it.

``FhirRoute`` wraps each FHIR endpoint so that errors raised by the person
dependency, by FastAPI's own parameter validation, by the service room or by
our mapping all become an OperationOutcome with an ``issue.code`` per error
type and, for validation errors, one issue per field with its FHIRPath in
``expression``. ``operation_outcome`` stays the fallback the application's
handlers call for anything that escapes a route.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from etanche.errors import (
    AccessError,
    DuplicateUnconfirmed,
    EtancheError,
    PermissionDenied,
    RecordNotFound,
    SourceError,
    UsageError,
    ValidationError,
    ValidationErrors,
)

FHIR_JSON = "application/fhir+json"

logger = logging.getLogger("etanche.web.fhir")

# FHIR issue-type codes (http://hl7.org/fhir/issue-type) we emit.
_ISSUE_CODES = frozenset(
    {
        "invalid",
        "structure",
        "required",
        "value",
        "invariant",
        "security",
        "login",
        "forbidden",
        "not-found",
        "not-supported",
        "processing",
        "exception",
        "throttled",
        "too-costly",
        "business-rule",
        "duplicate",
    }
)

# Exception class names (what the application's handlers pass as ``code``) → issue code.
_BY_NAME = {
    "LoginRequired": "login",
    "SessionExpired": "login",
    "AuthenticationFailed": "login",
    "EnrolmentRequired": "login",
    "AccountLocked": "login",
    "CsrfRejected": "security",
    "PermissionDenied": "forbidden",
    "RecordNotFound": "not-found",
    "VaultNotFound": "exception",
    "SchemaError": "exception",
    "ValidationError": "value",
    "DuplicateUnconfirmed": "duplicate",
    "ValidationErrors": "invalid",
    "FhirStructureError": "structure",
    "SearchError": "invalid",
    "NotSupported": "not-supported",
    "UsageError": "invalid",
    "ConfigError": "exception",
    "FhirOutputError": "exception",
    "SourceError": "structure",
    "WrongPassphrase": "exception",
    "IntegrityError": "exception",
    "KeyNotFound": "exception",
    "KeyProviderError": "exception",
}

_BY_STATUS = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 422: "invalid"}


class FhirResponse(JSONResponse):
    """A FHIR JSON body: ``application/fhir+json``, UTF-8, never cached."""

    media_type = FHIR_JSON


@dataclass(frozen=True, slots=True)
class Issue:
    """One OperationOutcome issue: FHIR issue code, what went wrong, where (FHIRPath)."""

    code: str
    diagnostics: str
    expression: tuple[str, ...] = ()
    severity: str = "error"

    def to_fhir(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.diagnostics,
        }
        if self.expression:
            doc["expression"] = list(self.expression)
        return doc


class FhirStructureError(ValidationErrors):
    """The body is not JSON, or not a resource fhir.resources accepts (HTTP 400).

    Each item's ``field`` is a FHIRPath such as ``Patient.name[0].given``.
    """


class FhirOutputError(EtancheError):
    """A resource we built failed fhir.resources validation: our bug (HTTP 500)."""


class SearchError(UsageError):
    """A search or path parameter is malformed or missing (HTTP 400)."""

    def __init__(self, param: str, reason: str, *, code: str = "invalid") -> None:
        self.param = param
        self.reason = reason
        self.code = code
        super().__init__(f"{param}: {reason}")


class NotSupported(UsageError):
    """An interaction, parameter or element this server does not offer."""


def issue_code_for(code: str, status: int) -> str:
    """The FHIR issue code for an exception name (or an issue code), else by status."""
    if code in _ISSUE_CODES:
        return code
    if code in _BY_NAME:
        return _BY_NAME[code]
    if status >= 500:
        return "exception"
    return _BY_STATUS.get(status, "processing")


def operation_outcome(
    status: int,
    code: str,
    message: str,
    *,
    issues: Sequence[Issue] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Errors as a FHIR OperationOutcome.

    ``code`` is a FHIR issue code or the name of the exception raised (the
    application's handlers pass ``type(exc).__name__``); ``issues`` replace the
    single issue built from ``message`` when the caller knows more (one per field).
    """
    listed = list(issues) or [Issue(issue_code_for(code, status), message)]
    extra = dict(headers or {})
    if status == 401:
        extra.setdefault("WWW-Authenticate", 'Bearer realm="etanche-fhir"')
    return FhirResponse(
        {"resourceType": "OperationOutcome", "issue": [i.to_fhir() for i in listed]},
        status_code=status,
        headers=extra,
    )


def status_for(exc: EtancheError) -> int:
    """HTTP status of an error on the FHIR API (finer than the pages' mapping)."""
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, AccessError):
        return 401
    if isinstance(exc, FhirStructureError | UsageError):
        return 400
    if isinstance(exc, DuplicateUnconfirmed):
        return 409
    if isinstance(exc, ValidationError | SourceError):
        return 422
    if isinstance(exc, RecordNotFound):
        return 404
    return 500  # the vault, keys, integrity: not the client's doing


def issues_for(exc: EtancheError) -> list[Issue]:
    """One issue per problem; validation problems carry their field as ``expression``."""
    if isinstance(exc, FhirStructureError):
        return [Issue("structure", f"{e.field}: {e.reason}", (e.field,)) for e in exc.errors]
    if isinstance(exc, DuplicateUnconfirmed):
        return [Issue("duplicate", str(exc), ("Patient",))]
    if isinstance(exc, ValidationErrors):
        return [_field_issue(e) for e in exc.errors]
    if isinstance(exc, ValidationError):
        return [_field_issue(exc)]
    if isinstance(exc, SearchError):
        return [Issue(exc.code, str(exc), (exc.param,))]
    status = status_for(exc)
    return [Issue(issue_code_for(type(exc).__name__, status), str(exc))]


def _field_issue(error: ValidationError) -> Issue:
    reason = error.reason
    lowered = reason.lower()
    if "required" in lowered or "must not be empty" in lowered:
        code = "required"
    elif "not supported" in lowered:
        code = "not-supported"
    else:
        code = "value"
    return Issue(code, f"{error.field}: {reason}", (error.field,))


def outcome_for(exc: EtancheError) -> JSONResponse:
    status = status_for(exc)
    if status >= 500:  # Étanche's messages never hold a personal value (errors.py)
        logger.error("FHIR: %s: %s", type(exc).__name__, exc)
    return operation_outcome(status, type(exc).__name__, str(exc), issues=issues_for(exc))


def request_validation_outcome(exc: RequestValidationError) -> JSONResponse:
    """FastAPI's own parameter validation (e.g. ``_count=abc``) as an OperationOutcome."""
    issues: list[Issue] = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        where = ".".join(loc[1:]) if len(loc) > 1 else ".".join(loc)
        issues.append(Issue("invalid", f"{where}: {error.get('msg', 'invalid')}", (where,)))
    if not issues:
        issues.append(Issue("invalid", "invalid request"))
    return operation_outcome(400, "invalid", "invalid request", issues=issues)


class FhirRoute(APIRoute):
    """An APIRoute whose errors, including the dependencies', are OperationOutcomes."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return request_validation_outcome(exc)
            except EtancheError as exc:
                return outcome_for(exc)
            except Exception as exc:
                # Never let a traceback (its message may quote a value) reach the logs:
                # the exception type and where it was raised are enough to find the bug.
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                logger.error(
                    "FHIR %s %s: unexpected %s at %s:%s",
                    request.method,
                    self.path,
                    type(exc).__name__,
                    Path(frame.filename).name,
                    frame.lineno,
                )
                return operation_outcome(500, "exception", "internal error; see the server log")

        return guarded


def structure_errors(resource: str, errors: Iterable[Mapping[str, Any]]) -> FhirStructureError:
    """pydantic errors of fhir.resources as one FhirStructureError (never the input value)."""
    found: list[ValidationError] = []
    for error in errors:
        found.append(ValidationError(fhir_path(resource, error.get("loc", ())), _message(error)))
    if not found:
        found.append(ValidationError(resource, "not a valid resource"))
    return FhirStructureError(found)


def _message(error: Mapping[str, Any]) -> str:
    if error.get("type") == "extra_forbidden":
        return "unknown element"
    if error.get("type") == "missing":
        return "required element is missing"
    text = str(error.get("msg", "invalid"))
    return " ".join(text.split())  # fhir.resources' messages span lines


def fhir_path(resource: str, loc: Iterable[object]) -> str:
    """``('name', 0, 'given')`` → ``Patient.name[0].given``."""
    path = resource
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in ("resource_type", "__root__"):
            continue
        else:
            path += f".{part}"
    return path
