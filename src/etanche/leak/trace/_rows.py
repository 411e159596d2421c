"""Canonical rows (contract A field names) of domain patients, for exports and canaries."""

from __future__ import annotations

from etanche.domain import Patient
from etanche.exchange import FIELDS, SPECIMEN_FIELDS, patient_fields

__all__ = ["ADMIN_FIELDS", "CLINICAL_FIELDS", "PATIENT_FIELDS", "canonical_row"]

PATIENT_FIELDS: tuple[str, ...] = tuple(n for n in FIELDS if n not in SPECIMEN_FIELDS)
ADMIN_FIELDS: tuple[str, ...] = tuple(n for n in PATIENT_FIELDS if FIELDS[n].compartment == "admin")
CLINICAL_FIELDS: tuple[str, ...] = tuple(
    n for n in PATIENT_FIELDS if FIELDS[n].compartment == "clinical"
)


def canonical_row(patient: Patient, *, lab_id: str | None = None) -> dict[str, str]:
    """Field name -> text (empty fields omitted), the lab overridden if given."""
    row = dict(patient_fields(patient).fields)
    if lab_id:
        row["lab"] = lab_id
    return row
