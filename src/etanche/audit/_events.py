"""The audit event: who did what to which pseudonymous object, why, and how it ended.

An event never holds a personal value: object ids are the vault's random ids,
``details`` holds counts, lab codes, index names, never searched values.
Its canonical JSON is the Merkle leaf, so the same event always hashes the same.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

DetailValue = str | int | float | bool | None
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


class Outcome(StrEnum):
    OK = "ok"
    DENIED = "denied"  # the policy said no
    FAILED = "failed"  # e.g. wrong password, integrity error
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    actor: str  # user name of a named person, or "system"
    role: str
    action: str  # an access.Action value
    outcome: Outcome
    object_ids: tuple[str, ...] = ()
    purpose: str | None = None
    client: str | None = None  # client address
    details: Mapping[str, DetailValue] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def canonical(self) -> bytes:
        """Deterministic JSON: sorted keys, no spaces, UTC time in microseconds."""
        doc: dict[str, Any] = {
            "v": 1,
            "at": format_at(self.at),
            "actor": self.actor,
            "role": self.role,
            "action": self.action,
            "outcome": self.outcome.value,
            "objects": list(self.object_ids),
            "purpose": self.purpose,
            "client": self.client,
            "details": dict(self.details),
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_canonical(cls, body: bytes) -> AuditEvent:
        doc = json.loads(body)
        return cls(
            actor=doc["actor"],
            role=doc["role"],
            action=doc["action"],
            outcome=Outcome(doc["outcome"]),
            object_ids=tuple(doc["objects"]),
            purpose=doc["purpose"],
            client=doc["client"],
            details=doc["details"],
            at=_parse_at(doc["at"]),
        )


def format_at(at: datetime) -> str:
    """The canonical time: ``strftime(_TIME)`` in UTC, through isoformat (several times faster).

    Every appended event pays this; strftime pads years below 1000 differently, so
    those keep it.
    """
    utc = at.astimezone(UTC)
    if utc.year < 1000:
        return utc.strftime(_TIME)
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _parse_at(text: str) -> datetime:
    """Read a canonical time: fromisoformat is ~10x faster than strptime.

    Alert windows read logged events back by the thousand; any other shape
    still goes through strptime and its exact format.
    """
    if len(text) == 27 and text[10] == "T" and text[-1] == "Z":
        return datetime.fromisoformat(text)
    return datetime.strptime(text, _TIME).replace(tzinfo=UTC)
