"""The 72-hour deadline of GDPR art. 33(1): counted in hours from discovery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from etanche.leak.incident import Circumstances, Entry, Incident, countdown, notification_deadline

PARIS = ZoneInfo("Europe/Paris")


def test_the_deadline_is_72_hours_after_discovery() -> None:
    found = datetime(2025, 11, 3, 9, 30, tzinfo=PARIS)
    assert notification_deadline(found) == datetime(2025, 11, 6, 9, 30, tzinfo=PARIS)


def test_72_hours_are_not_three_calendar_days_across_a_clock_change() -> None:
    # Summer time ends on 26 October 2025 in Paris: 72 hours later reads 11:00, not 12:00.
    found = datetime(2025, 10, 24, 12, 0, tzinfo=PARIS)
    deadline = notification_deadline(found)
    assert deadline - found == timedelta(hours=72)
    assert deadline.astimezone(PARIS).hour == 11


def test_a_naive_discovery_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        notification_deadline(datetime(2025, 11, 3, 9, 30))


def test_countdown_reads_in_days_hours_and_minutes() -> None:
    deadline = datetime(2025, 11, 6, 9, 30, tzinfo=UTC)
    left = countdown(deadline, deadline - timedelta(hours=71, minutes=59))
    assert not left.overdue
    assert left.english() == "2d 23h 59min left"
    assert left.french() == "reste 2 j 23 h 59 min"
    late = countdown(deadline, deadline + timedelta(hours=5, minutes=3))
    assert late.overdue and late.english() == "overdue by 5h 3min"
    assert late.french() == "dépassé de 5 h 3 min"
    assert countdown(deadline, deadline - timedelta(minutes=7)).english() == "7min left"


def _incident(discovered: datetime, filed: datetime | None = None) -> Incident:
    return Incident(
        id="INC-20251103-abcdef",
        state="open",
        title="Fichier retrouvé",
        discovered_at=discovered,
        opened_at=discovered,
        opened_by="aleroux",
        circumstances=Circumstances(confidentiality="copied"),
        timeline=(Entry(discovered, "aleroux", "opened", "Incident ouvert."),),
        matched={"L01": ("a" * 32,)},
        reported_at=discovered,  # a draft written at once: it does not stop the clock
        notified_at=filed,
    )


def test_late_means_not_filed_before_the_deadline() -> None:
    found = datetime(2025, 11, 3, 9, 30, tzinfo=UTC)
    assert not _incident(found).late(found + timedelta(hours=71))
    assert _incident(found).late(found + timedelta(hours=72, seconds=1))
    assert not _incident(found, found + timedelta(hours=70)).late(found + timedelta(days=9))
    assert _incident(found, found + timedelta(hours=73)).late(found + timedelta(hours=73))


def test_the_document_body_round_trips() -> None:
    incident = _incident(datetime(2025, 11, 3, 9, 30, tzinfo=UTC))
    again = Incident.from_body(incident.id, incident.state, incident.body())
    assert again == incident
    assert again.matched_count == 1
