"""The per-row checks of verify: time columns and bodies judged as before, faster."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from etanche.audit._heads import format_time
from etanche.audit._scan import _same_time, scan


def test_a_timestamptz_equals_the_body_time_exactly_when_format_time_does() -> None:
    rng = random.Random(17)
    for _ in range(3000):
        at = datetime(
            rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
            rng.randint(0, 59), rng.randint(0, 59), rng.choice([0, rng.randint(0, 999_999)]),
            tzinfo=UTC,
        )  # fmt: skip
        body_at = format_time(at)
        zone = timezone(timedelta(minutes=rng.randint(-720, 720)))
        for column in (at, at.astimezone(zone), at.replace(tzinfo=None)):
            assert _same_time(column, body_at)
        other = at + timedelta(microseconds=rng.choice([1, -1, 1_000_000, 3_600_000_000]))
        for column in (other, other.astimezone(zone)):
            assert not _same_time(column, body_at)
        assert not _same_time(at, body_at[:-1] + "+")


BODY = (
    b'{"action":"patient.read","actor":"rec.0001","at":"2026-01-05T07:00:00.003548Z",'
    b'"objects":["a1"],"outcome":"ok","role":"reception","v":1}'
)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        BODY.replace(b'"actor":"rec.0001",', b""),
        BODY.replace(b'"2026-01-05T07:00:00.003548Z"', b"17"),
        BODY.replace(b'["a1"]', b'"a1"'),
        BODY + b"x",
    ],
)
def test_a_body_that_is_not_an_event_is_named(body: bytes) -> None:
    row = (0, "2026-01-05 07:00:00.003548", "rec.0001", "reception", "patient.read", "ok", body)
    problems: list[str] = []
    blocks = iter([(0, {0: ["a1"]})])
    seen = scan(iter([row]), blocks, set(), problems.append)
    assert seen.count == 1
    assert problems == ["seq 0: body is not a valid event"]


def test_an_honest_row_passes() -> None:
    row = (0, "2026-01-05 07:00:00.003548", "rec.0001", "reception", "patient.read", "ok", BODY)
    problems: list[str] = []
    seen = scan(iter([row]), iter([(0, {0: ["a1"]})]), {1}, problems.append)
    assert (
        not problems and seen.count == 1 and list(seen.tail) == [(0, "2026-01-05T07:00:00.003548Z")]
    )
