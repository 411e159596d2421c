"""Patients' rights requests: kinds, statuses, identity documents and the deadlines.

Pure rules of GDPR art. 12(3): an answer within one month of receipt, extendable
once by two further months. A deadline runs to the end of its day, Paris time
(a request received on 3 December is due by 3 January, 23:59:59 in Paris).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "DOCUMENTS",
    "KINDS",
    "OUTCOMES",
    "PARIS",
    "STATUSES",
    "add_months",
    "days_left",
    "due_at",
    "end_of_duty",
    "extended_due",
    "first_due",
    "fr_long_date",
    "paris_day",
]

PARIS = ZoneInfo("Europe/Paris")

# kind -> (French name, article)
KINDS: dict[str, tuple[str, str]] = {
    "access": ("accès", "art. 15"),
    "rectification": ("rectification", "art. 16"),
    "erasure": ("effacement", "art. 17"),
    "restriction": ("limitation du traitement", "art. 18"),
    "objection": ("opposition", "art. 21"),
}

STATUSES: dict[str, str] = {
    "received": "reçue",
    "identity_verified": "identité vérifiée",
    "in_progress": "en cours",
    "extended": "prolongée",
    "closed": "close",
}

OUTCOMES: dict[str, str] = {"granted": "accordée", "refused": "refusée"}

# the kind of document seen to check the requester's identity (never the document)
DOCUMENTS: dict[str, str] = {
    "id_card": "carte nationale d'identité",
    "passport": "passeport",
    "residence_permit": "titre de séjour",
    "driving_licence": "permis de conduire",
    "in_person": "présentation en personne au laboratoire",
}

INITIAL_MONTHS = 1
EXTENSION_MONTHS = 2


_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def fr_long_date(day: date) -> str:
    """« 3 janvier 2027 », « 1er mars 2026 »: a date as a French letter writes it."""
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {_MONTHS[day.month - 1]} {day.year}"


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months, clamped to the month's last day (31 Jan + 1 = 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def paris_day(moment: datetime) -> date:
    """The day in Paris (a naive time is taken as Paris wall time already)."""
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(PARIS).date()


def due_at(day: date) -> datetime:
    """The end of ``day`` in Paris, as UTC: the last moment an answer is on time."""
    end = datetime.combine(day, time(23, 59, 59), tzinfo=PARIS)
    return end.astimezone(UTC)


def first_due(received: datetime) -> date:
    """One month from receipt (art. 12(3))."""
    return add_months(paris_day(received), INITIAL_MONTHS)


def extended_due(first: date) -> date:
    """The one extension: two further months from the first deadline."""
    return add_months(first, EXTENSION_MONTHS)


def days_left(due: date, now: datetime) -> int:
    """Whole days from today (Paris) to the deadline; negative once past."""
    return (due - paris_day(now)).days


def end_of_duty(start: date, amount: int, unit: str) -> date:
    """When a retention duty started on ``start`` for ``amount`` units (d, mo, y) ends."""
    if unit == "d":
        return start + timedelta(days=amount)
    return add_months(start, amount * (12 if unit == "y" else 1))
