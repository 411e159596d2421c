"""Shared pieces of the FHIR adapter: systems and URLs, parsing, validation, bundles.

Every resource leaves through ``checked`` (validated by fhir.resources, then
serialised from the validated model) and every body enters through
``parse_resource``, so neither a malformed answer nor a malformed request can
slip past the library's R4 structures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.fhirresourcemodel import FHIRResourceModel
from pydantic import ValidationError as PydanticError

from etanche.errors import ValidationError, ValidationErrors
from etanche.service import NETWORK_WIDE, Actor
from etanche.web.fhir._outcome import (
    FhirOutputError,
    FhirStructureError,
    SearchError,
    fhir_path,
    structure_errors,
)

FHIR_VERSION = "4.0.1"

# -- identifier systems and code systems (docs/fhir.md tables them) ------------
INS_NIR_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"  # INS-NIR: NIR of people in the RNIPP
INS_NIA_SYSTEM = "urn:oid:1.2.250.1.213.1.4.9"  # INS-NIA: temporary numbers (7 or 8)
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"  # RPPS: health professionals
IDENTIFIER_TYPE_SYSTEM = "http://interopsante.org/fhir/CodeSystem/fr-v2-0203"
IDENTITY_RELIABILITY_URL = (
    "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability"
)
IDENTITY_STATUS_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status"
BIRTH_PLACE_URL = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
INSEE_CODE_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"
INSEE_COMMUNE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"

# Étanche's own names live under a reserved, never-resolving domain (RFC 2606)
# until the project has a canonical URL; they are opaque identifiers, not links.
ETANCHE = "https://etanche.invalid/fhir"
LAB_EXTENSION_URL = f"{ETANCHE}/StructureDefinition/lab"
AUDIT_SEQ_EXTENSION_URL = f"{ETANCHE}/StructureDefinition/audit-seq"
DUPLICATE_CONFIRMATION_URL = f"{ETANCHE}/StructureDefinition/duplicate-confirmation"
ACCESSION_SYSTEM = f"{ETANCHE}/sid/accession"
USER_SYSTEM = f"{ETANCHE}/sid/user"
OBJECT_SYSTEM = f"{ETANCHE}/sid/object"
ACTION_SYSTEM = f"{ETANCHE}/CodeSystem/action"
AMO_SYSTEM = f"{ETANCHE}/sid/amo-organisme"

# Naive collection times (the synthetic network's) are the labs' wall time;
# FHIR wants an offset, so they are written with this zone's.
LAB_ZONE = ZoneInfo("Europe/Paris")

_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def valid_id(value: str) -> bool:
    """Whether ``value`` is a FHIR logical id (no resource can have another)."""
    return bool(_ID.fullmatch(value))


def base_url(request: Request) -> str:
    """``https://host/fhir``: the base of fullUrls and Location headers."""
    return str(request.base_url).rstrip("/") + "/fhir"


def checked(model: type[FHIRResourceModel], doc: dict[str, Any]) -> dict[str, Any]:
    """Validate an outgoing resource with fhir.resources; return its serialised form.

    A failure here is our bug, not the client's: it answers 500. pydantic's
    message quotes the offending values (personal data), so only the paths
    are kept.
    """
    try:
        resource = model.model_validate(doc)
    except PydanticError as exc:
        where = ", ".join(sorted({fhir_path(model.__name__, e["loc"]) for e in exc.errors()}))
        raise FhirOutputError(f"fhir.resources refused an outgoing resource at {where}") from None
    dumped: dict[str, Any] = resource.model_dump(mode="json", exclude_none=True)
    return dumped


def parse_resource(
    body: bytes, model: type[FHIRResourceModel], resource_type: str
) -> dict[str, Any]:
    """Parse and validate an incoming resource; 400 OperationOutcome on any defect."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise FhirStructureError([ValidationError(resource_type, "the body is not JSON")]) from None
    if not isinstance(doc, dict):
        raise FhirStructureError([ValidationError(resource_type, "expected a JSON object")])
    if doc.get("resourceType") != resource_type:
        raise FhirStructureError(
            [ValidationError(f"{resource_type}.resourceType", f"expected {resource_type}")]
        )
    try:
        resource = model.model_validate(doc)
    except PydanticError as exc:
        raise structure_errors(resource_type, exc.errors()) from None
    except (ValueError, TypeError, RecursionError):  # fhir.resources raises a few of its own
        raise FhirStructureError([ValidationError(resource_type, "not a valid resource")]) from None
    parsed: dict[str, Any] = resource.model_dump(mode="json", exclude_none=True)
    return parsed


def searchset(request: Request, resources: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A searchset Bundle with total, self link and a fullUrl per entry, validated.

    Each resource was validated when it was built (``checked``); the Bundle around
    them is validated without them, so a 1000-event audit search does not pay
    for validating every event twice.
    """
    base = base_url(request)
    urls = [f"{base}/{r['resourceType']}/{r['id']}" for r in resources]
    shell: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": self_link(request)}],
    }
    if resources:
        shell["entry"] = [{"fullUrl": url, "search": {"mode": "match"}} for url in urls]
    bundle = checked(Bundle, shell)
    if resources:
        bundle["entry"] = [
            {"fullUrl": entry["fullUrl"], "resource": resource, "search": entry["search"]}
            for entry, resource in zip(bundle["entry"], resources, strict=True)
        ]
    return bundle


