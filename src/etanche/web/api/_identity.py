"""Identity vigilance over JSON: RNIV status moves and merges, for the CLI.

Answers carry ids, statuses, document kinds, OIDs, dates and trait names, never a
trait's value: the INS matricule is masked like a NIR. The INSi result travels in
the request body (the CLI reads it from a file), never in a URL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from etanche.domain import DowngradeReason, IdentityStatus, InsTraits, Patient, Sex
from etanche.errors import ValidationError
from etanche.service import Merge
from etanche.service.masks import mask_nir
from etanche.web._auth import api_person
from etanche.web._state import Person

router = APIRouter(tags=["identity"])


class Validation(BaseModel):
    document: str = Field(max_length=40)
    checked_on: date | None = None


class InsResult(BaseModel):
    """What the INSi teleservice answered, as the desk read it."""

    matricule: str = Field(max_length=25)
    oid: str = Field(max_length=40)
    birth_name: str = Field(max_length=200)
    first_names: list[str] = Field(max_length=10)
    sex: str = Field(max_length=1)
    birth_date: date
    birthplace_insee: str | None = Field(default=None, max_length=5)
    retrieved_on: date


class Lowering(BaseModel):
    to: str = Field(max_length=8)
    reason: str = Field(max_length=40)


class MergeAsked(BaseModel):
    survivor: str = Field(max_length=32)
    absorbed: str = Field(max_length=32)


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=UTC)


def status_of(patient: Patient, differ: list[str]) -> dict[str, Any]:
    """The identity status with its evidence: kinds, accounts and dates only."""
    check, ins, last = patient.identity_document, patient.ins, patient.identity_downgrade
    return {
        "id": patient.id,
        "lab": patient.lab_id,
        "status": patient.identity_status.value,
        "document": None
        if check is None
        else {"kind": check.kind.value, "by": check.checked_by, "at": check.checked_at.isoformat()},
        "ins": None
        if ins is None
        else {
            "matricule": mask_nir(ins.matricule),
            "oid": ins.oid,
            "retrieved_at": ins.retrieved_at.isoformat(),
            "entered_by": ins.entered_by,
            "traits_differ": differ,
        },
        "downgrade": None
        if last is None
        else {
            "from": last.from_status.value,
            "reason": last.reason.value,
            "by": last.by,
            "at": last.at.isoformat(),
        },
    }


def merge_view(merge: Merge) -> dict[str, Any]:
    return {
        "id": merge.id,
        "state": merge.state,
        "survivor": merge.survivor,
        "absorbed": merge.absorbed,
        "survivor_lab": merge.survivor_lab,
        "absorbed_lab": merge.absorbed_lab,
        "requested_by": merge.requested_by,
        "approvers": list(merge.approvers),
        "missing_labs": list(merge.missing_labs),
        "at": merge.at.isoformat(),
    }


def _answer(person: Person, patient: Patient) -> dict[str, Any]:
    return status_of(patient, person.identity().mismatches(patient))


@router.get("/identity/{patient_id}/status")
def status(patient_id: str, person: Person = Depends(api_person)) -> dict[str, Any]:
    """The status and its evidence (an audited read of the record)."""
    return _answer(person, person.identity().get(patient_id))


@router.post("/identity/{patient_id}/validate")
def validate(
    patient_id: str, body: Validation, person: Person = Depends(api_person)
) -> dict[str, Any]:
    checked = _noon(body.checked_on) if body.checked_on else None
    return _answer(person, person.identity().validate(patient_id, body.document, checked))


@router.post("/identity/{patient_id}/retrieve-ins")
def retrieve_ins(
    patient_id: str, body: InsResult, person: Person = Depends(api_person)
) -> dict[str, Any]:
    try:
        sex = Sex(body.sex.upper())
    except ValueError:
        raise ValidationError("sex", "expected M, F or I", patient_id) from None
    traits = InsTraits(
        body.birth_name,
        tuple(body.first_names),
        sex,
        body.birth_date,
        body.birthplace_insee or None,
    )
    moved = person.identity().retrieve_ins(
        patient_id, body.matricule.replace(" ", ""), body.oid, traits, _noon(body.retrieved_on)
    )
    return _answer(person, moved)


@router.post("/identity/{patient_id}/qualify")
def qualify(patient_id: str, person: Person = Depends(api_person)) -> dict[str, Any]:
    return _answer(person, person.identity().qualify(patient_id))


@router.post("/identity/{patient_id}/downgrade")
def downgrade(
    patient_id: str, body: Lowering, person: Person = Depends(api_person)
) -> dict[str, Any]:
    try:
        target, reason = IdentityStatus(body.to), DowngradeReason(body.reason)
    except ValueError:
        raise ValidationError(
            "downgrade", "unknown status (PROV, RECUP, VALI) or reason", patient_id
        ) from None
    return _answer(person, person.identity().downgrade(patient_id, target, reason))


@router.post("/identity/{patient_id}/restore")
def restore(patient_id: str, person: Person = Depends(api_person)) -> dict[str, Any]:
    return _answer(person, person.identity().restore(patient_id))


@router.get("/identity/merges")
def merges(person: Person = Depends(api_person)) -> dict[str, Any]:
    found = person.identity().merges()
    return {"merges": [merge_view(m) for m in sorted(found, key=lambda m: m.at)]}


@router.post("/identity/merges")
def merge(body: MergeAsked, person: Person = Depends(api_person)) -> dict[str, Any]:
    return merge_view(person.identity().merge(body.survivor, body.absorbed))


@router.post("/identity/merges/{merge_id}/approve")
def approve(merge_id: str, person: Person = Depends(api_person)) -> dict[str, Any]:
    return merge_view(person.identity().approve(merge_id))


@router.post("/identity/merges/{merge_id}/unmerge")
def unmerge(merge_id: str, person: Person = Depends(api_person)) -> dict[str, Any]:
    return merge_view(person.identity().unmerge(merge_id))
