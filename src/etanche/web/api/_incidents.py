"""Incidents over JSON: the DPO's breach workflow (GDPR art. 33 and 34).

Each route calls one ``IncidentService`` operation. The art. 33 draft comes
back in the answer (Markdown text, PDF in base64) for the client to write; the
letters, which hold names and addresses, are written by the service into the
absolute folder given, on its own host (0700, files 0600).
"""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from etanche.errors import UsageError
from etanche.leak.incident import font_files, parse_circumstances
from etanche.service import IncidentService, incident_detail, incident_summary
from etanche.web._auth import api_person
from etanche.web._state import Person
from etanche.web.api._common import Progress, streamed

router = APIRouter(tags=["incidents"])

MAX_ID = 64
_CIRCUMSTANCES = 20
_IDENTIFIERS = 5_000_000


class OpenBody(BaseModel):
    title: str = Field(max_length=1000)
    discovered_at: datetime | None = None
    circumstances: list[str] | None = Field(default=None, max_length=_CIRCUMSTANCES)
    dpo_contact: str | None = Field(default=None, max_length=1000)
    report: dict[str, Any] | None = None
    identifiers: list[tuple[str | None, str | None, str | None, str | None]] | None = Field(
        default=None, max_length=_IDENTIFIERS
    )
    # parallel to identifiers: what each row held (categories, health:<concept>), space-joined
    exposures: list[str] | None = Field(default=None, max_length=_IDENTIFIERS)
    found_on: str | None = Field(default=None, max_length=32)
    dpo_sex: str | None = Field(default=None, max_length=8)


class NoteBody(BaseModel):
    text: str = Field(max_length=10_000)
    measure: bool = False
    planned: bool = False
    covers: str | None = Field(default=None, max_length=32)


class DescribeBody(BaseModel):
    started_at: datetime | None = None
    cause: str | None = Field(default=None, max_length=32)
    exit_path: str | None = Field(default=None, max_length=10_000)
    found_on: str | None = Field(default=None, max_length=32)
    dpo_sex: str | None = Field(default=None, max_length=8)


class FiledBody(BaseModel):
    at: datetime | None = Field(default=None, description="When it was filed (default: now).")
    reference: str | None = Field(default=None, max_length=200)


class AssessBody(BaseModel):
    circumstances: list[str] = Field(default_factory=list, max_length=_CIRCUMSTANCES)


class ReportBody(BaseModel):
    markdown: bool = True
    pdf: bool = False
    delay_reason: str | None = Field(default=None, max_length=10_000)
    dpo_contact: str | None = Field(default=None, max_length=1000)
    dpo_sex: str | None = Field(default=None, max_length=8)


class NotifyBody(BaseModel):
    out: str = Field(max_length=4096, description="Absolute folder on the service's host.")
    dpo_contact: str | None = Field(default=None, max_length=1000)
    batch: int = Field(default=500, ge=1, le=5000)
    dpo_sex: str | None = Field(default=None, max_length=8)


def incidents(person: Person) -> IncidentService:
    """The person's incident operations on a session holding no key yet (pages too)."""
    return person.incidents()


