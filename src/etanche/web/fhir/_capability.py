"""CapabilityStatement at ``GET /fhir/metadata``: the one public FHIR route.

FHIR servers publish what they support without authentication; it names
resources, interactions and search parameters, never data.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request, Response
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from etanche.web.fhir._common import (
    ACTION_SYSTEM,
    FHIR_VERSION,
    INS_NIA_SYSTEM,
    INS_NIR_SYSTEM,
    base_url,
    checked,
)
from etanche.web.fhir._outcome import FHIR_JSON, FhirResponse, FhirRoute

router = APIRouter(route_class=FhirRoute)

SEARCH_TYPES: dict[str, dict[str, tuple[str, str]]] = {
    "Patient": {
        "identifier": ("token", f"INS: {INS_NIR_SYSTEM}|<NIR> or {INS_NIA_SYSTEM}|<NIA>"),
        "family": ("string", "Birth or used name; exact after INS normalisation"),
        "given": ("string", "First birth first name (with family and birthdate)"),
        "birthdate": ("date", "Full date, equality only (with family and given)"),
        "phone": ("token", "Any usual writing of the number"),
        "email": ("token", "Email address"),
        "telecom": ("token", "phone|<number> or email|<address>"),
    },
    "Specimen": {
        "patient": ("reference", "Patient/<id>: the specimens of one patient"),
        "subject": ("reference", "Same as patient"),
    },
    "Observation": {
        "patient": ("reference", "Patient/<id>: the blood group of one patient"),
        "subject": ("reference", "Same as patient"),
        "code": ("token", "http://loinc.org|882-1 (the only code served)"),
    },
    "Coverage": {
        "beneficiary": ("reference", "Patient/<id>: AMO and AMC of one patient"),
        "patient": ("reference", "Same as beneficiary"),
    },
    "AuditEvent": {
        "date": ("date", "[eq|ge|gt|le|lt] date or dateTime, repeatable"),
        "agent-name": ("string", "User name of the actor"),
        "entity": ("token", "Object id (patient, specimen, alert…)"),
        "patient": ("reference", "Patient/<id>"),
        "subtype": ("token", f"{ACTION_SYSTEM}|<action>, e.g. patient.read"),
    },
}

INTERACTIONS = {
    "Patient": ("read", "search-type", "create"),
    "Specimen": ("read", "search-type", "create"),
    "Observation": ("read", "search-type"),
    "Coverage": ("read", "search-type", "update"),
    "AuditEvent": ("read", "search-type"),
}

_DOCS = {
    "Patient": (
        "INS identity (NIR/NIA, traits, identity status), contacts, treating doctor. "
        "Search only with POST /fhir/Patient/_search (form body): parameters in a GET URL "
        "are refused. A search returning patients needs the patient.read scope too"
    ),
    "Specimen": "Read by id, search per patient (patient=), create",
    "Observation": "Blood group (LOINC 882-1), clinical compartment only",
    "Coverage": (
        "AMO (amo-<patient id>) and AMC (amc-<patient id>); update replaces that part of "
        "the patient's insurance (patient.update)"
    ),
    "AuditEvent": "The tamper-evident audit log, for the DPO and auditors",
}


@lru_cache(maxsize=8)  # keyed by base URL (Host header): bounded
def capability_statement(base: str) -> dict[str, Any]:
    resources = [
        {
            "type": kind,
            "documentation": _DOCS[kind],
            "interaction": [{"code": code} for code in INTERACTIONS[kind]],
            "searchParam": [
                {"name": name, "type": ptype, "documentation": doc}
                for name, (ptype, doc) in params.items()
            ],
        }
        for kind, params in SEARCH_TYPES.items()
    ]
    doc = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-03-01",
        "publisher": "Étanche",
        "kind": "instance",
        "software": {"name": "Étanche", "version": "0.1.0"},
        "implementation": {"description": "Étanche FHIR R4 API", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON, "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Every interaction but this statement needs a bearer token",
                "security": {
                    "cors": False,
                    "description": "Authorization: Bearer <token>, a personal API token "
                    "(etk_…) or a web session token (ets_…); every access is decided by the "
                    "policy and written to the audit log",
                },
                "resource": resources,
            }
        ],
    }
    return checked(CapabilityStatement, doc)


@router.get(
    "/metadata",
    response_class=FhirResponse,
    summary="CapabilityStatement (public)",
)
def metadata(request: Request) -> Response:
    return FhirResponse(capability_statement(base_url(request)))
