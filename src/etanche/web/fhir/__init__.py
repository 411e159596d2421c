"""FHIR R4 API at /fhir: Patient, Specimen, Observation, Coverage, AuditEvent.

A thin adapter over the service room: every patient access goes through the
person's ``PatientService`` (policy decision, compartment keys, audit), every
resource is validated with fhir.resources on the way out and on the way in,
and every error is an OperationOutcome. docs/fhir.md describes the mapping.
"""

from etanche.web.fhir._outcome import operation_outcome
from etanche.web.fhir._router import router

__all__ = ["operation_outcome", "router"]
