"""Dates as a French reader expects them: Paris time, the month in words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from etanche.domain import fr_long_date

__all__ = ["PARIS", "fr_date", "fr_datetime"]

PARIS = ZoneInfo("Europe/Paris")


def fr_date(moment: datetime) -> str:
    """« 2 décembre 2026 », « 1er mars 2026 »: how a French letter dates itself."""
    return fr_long_date(moment.astimezone(PARIS).date())


def fr_datetime(moment: datetime) -> str:
    """« 25 novembre 2025 à 14 h 05 » (heure de Paris)."""
    local = moment.astimezone(PARIS)
    return f"{fr_date(local)} à {local:%H} h {local:%M}"
