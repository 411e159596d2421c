"""Audit-log helpers: synthetic events (pseudonymous ids only) and a fake clock."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from etanche.access import Action, Role
from etanche.audit import AuditEvent, Outcome

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
_ACTIONS = [a.value for a in (Action.PATIENT_READ, Action.PATIENT_SEARCH, Action.EXPORT_CREATE,
                              Action.LOGIN, Action.SPECIMEN_LIST)]  # fmt: skip
_ROLES = [r.value for r in Role]


class Clock:
    """A settable clock: heads and events get times the test controls."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class Events:
    """Distinct synthetic events; ``at`` follows the clock."""

    def __init__(self, clock: Clock, seed: int = 0) -> None:
        self.clock = clock
        self.rng = random.Random(seed)
        self.patients = [uuid.UUID(int=self.rng.getrandbits(128)).hex for _ in range(40)]
        self.count = 0

    def one(self, **overrides: object) -> AuditEvent:
        rng = self.rng
        self.count += 1
        self.clock.tick(0.001)
        fields: dict[str, object] = {
            "actor": f"user{rng.randint(1, 9)}",
            "role": rng.choice(_ROLES),
            "action": rng.choice(_ACTIONS),
            "outcome": Outcome.OK if rng.random() < 0.9 else Outcome.DENIED,
            "object_ids": tuple(rng.sample(self.patients, rng.randint(0, 3))),
            "purpose": rng.choice(["care", "billing", None]),
            "client": f"10.0.{rng.randint(0, 9)}.{rng.randint(1, 250)}",
            "details": {"n": self.count, "lab": f"L0{rng.randint(1, 4)}"},
            "at": self.clock.now,
        }
        fields.update(overrides)
        return AuditEvent(**fields)  # type: ignore[arg-type]

    def many(self, n: int) -> list[AuditEvent]:
        return [self.one() for _ in range(n)]


@pytest.fixture
def audit_clock() -> Clock:
    return Clock()


@pytest.fixture
def audit_events(audit_clock: Clock) -> Events:
    return Events(audit_clock)


@pytest.fixture(scope="session")
def event_maker() -> type[Events]:
    """The Events class itself, for module-scoped fixtures: ``event_maker(Clock())``."""
    return Events


@pytest.fixture(scope="session")
def clock_maker() -> type[Clock]:
    return Clock
