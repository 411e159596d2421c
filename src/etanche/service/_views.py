"""What a person is shown of a patient: masked by default, revealed on request.

Built in the service, so a masked answer never carries the value over the wire:
a client asking without ``reveal`` receives masks only.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, tzinfo
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from etanche.domain import Patient, Specimen
from etanche.service.masks import mask_email, mask_nir, mask_phone, mask_text

PARIS = ZoneInfo("Europe/Paris")


def aware_iso(value: datetime, naive_as: tzinfo = UTC) -> str:
    """An ISO 8601 time that always carries its offset, as the JSON API answers.

    SQLite returns stored UTC times without their zone, and a specimen typed on a
    form is a Paris wall time: ``naive_as`` says which a naive value is.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=naive_as)
    return value.isoformat()


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return aware_iso(value, PARIS)  # patient and specimen times: local wall times
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def patient_summary(patient: Patient, *, reveal: bool) -> dict[str, Any]:
    """One line per patient in search results."""
    if reveal:
        return {
            "id": patient.id,
            "lab": patient.lab_id,
            "birth_name": patient.birth_name,
            "first_names": list(patient.first_names),
            "birth_date": patient.birth_date.isoformat(),
            "sex": patient.sex.value,
            "nir": patient.nir,
        }
    return {
        "id": patient.id,
        "lab": patient.lab_id,
        "birth_name": mask_text(patient.birth_name),
        "first_names": [mask_text(n) for n in patient.first_names],
        "birth_date": f"{patient.birth_date.year}-••-••",
        "sex": patient.sex.value,
        "nir": mask_nir(patient.nir),
    }


def patient_detail(
    patient: Patient, specimens: list[Specimen], *, reveal: bool, clinical_open: bool
) -> dict[str, Any]:
    """Everything about one patient; masked unless ``reveal``."""
    data = _plain(asdict(patient))
    data["specimens"] = [_plain(asdict(s)) for s in specimens]
    if not clinical_open:
        data["clinical"] = "(not available in this session)"
    if reveal:
        return dict(data)
    data.update(patient_summary(patient, reveal=False))
    data["used_name"] = mask_text(patient.used_name)
    data["birthplace_insee"] = (patient.birthplace_insee or "")[:2] + "•••"
    data["addresses"] = [
        {"line": "•••", "postcode": a.postcode[:2] + "•••", "city": a.city, "country": a.country}
        for a in patient.addresses
    ]
    data["phones"] = [mask_phone(p) for p in patient.phones]
    data["emails"] = [mask_email(e) for e in patient.emails]
    if patient.physician:  # who treats a patient says something about the patient
        data["physician"] = {"name": mask_text(patient.physician.name), "rpps": "•••"}
    if patient.insurance:
        data["insurance"]["amc_member_number"] = mask_text(patient.insurance.amc_member_number, 0)
    if clinical_open:
        data["clinical"] = {
            "blood_group": "•••" if patient.clinical.blood_group else None,
            "comments": ["•••" for _ in patient.clinical.comments],
            "pregnant": None if patient.clinical.pregnant is None else "•••",
            "treatments": ["•••" for _ in patient.clinical.treatments],
            "pathologies": ["•••" for _ in patient.clinical.pathologies],
        }
    for spec in data["specimens"]:
        spec["accession"] = mask_text(spec["accession"], 3)
        if spec.get("prescriber"):
            spec["prescriber"] = {"name": mask_text(spec["prescriber"]["name"]), "rpps": "•••"}
    return dict(data)
