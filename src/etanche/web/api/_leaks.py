"""Exports, vault matching of a scan, and traces over JSON (the CLI's export, scan, trace).

Each route calls one ``LeakService`` operation. Identifiers travel in the body
and are never logged; files named by path are on the service's host.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from etanche.service import ExportAsked, LeakService, aware_iso
from etanche.web._auth import api_person
from etanche.web._state import Person
from etanche.web.api._common import Progress, streamed
from etanche.web.api._migrations import PlanBody

router = APIRouter(tags=["leaks"])

MAX_IDENTIFIERS = 5_000_000
_PATH = 4096


class ExportBody(BaseModel):
    """The approved export plan, where to write and the format.

    The other fields are what the plan decides; they are accepted only so the
    service refuses them by name, with an audited event (no plan, no choice).
    """

    model_config = ConfigDict(extra="forbid")

    plan: PlanBody | None = None
    out: str = Field(max_length=_PATH, description="Absolute path on the service's host.")
    format: str = Field(default="csv", max_length=16)
    lab: str | None = Field(default=None, max_length=32)
    recipient: str | None = Field(default=None, max_length=200)
    fields: str | None = Field(default=None, max_length=2000)
    marks: str | None = Field(default=None, max_length=200)
    canary_rate: float | None = None
    retention_days: int | None = None
    purpose: str | None = Field(default=None, max_length=500)
    plaintext: bool | None = None


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
    """Write an approved plan's lab, marked and age-encrypted, on the service's host."""
    decided = ("lab", "recipient", "fields", "marks", "canary_rate", "retention_days", "purpose")
    asked = ExportAsked(
        plan=body.plan.plan() if body.plan is not None else None,
        out=body.out,
        fmt=body.format,
        refused={name: getattr(body, name) for name in (*decided, "plaintext")},
    )
    job = leaks(person).export_job(asked)  # refused here: 403 before any streaming

    def work(progress: Progress) -> dict[str, Any]:
        entry = job(progress)
        return {
            "export_id": entry.export_id,
            "recipient": entry.recipient,
            "lab": entry.lab_id,
            "format": entry.format,
            "plan": body.plan.name if body.plan is not None else None,
            "encrypted_to": "age",
            "out": body.out,
            "rows": len(entry.rows),
            "canaries": len(entry.canaries),
            "marks": sorted(entry.mark.marks),
            "expires_at": aware_iso(entry.expires_at) if entry.expires_at else None,
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
