"""Exports, vault matching of a scan, and traces over JSON (the CLI's export, scan, trace).

Each route calls one ``LeakService`` operation. Identifiers travel in the body
and are never logged; files named by path are on the service's host.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from etanche.service import ExportAsked, LeakService
from etanche.web._auth import api_person
from etanche.web._state import Person
from etanche.web.api._common import Progress, streamed

router = APIRouter(tags=["leaks"])

MAX_IDENTIFIERS = 5_000_000
_PATH = 4096


class ExportBody(BaseModel):
    lab: str = Field(max_length=32)
    recipient: str = Field(max_length=200)
    out: str = Field(max_length=_PATH, description="Absolute path on the service's host.")
    format: str = Field(default="csv", max_length=16)
    marks: str | None = Field(default=None, max_length=200)
    canary_rate: float = 0.001  # bounds checked by the export, with its own message
    retention_days: int = 3650
    purpose: str = Field(default="export", max_length=500)
    fields: str | None = Field(default=None, max_length=2000)


class MatchBody(BaseModel):
    """A scan's rows: normalised NIR, name + birth date key, phone, e-mail (or null)."""

    identifiers: list[tuple[str | None, str | None, str | None, str | None]] = Field(
        max_length=MAX_IDENTIFIERS
    )
    files: int = Field(ge=0)
    tables: int = Field(ge=0)
    rows: int = Field(ge=0)


class TraceBody(BaseModel):
    paths: list[str] = Field(min_length=1, max_length=1000)
    html: bool = False


def leaks(person: Person) -> LeakService:
    """The person's leak operations on a request-scoped session holding no key yet."""
    return person.leaks()


@router.post("/exports")
def export(body: ExportBody, person: Person = Depends(api_person)) -> StreamingResponse:
    """Write a lab's marked file on the service's host; rows written are streamed."""
    asked = ExportAsked(
        lab=body.lab,
        recipient=body.recipient,
        out=body.out,
        fmt=body.format,
        marks=body.marks,
        canary_rate=body.canary_rate,
        retention_days=body.retention_days,
        purpose=body.purpose,
        fields=body.fields,
    )
    job = leaks(person).export_job(asked)  # refused here: 403 before any streaming

    def work(progress: Progress) -> dict[str, Any]:
        entry = job(progress)
        return {
            "export_id": entry.export_id,
            "recipient": entry.recipient,
            "lab": entry.lab_id,
            "format": entry.format,
            "out": body.out,
            "rows": len(entry.rows),
            "canaries": len(entry.canaries),
            "marks": sorted(entry.mark.marks),
            "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
        }

    return streamed(work)


@router.post("/leak/scan/match")
def match(body: MatchBody, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Our patients per lab among a scan's identifiers; the matched ids never leave."""
    counts = leaks(person).match(
        body.identifiers, files=body.files, tables=body.tables, rows=body.rows
    )
    return {"vault_matches": counts}


@router.post("/leak/trace")
def trace(body: TraceBody, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Name the export found files came from; the files are read on the service's host."""
    from etanche.leak.trace._report import render_html, to_dict

    traces = leaks(person).trace(body.paths)
    return {
        "files": [to_dict(t) for t in traces],
        "html": render_html(traces) if body.html else None,
    }
