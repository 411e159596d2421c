"""The retention purge and legal holds over JSON (DPO); the service decides and logs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from etanche.web._auth import api_person
from etanche.web._state import Person

router = APIRouter(tags=["retention"])


class Purge(BaseModel):
    dry_run: bool = False


@router.post("/retention/purge")
def purge(body: Purge, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Shred what has expired (or list it with dry_run): the signed report, a French summary."""
    service = person.retention()
    signed = service.purge(dry_run=body.dry_run)
    return {"signed": signed, "markdown": service.summary(signed)}


class Hold(BaseModel):
    patient: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


@router.post("/retention/hold")
def hold(body: Hold, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Put a patient under a legal hold: the purge keeps it."""
    person.retention().hold(body.patient, body.reason)
    return {"patient": body.patient, "held": True}


class Release(BaseModel):
    patient: str = Field(min_length=1, max_length=64)


@router.post("/retention/release")
def release(body: Release, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Lift a legal hold."""
    person.retention().release(body.patient)
    return {"patient": body.patient, "held": False}
