"""An incident as the DPO follows it: timeline, 72-hour deadline, what the scan found.

GDPR art. 33(1): the controller notifies the supervisory authority "without undue
delay and, where feasible, not later than 72 hours after having become aware"
of the breach; a later notification comes with the reasons for the delay. The
clock therefore starts at discovery, not at opening the incident here.

The whole incident is one sealed document (kind "incident"): the timeline and
notes may hold what the DPO writes, the scan report holds masked samples, and
the matched patient ids must never sit in clear.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from etanche.leak.incident._severity import Circumstances, Severity, assess, parse_circumstances

__all__ = [
    "CAUSES",
    "DEADLINE",
    "FOUND_ON",
    "KIND",
    "ONLINE",
    "Countdown",
    "Entry",
    "Filing",
    "Incident",
    "countdown",
    "notification_deadline",
]

KIND = "incident"
# Where the file was found (token -> French, as the draft says it); online places
# mean a publication to an unknown number of people, with intent (ENISA CB).
FOUND_ON: dict[str, str] = {
    "telegram": "sur une messagerie (Telegram)",
    "forum": "sur un forum en ligne",
    "paste": "sur un site de partage de texte (paste)",
    "web": "sur un site web public",
    "darkweb": "sur un site du dark web",
    "storage": "sur un serveur ou un espace de stockage (FTP, cloud) accessible sans autorisation",
    "device": "sur un support ou un appareil perdu ou volé",
    "email": "dans un courriel envoyé à un mauvais destinataire",
    "other": "ailleurs (voir la chronologie)",
}
ONLINE = frozenset({"telegram", "forum", "paste", "web", "darkweb"})
# The CNIL form's "cause": who, and whether on purpose.
CAUSES: dict[str, str] = {
    "internal-malicious": "acte interne malveillant",
    "internal-accidental": "acte interne accidentel",
    "external-malicious": "acte externe malveillant",
    "external-accidental": "acte externe accidentel",
    "unknown": "inconnue à ce stade",
}
DEADLINE = timedelta(hours=72)
OPEN, CLOSED = "open", "closed"


def notification_deadline(discovered_at: datetime) -> datetime:
    """72 hours after the controller became aware of the breach (art. 33(1))."""
    if discovered_at.tzinfo is None:
        raise ValueError("discovered_at must be timezone-aware")
    # in UTC: adding to a Paris wall time would count 73 hours across the autumn clock change
    return discovered_at.astimezone(UTC) + DEADLINE


@dataclass(frozen=True, slots=True)
class Countdown:
    """Time left before the deadline (negative once it has passed)."""

    left: timedelta

    @property
    def overdue(self) -> bool:
        return self.left < timedelta(0)

    def english(self) -> str:
        return (
            ("overdue by " if self.overdue else "")
            + _span(abs(self.left), "d", "h", "min")
            + ("" if self.overdue else " left")
        )

    def french(self) -> str:
        span = _span(abs(self.left), " j", " h", " min")
        return f"dépassé de {span}" if self.overdue else f"reste {span}"


def countdown(deadline: datetime, now: datetime | None = None) -> Countdown:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return Countdown(deadline.astimezone(UTC) - moment)


def _span(delta: timedelta, days: str, hours: str, minutes: str) -> str:
    total = int(delta.total_seconds()) // 60
    d, rest = divmod(total, 24 * 60)
    h, m = divmod(rest, 60)
    parts = ([f"{d}{days}"] if d else []) + ([f"{h}{hours}"] if d or h else []) + [f"{m}{minutes}"]
    return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the timeline. ``kind``: opened, scan, note, measure (done), planned,
    assessed, described, report, filed, notify, closed. ``text`` is French: it goes
    into the notification, never into a letter. ``covers``: the catalogue measure
    (``_measures.MEASURES``) a measure or plan stands for, so it is not proposed again."""

    at: datetime
    actor: str
    kind: str
    text: str
    covers: str | None = None

    def to_dict(self) -> dict[str, str]:
        out = {"at": self.at.isoformat(), "actor": self.actor, "kind": self.kind, "text": self.text}
        if self.covers:
            out["covers"] = self.covers
        return out

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Entry:
        return cls(
            datetime.fromisoformat(doc["at"]),
            doc["actor"],
            doc["kind"],
            doc["text"],
            doc.get("covers"),
        )


@dataclass(frozen=True, slots=True)
class Filing:
    """One notification filed with the CNIL (art. 33(4): an initial one, then supplements)."""

    at: datetime
    reference: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"at": self.at.isoformat(), "reference": self.reference}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Filing:
        return cls(datetime.fromisoformat(doc["at"]), doc.get("reference"))