@router.post("/incidents")
def open_incident(body: OpenBody, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Open an incident; a scan's report and identifiers are matched as ``leak.scan``."""
    if body.discovered_at is not None and body.discovered_at.tzinfo is None:
        raise UsageError("discovered at: give a time zone (e.g. 2025-11-03T09:30+01:00)")
    incident = incidents(person).open(
        body.title,
        discovered_at=body.discovered_at,
        circumstances=parse_circumstances(body.circumstances) if body.circumstances else None,
        dpo_contact=body.dpo_contact,
        report=body.report,
        identifiers=body.identifiers,
        row_exposures=body.exposures,
        found_on=body.found_on,
        dpo_sex=body.dpo_sex,
    )
    return incident_summary(incident)


@router.get("/incidents")
def list_incidents(person: Person = Depends(api_person)) -> dict[str, Any]:
    """Incidents, newest first."""
    found = reversed(incidents(person).list())
    return {"incidents": [incident_summary(i) for i in found]}


@router.get("/incidents/{incident_id}")
def show(incident_id: str, person: Person = Depends(api_person)) -> dict[str, Any]:
    """One incident: severity with its reasons, the timeline; never a patient id."""
    return incident_detail(incidents(person).get(incident_id[:MAX_ID]))


@router.post("/incidents/{incident_id}/notes")
def note(incident_id: str, body: NoteBody, person: Person = Depends(api_person)) -> dict[str, Any]:
    incident = incidents(person).note(
        incident_id[:MAX_ID],
        body.text,
        measure=body.measure,
        planned=body.planned,
        covers=body.covers,
    )
    return incident_summary(incident) | {"timeline_entries": len(incident.timeline)}


@router.post("/incidents/{incident_id}/describe")
def describe(
    incident_id: str, body: DescribeBody, person: Person = Depends(api_person)
) -> dict[str, Any]:
    """The facts of the CNIL form beside the scan: start, cause, exit path, where found."""
    incident = incidents(person).describe(
        incident_id[:MAX_ID],
        started_at=body.started_at,
        cause=body.cause,
        exit_path=body.exit_path,
        found_on=body.found_on,
        dpo_sex=body.dpo_sex,
    )
    return incident_detail(incident)


@router.post("/incidents/{incident_id}/filed")
def filed(
    incident_id: str, body: FiledBody, person: Person = Depends(api_person)
) -> dict[str, Any]:
    """Record a notification filed with the CNIL (the first initial, then supplements)."""
    incident = incidents(person).filed(incident_id[:MAX_ID], body.at, reference=body.reference)
    return incident_summary(incident) | {"filings": [f.to_dict() for f in incident.filings]}


@router.post("/incidents/{incident_id}/assess")
def assess(
    incident_id: str, body: AssessBody, person: Person = Depends(api_person)
) -> dict[str, Any]:
    return incident_summary(incidents(person).assess(incident_id[:MAX_ID], body.circumstances))


@router.post("/incidents/{incident_id}/close")
def close(incident_id: str, person: Person = Depends(api_person)) -> dict[str, Any]:
    return incident_summary(incidents(person).close(incident_id[:MAX_ID]))


@router.post("/incidents/{incident_id}/report")
def report(
    incident_id: str, body: ReportBody, person: Person = Depends(api_person)
) -> dict[str, Any]:
    """The art. 33 draft (recorded as drafted): Markdown text and/or PDF in base64."""
    if not (body.markdown or body.pdf):
        raise UsageError("report: ask for the Markdown and/or the PDF")
    draft = incidents(person).draft(
        incident_id[:MAX_ID],
        delay_reason=body.delay_reason,
        dpo_contact=body.dpo_contact,
        dpo_sex=body.dpo_sex,
    )
    markdown = draft.to_markdown()
    return {
        "incident": draft.incident_id,
        "late": draft.late,
        "incomplete": "À COMPLÉTER" in markdown,
        "markdown": markdown if body.markdown else None,
        "pdf": base64.b64encode(draft.to_pdf()).decode("ascii") if body.pdf else None,
        "core_font": font_files() is None,
    }


@router.post("/incidents/{incident_id}/notify")
def notify(
    incident_id: str, body: NotifyBody, person: Person = Depends(api_person)
) -> StreamingResponse:
    """Art. 34 letters into a folder of the service's host; letters written are streamed."""
    out = Path(body.out)
    if not out.is_absolute():
        raise UsageError(f"--out: {body.out}: give an absolute path on the service's host")
    job, count = incidents(person).letters_job(
        incident_id[:MAX_ID],
        out,
        dpo_contact=body.dpo_contact,
        batch=body.batch,
        dpo_sex=body.dpo_sex,
    )

    def work(progress: Progress) -> dict[str, Any]:
        run = job(progress)
        return {
            "incident": incident_id[:MAX_ID],
            "out": body.out,
            "considered": count,
            "letters": run.letters,
            "files": list(run.files),
            "without_address": run.without_address,
        }

    return streamed(work)