def self_link(request: Request) -> str:
    """The searched endpoint without its parameters.

    A Bundle is kept, logged and forwarded; its ``self`` link must not carry what
    was searched for (a NIR, a name, a birth date, an id), so it never has a query.
    """
    return str(request.base_url).rstrip("/") + request.url.path


def only_params(request: Request, allowed: Iterable[str], repeatable: Iterable[str] = ()) -> None:
    """Refuse unknown or repeated search parameters of the URL."""
    checked_params(request.query_params.multi_items(), allowed, repeatable)


def checked_params(
    pairs: Iterable[tuple[str, object]], allowed: Iterable[str], repeatable: Iterable[str] = ()
) -> dict[str, str]:
    """The search parameters (URL or form) as a dict; unknown or repeated ones are refused.

    Silently ignoring one would widen the result (FHIR's lenient handling);
    a repeated one would silently keep only its last value.
    """
    known = set(allowed) | {"_format", "_pretty"}
    many = set(repeatable)
    found: dict[str, str] = {}
    for name, value in pairs:
        if name not in known:
            raise SearchError(name, "search parameter not supported", code="not-supported")
        if name in found and name not in many:
            raise SearchError(name, "give this parameter once", code="not-supported")
        if not isinstance(value, str):
            raise SearchError(name, "expected a text value, not a file")
        found[name] = value
    return found


def patient_id_param(value: str, name: str) -> str:
    """``Patient/<id>`` or ``<id>`` → ``<id>`` (another type is an error)."""
    text = value.strip()
    if "/" in text:
        kind, _, ident = text.rpartition("/")
        if kind.rsplit("/", 1)[-1] != "Patient":
            raise SearchError(name, "expected a Patient reference (Patient/<id>)")
        text = ident
    return text


def token(value: str) -> tuple[str | None, str]:
    """A FHIR token ``[system]|[code]`` → (system or None, code)."""
    if "|" in value:
        system, _, code = value.partition("|")
        return system, code
    return None, value


def fhir_date(value: str, path: str, problems: list[ValidationError]) -> date | None:
    """A full FHIR date (YYYY-MM-DD); partial dates are not INS birth dates."""
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        problems.append(ValidationError(path, "a full date (YYYY-MM-DD) is required"))
        return None


def aware_time(value: str, path: str, problems: list[ValidationError]) -> datetime | None:
    """A FHIR dateTime with a time and an offset, kept with its offset.

    Stored aware, the domain validator compares it with the current time in
    the same zone, so a specimen collected a minute ago is never "in the future".
    """
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or len(value) <= 10 or moment.tzinfo is None:
        problems.append(ValidationError(path, "a date and time with an offset is required"))
        return None
    return moment


def fhir_datetime(moment: datetime) -> str:
    """A stored time → FHIR dateTime at the labs' offset (naive times are lab wall time)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=LAB_ZONE).isoformat(timespec="seconds")
    return moment.astimezone(LAB_ZONE).isoformat(timespec="seconds")


def lab_for(actor: Actor, named: str | None, path: str, problems: list[ValidationError]) -> str:
    """The lab a new record belongs to: the one named, else the person's only lab.

    Whether the person may write there is the policy's call, made by the service.
    """
    if named:
        return named
    labs = sorted(lab for lab in actor.labs if lab != NETWORK_WIDE)
    if len(labs) == 1:
        return labs[0]
    if not labs and actor.network_wide:
        return NETWORK_WIDE  # no lab of its own: the policy refuses, with its reason
    problems.append(
        ValidationError(
            path,
            "required: this account covers several labs (or none); name the lab as "
            "Organization/<lab id>",
        )
    )
    return ""


def organization_lab(
    reference: dict[str, Any] | None, path: str, problems: list[ValidationError]
) -> str | None:
    """``{"reference": "Organization/L01"}`` → ``L01``."""
    if not reference:
        return None
    ref = str(reference.get("reference", ""))
    kind, _, lab = ref.partition("/")
    if kind != "Organization" or not lab:
        problems.append(ValidationError(path, "expected a reference Organization/<lab id>"))
        return None
    return lab


def raise_problems(problems: list[ValidationError]) -> None:
    if problems:
        raise ValidationErrors(problems)


def translate(exc: ValidationErrors, paths: dict[str, str], default: str) -> ValidationErrors:
    """Domain field names (``phones[1]``) → the FHIRPath they came from, reason kept."""
    moved = []
    for error in exc.errors:
        where = paths.get(error.field) or paths.get(error.field.split("[")[0]) or default
        moved.append(ValidationError(where, f"{error.field}: {error.reason}"))
    return ValidationErrors(moved)
