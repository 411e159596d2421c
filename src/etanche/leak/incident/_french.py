"""Dates as a French reader expects them: Paris time, the month in words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

__all__ = ["PARIS", "fr_date", "fr_datetime"]

PARIS = ZoneInfo("Europe/Paris")
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


def fr_date(moment: datetime) -> str:
    """« 2 décembre 2026 », « 1er mars 2026 »: how a French letter dates itself."""
    local = moment.astimezone(PARIS)
    day = "1er" if local.day == 1 else str(local.day)
    return f"{day} {_MONTHS[local.month - 1]} {local.year}"


def fr_datetime(moment: datetime) -> str:
    """« 25 novembre 2025 à 14 h 05 » (heure de Paris)."""
    local = moment.astimezone(PARIS)
    return f"{fr_date(local)} à {local:%H} h {local:%M}"