@dataclass(frozen=True, slots=True)
class Incident:
    """The opened document, typed. ``matched``: lab -> pseudonymous patient ids.

    ``exposed``: patient id -> what that patient's own rows held (categories and
    ``health:<concept>`` tokens, never a value), so each letter tells its reader
    only what concerns them. ``notified_at``: when the DPO filed the notification
    with the CNIL (the draft's time is ``reported_at``); letters say so only then.
    """

    id: str
    state: str
    title: str
    discovered_at: datetime
    opened_at: datetime
    opened_by: str
    circumstances: Circumstances
    timeline: tuple[Entry, ...]
    report: Mapping[str, Any] | None = None
    matched: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    dpo_contact: str | None = None
    delay_reason: str | None = None
    reported_at: datetime | None = None
    letters: int | None = None
    exposed: Mapping[str, frozenset[str]] = field(default_factory=dict)
    notified_at: datetime | None = None
    filings: tuple[Filing, ...] = ()
    dpo_sex: str | None = None  # "F" or "M": "Déléguée" or "Délégué"
    started_at: datetime | None = None  # when the breach began, if known
    cause: str | None = None  # token of CAUSES
    exit_path: str | None = None  # how the data left (French, written by the DPO)
    found_on: str | None = None  # token of FOUND_ON

    @property
    def deadline(self) -> datetime:
        return notification_deadline(self.discovered_at)

    @property
    def is_open(self) -> bool:
        return self.state == OPEN

    @property
    def severity(self) -> Severity:
        return assess(self.report, self.circumstances, patients=self.matched_count)

    @property
    def matched_count(self) -> int:
        return sum(len(ids) for ids in self.matched.values())

    def late(self, now: datetime | None = None) -> bool:
        """Past the deadline without a notification filed before it (a draft does not count)."""
        moment = self.notified_at or now or datetime.now(UTC)
        return moment > self.deadline

    def body(self) -> dict[str, Any]:
        """The sealed document's body."""
        return {
            "v": 1,
            "title": self.title,
            "discovered_at": self.discovered_at.isoformat(),
            "opened_at": self.opened_at.isoformat(),
            "opened_by": self.opened_by,
            "circumstances": self.circumstances.tokens(),
            "timeline": [e.to_dict() for e in self.timeline],
            "report": dict(self.report) if self.report is not None else None,
            "matched": {lab: list(ids) for lab, ids in self.matched.items()},
            "dpo_contact": self.dpo_contact,
            "delay_reason": self.delay_reason,
            "reported_at": self.reported_at.isoformat() if self.reported_at else None,
            "letters": self.letters,
            "exposed": {pid: sorted(tokens) for pid, tokens in self.exposed.items()},
            "notified_at": self.notified_at.isoformat() if self.notified_at else None,
            "filings": [f.to_dict() for f in self.filings],
            "dpo_sex": self.dpo_sex,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "cause": self.cause,
            "exit_path": self.exit_path,
            "found_on": self.found_on,
        }

    @classmethod
    def from_body(cls, doc_id: str, state: str, body: Mapping[str, Any]) -> Incident:
        reported = body.get("reported_at")
        notified = body.get("notified_at")
        started = body.get("started_at")
        return cls(
            id=doc_id,
            state=state,
            title=body["title"],
            discovered_at=datetime.fromisoformat(body["discovered_at"]),
            opened_at=datetime.fromisoformat(body["opened_at"]),
            opened_by=body["opened_by"],
            circumstances=parse_circumstances(body.get("circumstances") or ()),
            timeline=tuple(Entry.from_dict(e) for e in body.get("timeline") or ()),
            report=body.get("report"),
            matched={lab: tuple(ids) for lab, ids in (body.get("matched") or {}).items()},
            dpo_contact=body.get("dpo_contact"),
            delay_reason=body.get("delay_reason"),
            reported_at=datetime.fromisoformat(reported) if reported else None,
            letters=body.get("letters"),
            exposed={pid: frozenset(t) for pid, t in (body.get("exposed") or {}).items()},
            notified_at=datetime.fromisoformat(notified) if notified else None,
            filings=tuple(Filing.from_dict(f) for f in body.get("filings") or ()),
            dpo_sex=body.get("dpo_sex"),
            started_at=datetime.fromisoformat(started) if started else None,
            cause=body.get("cause"),
            exit_path=body.get("exit_path"),
            found_on=body.get("found_on"),
        )
