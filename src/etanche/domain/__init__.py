"""Pure domain model and validators (no I/O)."""

from etanche.domain._models import (
    Address,
    BloodGroup,
    Clinical,
    Compartment,
    IdentityStatus,
    Insurance,
    Lab,
    Patient,
    Physician,
    Sex,
    Specimen,
    Treatment,
)

__all__ = [
    "Address",
    "BloodGroup",
    "Clinical",
    "Compartment",
    "IdentityStatus",
    "Insurance",
    "Lab",
    "Patient",
    "Physician",
    "Sex",
    "Specimen",
    "Treatment",
]
