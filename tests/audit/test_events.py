"""The canonical event: its time text is exactly what strftime gave (bodies hash the same)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from etanche.audit._events import _TIME, format_at

_ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-9, minutes=-30))]
)


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=_ZONES)
)
def test_the_fast_time_text_is_the_strftime_text(at: datetime) -> None:
    assert format_at(at) == at.astimezone(UTC).strftime(_TIME)


def test_whole_seconds_keep_their_microseconds() -> None:
    at = datetime(2026, 12, 3, 9, 5, tzinfo=UTC)
    assert format_at(at) == "2026-12-03T09:05:00.000000Z"
