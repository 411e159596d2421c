"""Supervision over JSON: the audit log (as stored, for outside verifiers), alerts, decoys.

Each route calls one operation of the service, which decides and logs it.
Identifiers (an alert id, a patient id to filter on) travel in POST bodies.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from etanche.leak.incident import font_files
from etanche.web._auth import api_person
from etanche.web._state import Person

router = APIRouter(tags=["supervision"])

MAX_PAGE = 10_000


# -- the audit log -------------------------------------------------------------------
@router.get("/audit/public-key")
def public_key(person: Person = Depends(api_person)) -> dict[str, Any]:
    """The log's public key (PEM): export it once and pin it outside the server."""
    key_id, pem, vkey = person.supervision().public_key()
    return {"key_id": key_id, "pem": pem.decode("ascii"), "vkey": vkey}


@router.post("/audit/head")
def sign_head(person: Person = Depends(api_person)) -> dict[str, Any]:
    """Sign a tree head now (or the latest if no event is new)."""
    return person.supervision().sign_head().to_dict()


class Prove(BaseModel):
    seq: int = Field(ge=0)


@router.post("/audit/prove")
def prove(body: Prove, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Inclusion proof of one event in the latest signed head."""
    return person.supervision().prove(body.seq).to_dict()


class EventSearch(BaseModel):
    actor: str | None = Field(default=None, max_length=64)
    patient: str | None = Field(default=None, max_length=64)
    action: str | None = Field(default=None, max_length=48)
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(default=100, ge=1, le=10_000)


@router.post("/audit/events")
def events(body: EventSearch, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Events newest first, filtered by actor, object id, action and time."""
    found = person.supervision().events(
        actor=body.actor,
        object_id=body.patient,
        action=body.action,
        since=body.since,
        until=body.until,
        limit=body.limit,
    )
    rows = [{"seq": seq, **json.loads(event.canonical())} for seq, event in found]
    return {"count": len(rows), "events": rows}


@router.get("/audit/log")
def log_snapshot(person: Person = Depends(api_person)) -> dict[str, Any]:
    """The signed heads as stored and the seq bound of a download (``size``)."""
    return person.supervision().log_snapshot().to_dict()


@router.get("/audit/log/events")
def log_page(
    start: int = Query(ge=0),
    stop: int = Query(ge=0),
    limit: int = Query(default=MAX_PAGE, ge=1, le=MAX_PAGE),
    person: Person = Depends(api_person),
) -> dict[str, Any]:
    """Stored rows of seqs [start, stop): bodies (base64), columns and object rows."""
    return person.supervision().log_page(start, stop, limit)


class FailureReport(BaseModel):
    problems: list[str] = Field(min_length=1, max_length=1001)


@router.post("/audit/verification-failure")
def verification_failure(
    body: FailureReport, person: Person = Depends(api_person)
) -> dict[str, Any]:
    """A verifier found the log altered: the critical alert is raised and the report logged."""
    alert = person.supervision().report_failure(body.problems)
    return {"alert": alert.id if alert is not None else None}


# -- alerts --------------------------------------------------------------------------
@router.get("/alerts")
def alerts(
    all_: bool = Query(default=False, alias="all"), person: Person = Depends(api_person)
) -> dict[str, Any]:
    """Open alerts newest first (``all=true``: acknowledged ones too)."""
    found = person.supervision().alerts(open_only=not all_)
    return {"count": len(found), "alerts": [a.to_dict() for a in found]}


class Acknowledge(BaseModel):
    alert: str = Field(min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=2000)


@router.post("/alerts/ack")
def acknowledge(body: Acknowledge, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Acknowledge an alert as this person: who, when and the note; once."""
    return person.supervision().acknowledge(body.alert, body.note).to_dict()


@router.get("/alerts/rules")
def rules(person: Person = Depends(api_person)) -> dict[str, Any]:
    """The rules and sinks in force in this service."""
    return person.supervision().rules_in_force()


# -- decoys --------------------------------------------------------------------------
class Plant(BaseModel):
    count: int = Field(ge=1, le=100_000)


@router.post("/decoys/plant")
def plant(body: Plant, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Add decoy patients; their ids are neither returned nor stored in clear."""
    planted, total = person.supervision().plant_decoys(body.count)
    return {"planted": planted, "total": total}


@router.get("/decoys/count")
def count(person: Person = Depends(api_person)) -> dict[str, Any]:
    """How many decoys the registry holds."""
    return {"total": person.supervision().decoy_count()}


# -- the register of processing (art. 30) ----------------------------------------------
@router.get("/register")
def processing_register(
    format: str = Query(default="md", pattern="^(md|pdf)$"),
    person: Person = Depends(api_person),
) -> dict[str, Any]:
    """The register of processing, built by the service: Markdown text or PDF in base64."""
    register = person.supervision().processing_register()
    pdf = format == "pdf"
    return {
        "title": register.title,
        "markdown": None if pdf else register.to_markdown(),
        "pdf": base64.b64encode(register.to_pdf()).decode("ascii") if pdf else None,
        "core_font": font_files() is None,
    }
