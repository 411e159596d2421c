"""Migrations over JSON: plan, approve, check, run, import, close, certificate, status.

A plan travels as its YAML text with the absolute folder it was read from;
the service reads the plan's sources and writes the package on its own host.
Long operations (check, run, import) stream their progress as NDJSON.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from etanche.service import MigrationService, PlanText, aware_iso
from etanche.web._auth import api_person
from etanche.web._state import Person
from etanche.web.api._common import Progress, streamed

router = APIRouter(tags=["migrations"])

_PATH = 4096
_PLAN_TEXT = 1_000_000  # a plan is a page of YAML; this bounds what one request parses
_WORKERS = 16


class PlanBody(BaseModel):
    """A plan file as read by the client: its text, its name and its absolute folder."""

    text: str = Field(max_length=_PLAN_TEXT)
    name: str = Field(min_length=1, max_length=_PATH)
    folder: str = Field(min_length=1, max_length=_PATH)

    def plan(self) -> PlanText:
        return PlanText(self.text, self.name, self.folder)


class CheckBody(PlanBody):
    workers: int = Field(default=1, ge=0, le=_WORKERS)
    html: bool = False


class RunBody(PlanBody):
    out: str = Field(min_length=1, max_length=_PATH)
    workers: int = Field(default=1, ge=0, le=_WORKERS)


class ImportBody(BaseModel):
    """A received package on the service's host, the recipient's identity, the pinned key."""

    package: str = Field(min_length=1, max_length=_PATH)
    identity: str = Field(min_length=1, max_length=65_536)
    signer_key_pem: str | None = Field(default=None, max_length=65_536)
    workers: int = Field(default=1, ge=0, le=_WORKERS)


def _service(person: Person) -> MigrationService:
    """On a request-scoped vault session holding no key until the policy grants one."""
    return person.migrations()


@router.post("/migrations/plan")
def register(body: PlanBody, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Register a plan (again): it waits for its two named approvers."""
    record, approvers = _service(person).register(body.plan())
    return {
        "plan": record.id,
        "sha256": record.sha256,
        "state": record.state,
        "approvers": list(approvers),
    }


@router.post("/migrations/approve")
def approve(body: PlanBody, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Approve a registered plan as one of its named approvers (signed)."""
    record = _service(person).approve(body.plan())
    return {"plan": record.id, "state": record.state, "approved_by": person.actor.username}


@router.post("/migrations/check")
def check(body: CheckBody, person: Person = Depends(api_person)) -> StreamingResponse:
    """Dry run over the whole source; the report (and its HTML if asked) at the end."""
    service = _service(person)

    def work(progress: Progress) -> dict[str, Any]:
        report = service.check(body.plan(), workers=body.workers, progress=progress)
        result: dict[str, Any] = {"report": report.to_dict()}
        if body.html:
            result["html"] = report.to_html()
        return result

    return streamed(work)


@router.post("/migrations/run")
def run(body: RunBody, person: Person = Depends(api_person)) -> StreamingResponse:
    """Build (or resume) the package of an approved plan in ``out`` on the service's host."""
    service = _service(person)

    def work(progress: Progress) -> dict[str, Any]:
        result = service.run(body.plan(), body.out, workers=body.workers, progress=progress)
        return {
            "package": result.package_id,
            "directory": str(result.directory),
            "records": result.records,
            "canaries": result.canaries,
            "parts": result.parts,
            "resumed_parts": result.resumed_parts,
            "content_sha256": result.content_sha256,
        }

    return streamed(work)


@router.post("/migrations/import")
def import_package(body: ImportBody, person: Person = Depends(api_person)) -> StreamingResponse:
    """Verify a received package against the pinned key and import it, all or nothing."""
    service = _service(person)

    def work(progress: Progress) -> dict[str, Any]:
        report, pinned = service.import_package(
            body.package,
            body.identity,
            body.signer_key_pem,
            workers=body.workers,
            progress=progress,
        )
        data = report.to_dict()
        data["signature"] = "pinned key" if pinned else "key in the manifest (not pinned)"
        return data

    return streamed(work)


@router.post("/migrations/{plan_id}/close")
def close(plan_id: str, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Destroy the plan's packages and keys; the signed deletion certificate."""
    return _service(person).close(plan_id)


@router.post("/migrations/{plan_id}/certificate")
def certificate(plan_id: str, person: Person = Depends(api_person)) -> dict[str, Any]:
    """The signed deletion certificate of a closed plan."""
    return _service(person).certificate(plan_id)


@router.get("/migrations/signer-key")
def signer_key(person: Person = Depends(api_person)) -> dict[str, Any]:
    """The network's package signing key (PEM): recipients pin it (`--signer-key`)."""
    key_id, pem = _service(person).signer_key()
    return {"key_id": key_id, "pem": pem.decode("ascii")}


@router.get("/migrations")
def status(person: Person = Depends(api_person)) -> dict[str, Any]:
    """Plans, their approvals and expiry."""
    records = _service(person).status()
    return {
        "plans": [
            {
                "plan": r.id,
                "state": r.state,
                "sha256": r.sha256,
                "approvals": [a["username"] for a in r.approvals],
                "expires_at": aware_iso(r.expires_at) if r.expires_at else None,
                "recipients": list(r.recipients),
            }
            for r in records
        ]
    }
