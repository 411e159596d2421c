"""The alert engine (F8): each audit event meets the rules; each breach alerts once.

Windowed rules (bulk reads, failed logins) keep their recent history in memory
and top it up from the ``audit_events`` table before deciding, so that the
events another process logged (another web worker, the CLI) count too, and a
restarted process rebuilds its windows from the log instead of starting blind.
An alert is written to the ``alerts`` table first, then handed to every sink:
a sink that fails loses nothing (the row is there) and is reported.

Dedup: every alert stores ``rule|subject|bucket`` in ``dedup_key``. The bucket
is either a fixed label of the breach (one night off hours, one export event),
or the time the breach started: a further breach of the same rule and subject
within the rule's window is the same breach. Check and insert run under a lock
(an advisory lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so two
processes seeing the same breach still write one alert.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import threading
import uuid
from bisect import bisect_left, bisect_right
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    Select,
    bindparam,
    insert,
    select,
    text,
    update,
)

from etanche.audit._events import AuditEvent, Outcome
from etanche.audit._rules import OffHours, Rule, RuleSet, Severity, format_duration, read_config
from etanche.audit._schema import alerts as alerts_table
from etanche.audit._schema import audit_events
from etanche.audit._sinks import Sink, build_sinks
from etanche.errors import RecordNotFound, UsageError
from etanche.names import Action, Role

__all__ = ["Alert", "AlertEngine", "Clock", "SinkFailure"]

log = logging.getLogger("etanche.audit.alerts")

Clock = Callable[[], datetime]

_STAMP = "%Y%m%dT%H%M%S%fZ"
_PG_LOCK = 0x45_54_41_4E_43_48_41_4C  # "ETANCHAL": one advisory lock for alert writes
_MAX_TRACKS = 4_096  # windows kept in memory; an evicted one is rebuilt from the log
_COMPACT = 1_024  # entries a window may leave behind before they are dropped
_MAX_KNOWN = 16_384
_MAX_FAILURES = 1_000
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_DIGIT_RUN = re.compile(r"\d{6}")  # NIR, phone, birth date: not part of a user name
_VERIFICATION_BUCKET = "failed"
_ROLES = frozenset(role.value for role in Role)
_ACCOUNT_VERBS = {
    "add": "created",
    "role": "asked for a new role for",
    "approve": "approved the request for",
    "refuse": "refused the request for",
    "disable": "disabled",
    "reset-password": "reset the password of",
    "reset-totp": "reset the TOTP of",
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    """Aware UTC; SQLite hands back naive datetimes that were written as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _stamp(value: datetime) -> str:
    return _utc(value).strftime(_STAMP)


