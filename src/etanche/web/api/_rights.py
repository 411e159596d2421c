"""Rights requests over JSON: the DPO's workflow (GDPR art. 12, 15-18, 21) for the CLI.

Each route calls one ``RightsRequests`` operation and returns its view; the
service decides, audits and weighs an erasure against the retention rules.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from etanche.service import RightsRequests, request_detail, request_summary
from etanche.web._auth import api_person
from etanche.web._state import Person

router = APIRouter(tags=["rights"])

MAX_ID = 32


class AddBody(BaseModel):
    kind: str = Field(max_length=32)
    contact: str = Field(max_length=1000)
    received_at: datetime | None = None
    note: str | None = Field(default=None, max_length=4000)
    record: str | None = Field(default=None, max_length=64)


class LookupBody(BaseModel):
    birth_name: str = Field(max_length=200)
    first_name: str = Field(max_length=200)
    birth_date: date
    nir: str | None = Field(default=None, max_length=32)


class VerifyBody(BaseModel):
    document: str = Field(max_length=32)


class LinkBody(BaseModel):
    record: str = Field(max_length=64)


class ExtendBody(BaseModel):
    reason: str = Field(max_length=4000)
    told_on: date | None = None


class CloseBody(BaseModel):
    outcome: str = Field(max_length=16)
    reason: str | None = Field(default=None, max_length=4000)


def rights_desk(person: Person) -> RightsRequests:
    """The person's rights requests on a session holding no key yet (pages too)."""
    return person.rights()


@router.post("/rights-requests")
def add(body: AddBody, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Register a request; due one month after its receipt."""
    stored = rights_desk(person).add(
        body.kind,
        contact=body.contact,
        received_at=body.received_at,
        note=body.note,
        patient_id=body.record,
    )
    return request_detail(stored)


@router.get("/rights-requests")
def list_requests(person: Person = Depends(api_person)) -> dict[str, Any]:
    """Every request, oldest receipt first, with its deadline and days left."""
    return {"requests": [request_summary(r) for r in rights_desk(person).list()]}


@router.post("/rights-requests/lookup")
def lookup(body: LookupBody, person: Person = Depends(api_person)) -> dict[str, Any]:
    """The requester's records across the network: lab and record id, never data."""
    found = rights_desk(person).lookup(body.birth_name, body.first_name, body.birth_date, body.nir)
    return {
        "records": [{"lab": m.lab_id, "record": m.patient_id, "by": m.matched_by} for m in found]
    }


@router.post("/rights-requests/check")
def check(person: Person = Depends(api_person)) -> dict[str, Any]:
    """Deadlines checked against the audit log now; each finding alerts."""
    return {"findings": [f.to_dict() for f in rights_desk(person).check()]}


@router.get("/rights-requests/{request_id}")
def show(request_id: str, person: Person = Depends(api_person)) -> dict[str, Any]:
    return request_detail(rights_desk(person).get(request_id[:MAX_ID]))


@router.post("/rights-requests/{request_id}/identity")
def verify(
    request_id: str, body: VerifyBody, person: Person = Depends(api_person)
) -> dict[str, Any]:
    return request_detail(rights_desk(person).verify_identity(request_id[:MAX_ID], body.document))


@router.post("/rights-requests/{request_id}/record")
def link(request_id: str, body: LinkBody, person: Person = Depends(api_person)) -> dict[str, Any]:
    return request_detail(rights_desk(person).link(request_id[:MAX_ID], body.record))


@router.post("/rights-requests/{request_id}/extend")
def extend(
    request_id: str, body: ExtendBody, person: Person = Depends(api_person)
) -> dict[str, Any]:
    stored = rights_desk(person).extend(request_id[:MAX_ID], body.reason, told_on=body.told_on)
    return request_detail(stored)


@router.post("/rights-requests/{request_id}/close")
def close(request_id: str, body: CloseBody, person: Person = Depends(api_person)) -> dict[str, Any]:
    stored = rights_desk(person).close(request_id[:MAX_ID], body.outcome, body.reason)
    return request_detail(stored)


@router.post("/rights-requests/{request_id}/lift")
def lift(request_id: str, person: Person = Depends(api_person)) -> dict[str, Any]:
    return request_detail(rights_desk(person).lift(request_id[:MAX_ID]))
