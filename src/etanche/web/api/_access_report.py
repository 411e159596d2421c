"""Patients' rights over JSON: the art. 15 access report and the list of who opened a record.

The patient id and the passphrase travel in POST bodies, never in a URL; the
service decides, builds, encrypts and audits; this route only encodes bytes.
"""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from etanche.leak.incident import font_files
from etanche.web._auth import api_person
from etanche.web._state import Person

router = APIRouter(tags=["rights"])


class Record(BaseModel):
    patient: str = Field(min_length=1, max_length=64)


class AccessReportAsk(Record):
    passphrase: str | None = Field(default=None, max_length=1024)
    recipient: str | None = Field(default=None, max_length=256)
    printed: bool = False


@router.post("/rights/access-report")
def access_report(body: AccessReportAsk, person: Person = Depends(api_person)) -> dict[str, Any]:
    """The PDF and FHIR Bundle, encrypted to the passphrase or recipient, or the PDF for print."""
    delivery = person.access_reports().produce(
        body.patient, passphrase=body.passphrase, recipient=body.recipient, printed=body.printed
    )
    return {
        "files": {n: base64.b64encode(data).decode("ascii") for n, data in delivery.files.items()},
        "entries": delivery.entries,
        "tree_size": delivery.tree_size,
        "encrypted": delivery.encrypted,
        "core_font": font_files() is None,
    }


@router.post("/rights/accesses")
def accesses(body: Record, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Every logged event naming the record, oldest first (no patient value)."""
    found = person.access_reports().accesses(body.patient)
    return {
        "accesses": [
            {
                "seq": a.seq,
                "at": a.at.isoformat(),
                "actor": a.actor,
                "role": a.role,
                "lab": a.lab,
                "action": a.action,
                "outcome": a.outcome,
                "purpose": a.purpose,
            }
            for a in found
        ]
    }