def _unstamp(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, _STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Alert:
    """One raised alert. ``summary`` is English and holds ids and counts, never a personal value."""

    id: str
    rule: str
    severity: Severity
    created_at: datetime
    actor: str | None
    summary: str
    event_seq: int | None
    dedup_key: str
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    ack_note: str | None = None

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able view: what sinks send and ``alerts list --json`` prints."""
        return {
            "id": self.id,
            "rule": self.rule,
            "severity": self.severity.value,
            "created_at": _utc(self.created_at).isoformat(),
            "actor": self.actor,
            "summary": self.summary,
            "event_seq": self.event_seq,
            "acknowledged_at": (
                _utc(self.acknowledged_at).isoformat() if self.acknowledged_at else None
            ),
            "acknowledged_by": self.acknowledged_by,
            "ack_note": self.ack_note,
        }

    def to_json(self) -> bytes:
        """Compact, sorted-key UTF-8 JSON: the exact bytes a webhook signs."""
        return json.dumps(
            self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()


@dataclass(frozen=True, slots=True)
class SinkFailure:
    """A sink that could not deliver an alert; the alert itself is safe in the table."""

    sink: str
    alert_id: str
    error: str
    at: datetime


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A breach found by a rule, before dedup decides whether it is new."""

    rule: Rule[Any]
    subject: str
    actor: str | None
    summary: str
    at: datetime
    bucket: str | None = None  # fixed label of the breach, or None: an episode in time
    window: timedelta = timedelta(0)  # episode: breaches closer than this are one
    new_episode: bool = False  # start an episode even if one is running
    open_only: bool = False  # fixed label: only an unacknowledged alert suppresses


@dataclass(frozen=True, slots=True)
class _LoginGroup:
    """Failed logins counted together: one account, or one client address."""

    window_key: str  # the raw value: two unprintable names must not share a window
    subject: str  # printable, for the dedup key
    wording: str
    filters: list[ColumnElement[bool]]
    accept: Callable[[AuditEvent], bool]


class _Track:
    """Recent matching events of one subject for one windowed rule, sorted by time.

    The counts of the current window ``[since, until]`` are kept up to date as
    entries enter and leave it, so observing an event costs a binary search plus
    the entries that moved, not a pass over the window: a busy person's hour
    can hold thousands of events, and a server observes every one of them.
    Entries later than the window (a committed batch read back from the table
    before its last events are observed) wait outside it until their turn.
    """

    __slots__ = (
        "bodies",
        "complete",
        "counts",
        "hi",
        "keys",
        "lo",
        "objects",
        "query",
        "synced_seq",
        "times",
    )

    def __init__(self) -> None:
        self.times: list[datetime] = []
        self.objects: list[tuple[str, ...]] = []
        self.bodies: list[bytes] = []
        # canonical bodies: one event is counted once, from observe() or the table
        self.keys: set[bytes] = set()
        self.lo = 0  # the window is times[lo:hi]
        self.hi = 0
        self.counts: dict[str, int] = {}  # object id -> entries of the window holding it
        self.synced_seq: int | None = None
        # every matching event up to this seq is in the track (read back or observed)
        self.complete: int | None = None
        # the read-back of this track's events, built once: its compiled form is cached
        self.query: Select[Any] | None = None

    def add(self, body: bytes, at: datetime, objects: tuple[str, ...]) -> None:
        if body in self.keys:
            return
        self.keys.add(body)
        pos = bisect_right(self.times, at)
        self.times.insert(pos, at)
        self.objects.insert(pos, objects)
        self.bodies.insert(pos, body)
        if pos < self.lo:
            self.lo += 1
            self.hi += 1
        elif pos < self.hi:
            self.hi += 1
            self._enter(pos)

    def window(self, since: datetime, until: datetime) -> None:
        """Move the window to the entries timed within ``[since, until]``."""
        lo = bisect_left(self.times, since)
        hi = max(lo, bisect_right(self.times, until))
        if lo >= self.hi or hi <= self.lo:  # no overlap: start over
            self.counts.clear()
            for i in range(lo, hi):
                self._enter(i)
        else:
            for i in range(self.lo, lo):
                self._leave(i)
            for i in range(lo, self.lo):
                self._enter(i)
            for i in range(hi, self.hi):
                self._leave(i)
            for i in range(self.hi, hi):
                self._enter(i)
        self.lo, self.hi = lo, hi
        if lo > _COMPACT and 2 * lo > len(self.times):  # forget what the window left behind
            self.keys.difference_update(self.bodies[:lo])
            del self.times[:lo], self.objects[:lo], self.bodies[:lo]
            self.lo, self.hi = 0, hi - lo

    def distinct(self) -> int:
        """Distinct object ids in the window."""
        return len(self.counts)

    def count(self) -> int:
        """Events in the window."""
        return self.hi - self.lo

    def _enter(self, i: int) -> None:
        counts = self.counts
        for oid in self.objects[i]:
            counts[oid] = counts.get(oid, 0) + 1

    def _leave(self, i: int) -> None:
        counts = self.counts
        for oid in self.objects[i]:
            left = counts[oid] - 1
            if left:
                counts[oid] = left
            else:
                del counts[oid]


class AlertEngine:
    """Evaluates the rules on audit events, records alerts once, dispatches them."""

    def __init__(
        self,
        engine: Engine,
        rules: RuleSet,
        sinks: Sequence[Sink] = (),
        *,
        clock: Clock | None = None,
    ) -> None:
        self._engine = engine
        self.rules = rules
        self.sinks: tuple[Sink, ...] = tuple(sinks)
        self._clock: Clock = clock or _utc_now
        self._lock = threading.RLock()
        self._tracks: OrderedDict[tuple[str, str], _Track] = OrderedDict()
        # the latest run of consecutive seqs this engine observed: no other writer's
        # event lies within it, so a track complete up to its start needs no read-back
        self._run: tuple[int, int] | None = None
        self._known: OrderedDict[str, None] = OrderedDict()  # fixed keys already alerted
        self._episodes: OrderedDict[str, datetime] = OrderedDict()  # "rule|subject|" -> start
        self.failures: deque[SinkFailure] = deque(maxlen=_MAX_FAILURES)

    @classmethod
    def from_config(
        cls, engine: Engine, path: str | Path | None = None, *, clock: Clock | None = None
    ) -> AlertEngine:
        """Rules and sinks of a rules file (the packaged defaults when ``path`` is None)."""
        config = read_config(path)
        return cls(engine, config.rules, build_sinks(config), clock=clock)

    # -- evaluation --------------------------------------------------------------
    def observe(
        self, event: AuditEvent, *, seq: int | None = None, decoy_hit: bool = False
    ) -> list[Alert]:
        """New alerts raised by ``event`` (already logged as ``seq``, if given).

        ``decoy_hit`` is the caller's word that the event touched a decoy
        (``is_decoy``): the engine never learns which object it was.
        """
        with self._lock:
            self._extend_run(seq)
            found = self._evaluate(event, seq, decoy_hit)
            fired = [alert for c in found if (alert := self._fire(c, seq)) is not None]
        self._dispatch(fired)  # outside the lock: a slow relay must not stall other events
        return fired

    def report_verification_failure(
        self, problems: Iterable[str], *, actor: str = "system"
    ) -> Alert | None:
        """Raise the critical alert for a failed audit-log verification (one open at a time)."""
        return self._report_check(
            self.rules.audit_verification_failed, "Audit log verification", problems, actor
        )

    def report_rollback(self, findings: Iterable[str], *, actor: str = "system") -> Alert | None:
        """Raise the critical alert for stored values that are not their last logged write."""
        return self._report_check(
            self.rules.rollback_detected, "Vault revision verification", findings, actor
        )

    def _report_check(
        self, rule: Rule[Any], check: str, problems: Iterable[str], actor: str
    ) -> Alert | None:
        items = [_clip(str(p)) for p in problems]
        if not items:
            raise UsageError("problems: a failed verification reports at least one problem")
        if not rule.enabled:
            return None
        shown = "; ".join(items[:5]) + (f"; and {len(items) - 5} more" if len(items) > 5 else "")
        summary = f"{check} failed with {_plural(len(items), 'problem')}: {shown}."
        candidate = _Candidate(
            rule=rule,
            subject=_name(actor),
            actor=actor,
            summary=summary,
            at=_utc(self._clock()),
            bucket=_VERIFICATION_BUCKET,
            open_only=True,
        )
        with self._lock:
            alert = self._fire(candidate, None)
        self._dispatch([alert] if alert else [])
        return alert

    def _evaluate(self, event: AuditEvent, seq: int | None, decoy_hit: bool) -> list[_Candidate]:
        at = _utc(event.at)
        body = event.canonical()
        ref = f"event seq {seq}" if seq is not None else "event not yet logged"
        rules = self.rules
        found: list[_Candidate] = []
        if rules.decoy_touch.enabled and decoy_hit:
            found.append(
                _Candidate(
                    rule=rules.decoy_touch,
                    subject=_name(event.actor),
                    actor=event.actor,
                    summary=(
                        f"{_name(event.actor)} touched a decoy patient record "
                        f"({event.action}, {event.outcome.value}, {ref}). Nobody has a reason "
                        "to open one: treat it as bulk access or a leaked copy in use."
                    ),
                    at=at,
                    window=rules.decoy_touch.parameters.window,
                )
            )
        if rules.bulk_reads.enabled:
            found.extend(self._bulk_reads(event, body, at, ref, seq))
        if rules.failed_logins.enabled:
            found.extend(self._failed_logins(event, body, at, seq))
        if rules.export.enabled and event.action in rules.export.parameters.actions:
            counts = _counts(event)
            found.append(
                _Candidate(
                    rule=rules.export,
                    subject=_name(event.actor),
                    actor=event.actor,
                    summary=(
                        f"{_name(event.actor)} ran {event.action} "
                        f"({event.outcome.value}{counts}, {ref})."
                    ),
                    at=at,
                    bucket=_stamp(at),
                )
            )
        if rules.break_glass.enabled:
            found.extend(self._break_glass(event, at, ref))
        if rules.off_hours.enabled:
            found.extend(self._off_hours(event, at, ref))
        if rules.account_locked.enabled:
            found.extend(self._account_locked(event, at, ref))
        if rules.account_change.enabled:
            found.extend(self._account_change(event, at, ref))
        if rules.refused.enabled:
            found.extend(self._refused(event, at, ref))
        if rules.account_burst.enabled:
            found.extend(self._account_burst(event, body, at, ref, seq))
        if rules.rights_overdue.enabled and event.action == Action.RIGHTS_OVERDUE.value:
            found.extend(self._rights_overdue(event, at, ref))
        return found

    def _rights_overdue(self, event: AuditEvent, at: datetime, ref: str) -> list[_Candidate]:
        """A rights request past its deadline (or its stored deadline not the logged one)."""
        request = event.details.get("request")
        due = event.details.get("due")
        problem = event.details.get("problem")
        if not isinstance(request, str) or not _SAFE_NAME.match(request):
            return []
        due_text = str(due) if isinstance(due, str) and len(due) <= 10 else "?"
        if isinstance(problem, str) and problem in _RIGHTS_PROBLEMS:
            summary = f"Demande {request} : {_RIGHTS_PROBLEMS[problem]} ({ref})."
        else:
            summary = (
                f"Demande {request} : délai de réponse dépassé (échéance du {_fr_day(due_text)}, "
                f"RGPD art. 12(3)) ({ref})."
            )
        return [
            _Candidate(
                rule=self.rules.rights_overdue,
                subject=request,
                actor=event.actor,
                summary=summary,
                at=at,
                bucket=f"{due_text}|{problem if isinstance(problem, str) else 'overdue'}"[:60],
            )
        ]

    def _bulk_reads(
        self, event: AuditEvent, body: bytes, at: datetime, ref: str, seq: int | None
    ) -> list[_Candidate]:
        rule = self.rules.bulk_reads
        p = rule.parameters
        if (
            event.action not in p.actions
            or event.outcome.value not in p.outcomes
            or event.actor in p.exempt_actors
            or not event.object_ids
        ):
            return []
        since = at - p.window
        track = self._track(rule.name, event.actor)
        self._sync(
            track,
            since,
            lambda: [
                audit_events.c.actor == event.actor,
                audit_events.c.action.in_(sorted(p.actions)),
            ],
            lambda e: e.outcome.value in p.outcomes,
            seq,
        )
        track.add(body, at, tuple(event.object_ids))
        track.window(since, at)
        distinct = track.distinct()
        if distinct <= p.threshold:
            return []
        return [
            _Candidate(
                rule=rule,
                subject=_name(event.actor),
                actor=event.actor,
                summary=(
                    f"{_name(event.actor)} read or searched {distinct} distinct patients "
                    f"within {format_duration(p.window)} (threshold {p.threshold}; last {ref})."
                ),
                at=at,
                window=p.window,
            )
        ]

    def _failed_logins(
        self, event: AuditEvent, body: bytes, at: datetime, seq: int | None
    ) -> list[_Candidate]:
        rule = self.rules.failed_logins
        p = rule.parameters
        if event.action != Action.LOGIN.value or event.outcome is not Outcome.FAILED:
            return []
        since = at - p.window
        base = [
            audit_events.c.action == Action.LOGIN.value,
            audit_events.c.outcome == Outcome.FAILED.value,
        ]
        found: list[_Candidate] = []
        # (window key: the raw value, dedup subject and wording: the printable one, ...)
        groups: list[_LoginGroup] = []
        if "account" in p.per:
            groups.append(
                _LoginGroup(
                    f"account={event.actor}",
                    f"account:{_name(event.actor)}",
                    f"for account {_name(event.actor)}",
                    [*base, audit_events.c.actor == event.actor],
                    lambda e: True,
                )
            )
        if "client" in p.per and event.client:
            client = event.client
            groups.append(
                _LoginGroup(
                    f"client={client}",
                    f"client:{_address(client)}",
                    f"from client address {_address(client)}",
                    base,
                    lambda e: e.client == client,
                )
            )
        for group in groups:
            track = self._track(rule.name, group.window_key)
            self._sync(track, since, partial(list, group.filters), group.accept, seq)
            track.add(body, at, ())
            track.window(since, at)
            count = track.count()
            if count > p.threshold:
                found.append(
                    _Candidate(
                        rule=rule,
                        subject=group.subject,
                        actor=event.actor,
                        summary=(
                            f"{count} failed logins {group.wording} within "
                            f"{format_duration(p.window)} (threshold {p.threshold})."
                        ),
                        at=at,
                        window=p.window,
                    )
                )
        return found

    def _break_glass(self, event: AuditEvent, at: datetime, ref: str) -> list[_Candidate]:
        rule = self.rules.break_glass
        p = rule.parameters
        declared = event.action in p.actions
        flagged = event.details.get(p.detail) is True
        if not (declared or flagged):
            return []
        who = _name(event.actor)
        summary = (
            f"{who} declared break-glass access ({event.outcome.value}, {ref})."
            if declared
            else f"{who} accessed data under break-glass access ({event.action}, {ref})."
        )
        return [
            _Candidate(
                rule=rule,
                subject=who,
                actor=event.actor,
                summary=summary,
                at=at,
                window=p.window,
                new_episode=declared,
            )
        ]

    def _account_locked(self, event: AuditEvent, at: datetime, ref: str) -> list[_Candidate]:
        rule = self.rules.account_locked
        if (
            event.action != Action.LOGIN.value
            or event.outcome is not Outcome.FAILED
            or event.details.get("error") != "AccountLocked"
        ):
            return []
        who = _name(event.actor)
        return [
            _Candidate(
                rule=rule,
                subject=f"account:{who}",
                actor=event.actor,
                summary=(
                    f"Account {who} is locked after repeated failed logins ({ref}); "
                    "its person is kept out until the lock ends."
                ),
                at=at,
                window=rule.parameters.window,
            )
        ]

    def _refused(self, event: AuditEvent, at: datetime, ref: str) -> list[_Candidate]:
        rule = self.rules.refused
        if event.outcome is not Outcome.DENIED or event.action not in rule.parameters.actions:
            return []
        who = _name(event.actor)
        return [
            _Candidate(
                rule=rule,
                subject=who,
                actor=event.actor,
                summary=f"{who} was refused {event.action} ({ref}).",
                at=at,
                window=rule.parameters.window,
            )
        ]

    def _account_change(self, event: AuditEvent, at: datetime, ref: str) -> list[_Candidate]:
        rule = self.rules.account_change
        p = rule.parameters
        operation = event.details.get("operation")
        if (
            event.action not in p.actions
            or event.outcome is not Outcome.OK
            or not isinstance(operation, str)
            or operation not in p.operations
        ):
            return []
        account = event.details.get("account")
        target = _name(account if isinstance(account, str) else None)
        role = event.details.get("role")
        what = f" ({role})" if isinstance(role, str) and role in _ROLES else ""
        waits = " It waits for a second person's approval." if event.details.get("pending") else ""
        verb = _ACCOUNT_VERBS.get(operation, f"changed ({operation})")
        return [
            _Candidate(
                rule=rule,
                subject=_name(event.actor),
                actor=event.actor,
                summary=f"{_name(event.actor)} {verb} account {target}{what} ({ref}).{waits}",
                at=at,
                bucket=f"{_stamp(at)}|{target}|{operation}",
            )
        ]

    def _account_burst(
        self, event: AuditEvent, body: bytes, at: datetime, ref: str, seq: int | None
    ) -> list[_Candidate]:
        rule = self.rules.account_burst
        p = rule.parameters

        def counted(e: AuditEvent) -> bool:
            return (
                e.details.get("privileged") is True and e.details.get("operation") in p.operations
            )

        if (
            event.action != Action.USER_MANAGE.value
            or event.outcome is not Outcome.OK
            or not counted(event)
        ):
            return []
        since = at - p.window
        track = self._track(rule.name, event.actor)
        self._sync(
            track,
            since,
            lambda: [
                audit_events.c.actor == event.actor,
                audit_events.c.action == Action.USER_MANAGE.value,
                audit_events.c.outcome == Outcome.OK.value,
            ],
            counted,
            seq,
        )
        track.add(body, at, ())
        track.window(since, at)
        count = track.count()
        if count <= p.threshold:
            return []
        who = _name(event.actor)
        return [
            _Candidate(
                rule=rule,
                subject=who,
                actor=event.actor,
                summary=(
                    f"{who} asked for {count} privileged accounts or roles within "
                    f"{format_duration(p.window)} (threshold {p.threshold}; last {ref}). "
                    "Check that each person exists before approving."
                ),
                at=at,
                window=p.window,
            )
        ]

    def _off_hours(self, event: AuditEvent, at: datetime, ref: str) -> list[_Candidate]:
        rule = self.rules.off_hours
        p = rule.parameters
        if event.action not in p.actions or event.actor in p.exempt_actors:
            return []
        local = at.astimezone(p.zone)
        stretch = off_hours_stretch(local, p)
        if stretch is None:
            return []
        return [
            _Candidate(
                rule=rule,
                subject=_name(event.actor),
                actor=event.actor,
                summary=(
                    f"{_name(event.actor)} used patient data outside working hours: "
                    f"{event.action} on {local:%a %Y-%m-%d at %H:%M} {local.tzname()} ({ref})."
                ),
                at=at,
                bucket=stretch.isoformat(),
            )
        ]

    # -- window state ------------------------------------------------------------
    def _extend_run(self, seq: int | None) -> None:
        """Note ``seq`` as observed: it extends the run, or a gap starts a new one."""
        if seq is None:
            self._run = None  # an event not yet logged: nothing can be assumed
        elif self._run is not None and self._run[0] <= seq <= self._run[1] + 1:
            self._run = (self._run[0], max(seq, self._run[1]))
        else:
            self._run = (seq, seq)

    def _track(self, rule: str, subject: str) -> _Track:
        key = (rule, subject)
        track = self._tracks.get(key)
        if track is None:
            track = self._tracks[key] = _Track()
            while len(self._tracks) > _MAX_TRACKS:
                self._tracks.popitem(last=False)
        else:
            self._tracks.move_to_end(key)
        return track

    def _sync(
        self,
        track: _Track,
        since: datetime,
        filters: Callable[[], Sequence[ColumnElement[bool]]],
        accept: Callable[[AuditEvent], bool],
        seq: int | None,
    ) -> None:
        """Merge the logged events this process has not seen yet (other processes' too).

        Skipped when the track was already read past ``seq``: whatever the table
        could add was logged after this event. A batch appended at once is thus
        read back by its first event only, not once per event.
        """
        if seq is not None and track.synced_seq is not None and seq <= track.synced_seq:
            return
        run = self._run
        if (
            seq is not None
            and run is not None
            and track.complete is not None
            and run[0] - 1 <= track.complete
            and seq <= run[1]
        ):
            # every event since the track's last read-back was observed here, in
            # order: the table holds nothing the track lacks
            track.complete = max(track.complete, seq)
            return
        bound = since if self._engine.dialect.name != "sqlite" else since.replace(tzinfo=None)
        if track.query is None:  # the filters of one track never change
            track.query = (
                select(audit_events.c.seq, audit_events.c.body)
                .where(
                    *filters(),
                    audit_events.c.at >= bindparam("since"),  # SQLite: UTC wall time, no zone
                    audit_events.c.seq > bindparam("after"),
                )
                .order_by(audit_events.c.seq)
            )
        after = track.synced_seq if track.synced_seq is not None else -1
        with self._engine.connect() as conn:
            rows = conn.execute(track.query, {"since": bound, "after": after}).all()
        if seq is not None:  # read after ``seq`` was committed: the table up to it is in
            track.complete = max(track.complete or 0, seq)
        for row in rows:
            track.synced_seq = max(track.synced_seq or 0, int(row.seq))
            body = bytes(row.body)
            try:
                logged = AuditEvent.from_canonical(body)
            except (ValueError, KeyError, TypeError):
                log.warning("audit event seq %s: unreadable body, skipped by alert rules", row.seq)
                continue
            if accept(logged):
                track.add(body, _utc(logged.at), tuple(logged.object_ids))

    # -- recording and dispatch --------------------------------------------------
    def _fire(self, c: _Candidate, seq: int | None) -> Alert | None:
        """Write the alert unless the same breach already has one; None if deduplicated."""
        prefix = f"{c.rule.name}|{c.subject}|"
        if c.bucket is not None:
            key = prefix + c.bucket
            if not c.open_only and key in self._known:
                return None
        else:
            key = prefix + _stamp(c.at)
            latest = self._episodes.get(prefix)
            if latest is not None and not c.new_episode and abs(c.at - latest) < c.window:
                return None
        with self._engine.begin() as conn:
            _serialise(conn)
            if c.bucket is not None:
                query = select(alerts_table.c.id).where(alerts_table.c.dedup_key == key)
                if c.open_only:
                    query = query.where(alerts_table.c.acknowledged_at.is_(None))
                if conn.execute(query.limit(1)).first() is not None:
                    if not c.open_only:
                        self._remember(key)
                    return None
            else:
                stored = conn.execute(
                    select(alerts_table.c.dedup_key)
                    .where(
                        alerts_table.c.rule == c.rule.name,
                        alerts_table.c.dedup_key.startswith(prefix, autoescape=True),
                    )
                    .order_by(alerts_table.c.dedup_key.desc())
                    .limit(1)
                ).scalar()
                started = _unstamp(stored[len(prefix) :]) if stored else None
                if started is not None:
                    self._note_episode(prefix, started)
                    if stored == key or (not c.new_episode and abs(c.at - started) < c.window):
                        return None
            alert = Alert(
                id=uuid.uuid4().hex,
                rule=c.rule.name,
                severity=c.rule.severity,
                created_at=_utc(self._clock()),
                actor=_safe_actor(c.actor),
                summary=c.summary,
                event_seq=seq,
                dedup_key=key[:200],
            )
            conn.execute(
                insert(alerts_table).values(
                    id=alert.id,
                    rule=alert.rule,
                    severity=alert.severity.value,
                    created_at=alert.created_at,
                    actor=alert.actor,
                    summary=alert.summary,
                    event_seq=alert.event_seq,
                    dedup_key=alert.dedup_key,
                )
            )
        if c.bucket is None:
            self._note_episode(prefix, max(c.at, self._episodes.get(prefix, c.at)))
        elif not c.open_only:
            self._remember(key)
        return alert

    def _note_episode(self, prefix: str, started: datetime) -> None:
        self._episodes[prefix] = started
        self._episodes.move_to_end(prefix)
        while len(self._episodes) > _MAX_KNOWN:  # forgotten ones are read back from the table
            self._episodes.popitem(last=False)

    def _remember(self, key: str) -> None:
        self._known[key] = None
        while len(self._known) > _MAX_KNOWN:
            self._known.popitem(last=False)

    def _dispatch(self, fired: Sequence[Alert]) -> None:
        for alert in fired:
            for sink in self.sinks:
                if not sink.accepts(alert):
                    continue
                try:
                    sink.send(alert)
                except Exception as exc:  # a sink never loses an alert nor stops the others
                    failure = SinkFailure(
                        sink.name, alert.id, f"{type(exc).__name__}: {exc}"[:300], self._clock()
                    )
                    self.failures.append(failure)
                    log.warning(
                        "alert %s: sink %s failed (%s); the alert is kept in the alerts table",
                        alert.id,
                        sink.name,
                        failure.error,
                    )

    # -- reading and acknowledging -----------------------------------------------
    def list_alerts(self, open_only: bool = True, *, limit: int | None = None) -> list[Alert]:
        """Alerts, newest first; only unacknowledged ones unless ``open_only`` is False."""
        query = select(alerts_table)
        if open_only:
            query = query.where(alerts_table.c.acknowledged_at.is_(None))
        query = query.order_by(alerts_table.c.created_at.desc(), alerts_table.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self._engine.connect() as conn:
            return [_alert(row) for row in conn.execute(query)]

    def get_alert(self, alert_id: str) -> Alert:
        with self._engine.connect() as conn:
            row = conn.execute(select(alerts_table).where(alerts_table.c.id == alert_id)).first()
        if row is None:
            raise RecordNotFound(f"alert {alert_id}: not found")
        return _alert(row)

    def acknowledge(self, alert_id: str, by: str, note: str | None = None) -> Alert:
        """Record who acknowledged the alert, when, and why; twice is an error."""
        if not by or len(by) > 64:
            raise UsageError("by: the acknowledging person's user name (1-64 characters)")
        note = note.strip() if note else None
        with self._engine.begin() as conn:
            row = conn.execute(select(alerts_table).where(alerts_table.c.id == alert_id)).first()
            if row is None:
                raise RecordNotFound(f"alert {alert_id}: not found")
            if row.acknowledged_at is not None:
                raise UsageError(_already(alert_id, row))
            done = conn.execute(
                update(alerts_table)
                .where(alerts_table.c.id == alert_id, alerts_table.c.acknowledged_at.is_(None))
                .values(acknowledged_at=_utc(self._clock()), acknowledged_by=by, ack_note=note)
            )
            if done.rowcount != 1:  # acknowledged meanwhile by someone else
                row = conn.execute(select(alerts_table).where(alerts_table.c.id == alert_id)).one()
                raise UsageError(_already(alert_id, row))
        return self.get_alert(alert_id)


def off_hours_stretch(local: datetime, p: OffHours) -> date | None:
    """None inside working hours; else the working day the off-hours stretch follows.

    A Saturday evening, the whole Sunday and early Monday are one stretch (after
    Saturday), so one person's night of access makes one alert.
    """
    now = local.time()
    today = local.date()
    if today.weekday() in p.days and p.start <= now < p.end:
        return None
    for back in range(8):
        day = today - timedelta(days=back)
        if day.weekday() in p.days and (back > 0 or now >= p.end):
            return day
    return today  # no working day at all: one stretch per calendar day


def _serialise(conn: Connection) -> None:
    """Make dedup's check-then-insert atomic across processes."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _alert(row: Row[Any]) -> Alert:
    return Alert(
        id=row.id,
        rule=row.rule,
        severity=Severity(row.severity),
        created_at=_utc(row.created_at),
        actor=row.actor,
        summary=row.summary,
        event_seq=row.event_seq,
        dedup_key=row.dedup_key,
        acknowledged_at=_utc(row.acknowledged_at) if row.acknowledged_at else None,
        acknowledged_by=row.acknowledged_by,
        ack_note=row.ack_note,
    )


def _already(alert_id: str, row: Row[Any]) -> str:
    when = _utc(row.acknowledged_at).strftime("%Y-%m-%d %H:%M UTC")
    return f"alert {alert_id}: already acknowledged by {row.acknowledged_by} on {when}"


def _safe_actor(actor: str | None) -> str | None:
    """The actor if it looks like a user name; None for anything else.

    A failed login may carry whatever was typed in the user field: a NIR, a
    phone number, a password. Such text is neither echoed nor stored.
    """
    if actor and _SAFE_NAME.match(actor) and not _DIGIT_RUN.search(actor):
        return actor
    return None


def _name(actor: str | None) -> str:
    """A user name fit for a summary: anything else is not echoed."""
    return _safe_actor(actor) or "an unrecognised account name"


def _address(client: str) -> str:
    """A client address fit for a summary and a dedup key: parsed, or not echoed."""
    try:
        return ipaddress.ip_address(client.strip().strip("[]")).compressed
    except ValueError:
        return "an unparseable address"


def _counts(event: AuditEvent) -> str:
    """Numeric details only (row counts and the like): never a string that could be personal."""
    parts = [
        f"{k}={v}"
        for k, v in sorted(event.details.items())
        if isinstance(v, int | float) and not isinstance(v, bool) and _SAFE_NAME.match(k)
    ]
    objects = len(event.object_ids)
    if objects:
        parts.insert(0, f"{_plural(objects, 'object')}")
    return (", " + ", ".join(parts)) if parts else ""


_RIGHTS_PROBLEMS = {
    "deadline_altered": (
        "l'échéance enregistrée en base ne correspond pas à celle du journal d'audit"
    ),
    "closed_outside": "close en base alors que le journal d'audit ne montre aucune clôture",
    "missing": "enregistrée au journal d'audit mais absente de la base",
    "unlogged": "présente en base sans enregistrement au journal d'audit",
    "restriction_removed": (
        "la limitation du traitement accordée a disparu de la base sans levée au journal d'audit"
    ),
}


def _fr_day(iso: str) -> str:
    """``2026-01-03`` as ``03/01/2026`` (the alert is read in French)."""
    try:
        return date.fromisoformat(iso).strftime("%d/%m/%Y")
    except ValueError:
        return iso


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _clip(problem: str) -> str:
    """A verifier's problem line, printable and bounded."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in problem).strip()
    return cleaned if len(cleaned) <= 200 else cleaned[:199] + "…"
