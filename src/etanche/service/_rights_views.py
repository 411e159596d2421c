"""What the adapters show of a rights request: plain JSON-able views, French labels.

The CLI prints them, the pages render them; neither computes a deadline or a
status label of its own. Dates are Paris dates (``03/01/2027``), days left are
counted in Paris days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from etanche.domain import (
    DOCUMENTS,
    KINDS,
    OUTCOMES,
    PARIS,
    STATUSES,
    days_left,
    fr_long_date,
    paris_day,
)
from etanche.vault import StoredRequest

__all__ = ["request_detail", "request_summary"]


def _fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def request_summary(stored: StoredRequest, now: datetime | None = None) -> dict[str, Any]:
    """One line of the list: kind, status, receipt, deadline and days left."""
    moment = now or datetime.now(UTC)
    due = date.fromisoformat(stored.body["due"])
    received = stored.received_at.astimezone(UTC)
    outcome = stored.body.get("outcome")
    name, article = KINDS[stored.kind]
    left = None if stored.status == "closed" else days_left(due, moment)
    status_fr = STATUSES[stored.status]
    if outcome:
        status_fr = f"{status_fr} : {OUTCOMES[outcome]}"
    return {
        "id": stored.id,
        "kind": stored.kind,
        "kind_fr": f"{name} ({article})",
        "status": stored.status,
        "status_fr": status_fr,
        "outcome": outcome,
        "lab": stored.lab_id,
        "record": stored.patient_id,
        "received": received.isoformat(),
        "received_fr": _fr(_paris(received)),
        "due": due.isoformat(),
        "due_fr": _fr(due),
        "due_long_fr": fr_long_date(due),
        "days_left": left,
        "overdue": left is not None and left < 0,
        "extended": stored.body.get("extension") is not None,
    }


def request_detail(stored: StoredRequest, now: datetime | None = None) -> dict[str, Any]:
    """Everything the DPO sees of a request: contact, identity check, extension, answer."""
    body = stored.body
    identity = body.get("identity")
    extension = body.get("extension")
    detail = request_summary(stored, now) | {
        "contact": body.get("contact"),
        "note": body.get("note"),
        "registered_by": body.get("registered_by"),
        "first_due": body.get("first_due"),
        "reason": body.get("reason"),
        "legal": body.get("legal"),
        "identity": None,
        "extension": None,
        "timeline": [
            {**entry, "at_fr": _moment_fr(entry["at"])} for entry in body.get("timeline", [])
        ],
    }
    if identity:
        detail["identity"] = identity | {
            "document_fr": DOCUMENTS[identity["document"]],
            "at_fr": _moment_fr(identity["at"]),
        }
    if extension:
        told = date.fromisoformat(extension["told_on"])
        detail["extension"] = extension | {
            "told_fr": _fr(told),
            "at_fr": _moment_fr(extension["at"]),
        }
    return detail


def _paris(moment: datetime) -> date:
    return paris_day(moment)


def _moment_fr(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(PARIS).strftime("%d/%m/%Y %H:%M")
