"""Supervision as the DPO and auditors run it: audit log, alerts, decoys (F8).

Every operation asks the policy (``audit.read``, ``audit.verify``,
``alert.read``, ``alert.ack``, ``decoy.manage``: network-wide resources) and is
logged once, here, denials included. The log itself is handed out as stored,
so an outside verifier checks it with the pinned public key and trusts
nothing the service says about it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from etanche.access import Action, Actor, Resource, can
from etanche.audit import (
    DEFAULT_SOURCE,
    MAX_PAGE,
    Alert,
    AuditEvent,
    DetailValue,
    InclusionProof,
    LogSnapshot,
    Outcome,
    SignedTreeHead,
    VerificationReport,
    decoy_count,
    describe_supervision,
    plant_decoys,
    read_page,
    read_snapshot,
)
from etanche.audit import verify_log as _verify_log
from etanche.domain import RetentionRules, load_retention
from etanche.errors import EtancheError, PermissionDenied, UsageError
from etanche.migrate import Plans
from etanche.service._register import ProcessingRegister, build_register
from etanche.service._trail import Trail
from etanche.vault import ALL_COMPARTMENTS, Vault

MAX_REPORTED_PROBLEMS = 1000
MAX_PROBLEM_CHARS = 300
_T = TypeVar("_T")


class Supervision:
    """One person's supervision operations on one vault session."""

    def __init__(
        self,
        vault: Vault,
        trail: Trail,
        actor: Actor,
        *,
        rules: Path | None = None,
        retention: RetentionRules | None = None,
        client: str | None = None,
    ) -> None:
        self.vault = vault
        self.trail = trail
        self.actor = actor
        self.rules = rules
        self.retention = retention or load_retention()
        self.client = client

    # -- the audit log -------------------------------------------------------------
    def public_key(self) -> tuple[str, bytes, str]:
        """The log's key id, public key (PEM) and C2SP verifier key: to pin once."""
        details: dict[str, DetailValue] = {"operation": "export-key"}
        log = self.trail.log
        return self._do(
            Action.AUDIT_VERIFY,
            details,
            lambda: (log.key_id, log.public_key_pem(), log.note_key().text()),
        )

    def sign_head(self) -> SignedTreeHead:
        """Sign a head now (or the latest if nothing is new), covering every recorded event."""

        def sign() -> SignedTreeHead:
            self.trail.flush()
            return self.trail.log.sign_head()

        return self._do(Action.AUDIT_VERIFY, {"operation": "head"}, sign)

    def prove(self, seq: int) -> InclusionProof:
        """Inclusion proof of event ``seq`` in the latest signed head."""

        def prove() -> InclusionProof:
            self.trail.flush()
            return self.trail.log.prove(seq)

        return self._do(Action.AUDIT_VERIFY, {"operation": "prove", "event": seq}, prove)

    def events(
        self,
        *,
        actor: str | None = None,
        object_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[tuple[int, AuditEvent]]:
        """Events newest first, filtered; the count is logged, the filters are not."""
        details: dict[str, DetailValue] = {"operation": "show"}

        def search() -> list[tuple[int, AuditEvent]]:
            self.trail.flush()
            found = self.trail.log.events(
                actor=actor,
                object_id=object_id,
                action=action,
                since=since,
                until=until,
                limit=limit,
                newest_first=True,
            )
            details["count"] = len(found)
            return found

        return self._do(Action.AUDIT_READ, details, search)

    def log_snapshot(self) -> LogSnapshot:
        """The stored heads and the seq bound a download reads up to."""
        details: dict[str, DetailValue] = {"operation": "download"}

        def snapshot() -> LogSnapshot:
            self.trail.flush()
            found = read_snapshot(self.vault.engine)
            details.update(size=found.size, heads=len(found.heads))
            return found

        return self._do(Action.AUDIT_VERIFY, details, snapshot)

    def log_page(self, start: int, stop: int, limit: int = MAX_PAGE) -> dict[str, Any]:
        """Stored rows of seqs ``[start, stop)``, byte for byte (bodies, columns, objects)."""
        details: dict[str, DetailValue] = {"operation": "download-page", "start": start}

        def page() -> dict[str, Any]:
            found = read_page(self.vault.engine, start, stop, limit)
            details["count"] = len(found["events"])
            return found

        return self._do(Action.AUDIT_VERIFY, details, page)

    def report_failure(self, problems: Sequence[str]) -> Alert | None:
        """A verifier found the log altered: raise the critical alert, then log the report.

        The alert goes first: a log too damaged to take the event must still ring.
        """
        items = [str(p)[:MAX_PROBLEM_CHARS] for p in problems][:MAX_REPORTED_PROBLEMS]
        if not items:
            raise UsageError("problems: a failed verification reports at least one problem")
        details: dict[str, DetailValue] = {
            "operation": "verify",
            "where": "client",
            "problems": len(problems),
        }
        self._allow(Action.AUDIT_VERIFY, details)
        alert = self.trail.alerts.report_verification_failure(items, actor=self.actor.username)
        if alert is not None:
            details["alert"] = alert.id
        self._record(Action.AUDIT_VERIFY, Outcome.FAILED, details)
        return alert

    def verify_live(self) -> VerificationReport:
        """The service's own check of its database with its key; a failure raises the alert."""
        self._allow(Action.AUDIT_VERIFY, {"operation": "verify"})
        self.trail.flush()
        report = _verify_log(self.vault.engine, self.trail.pins())
        details: dict[str, DetailValue] = {
            "operation": "verify",
            "where": "service",
            "events": report.events,
            "heads": report.heads,
            "problems": len(report.problems),
        }
        if not report.ok:
            self.trail.alerts.report_verification_failure(
                report.problems, actor=self.actor.username
            )
        self._record(Action.AUDIT_VERIFY, Outcome.OK if report.ok else Outcome.FAILED, details)
        return report

    # -- alerts ----------------------------------------------------------------------
    def alerts(self, *, open_only: bool = True, limit: int | None = None) -> list[Alert]:
        """Alerts newest first; only unacknowledged ones unless ``open_only`` is False."""
        details: dict[str, DetailValue] = {}

        def listed() -> list[Alert]:
            self.trail.flush()
            found = self.trail.alerts.list_alerts(open_only=open_only, limit=limit)
            details["count"] = len(found)
            return found

        return self._do(Action.ALERT_READ, details, listed)

    def acknowledge(self, alert_id: str, note: str | None = None) -> Alert:
        """Acknowledge as this person (who, when, note); twice is an error."""
        alerts = self.trail.alerts
        return self._do(
            Action.ALERT_ACK,
            {"alert": alert_id[:64]},
            lambda: alerts.acknowledge(alert_id, self.actor.username, note),
        )

    def rules_in_force(self) -> dict[str, Any]:
        """The rules and sinks this service applies, and the file they came from."""
        alerts = self.trail.alerts
        source = str(self.rules) if self.rules is not None else DEFAULT_SOURCE
        return self._do(
            Action.ALERT_READ,
            {"operation": "rules"},
            lambda: describe_supervision(source, alerts.rules, alerts.sinks),
        )

    def processing_register(self, now: datetime | None = None) -> ProcessingRegister:
        """The register of processing (art. 30) of the network, built from what is in force."""

        def build() -> ProcessingRegister:
            return build_register(
                labs=self.vault.labs(),
                retention=self.retention,
                alert_rules=self.trail.alerts.rules,
                plans=Plans(self.vault).all(),
                now=now or datetime.now(UTC),
            )

        return self._do(Action.REGISTER_READ, {"operation": "register"}, build)

    # -- decoys ----------------------------------------------------------------------
    def plant_decoys(self, n: int) -> tuple[int, int]:
        """Add ``n`` decoys; returns (planted, total). Their ids never leave this call."""

        def plant() -> tuple[int, int]:
            # Planting seals new records under the lab keys; nothing is decrypted.
            self.vault.unlock(ALL_COMPARTMENTS)
            planted = plant_decoys(self.vault, n)
            return len(planted), decoy_count(self.vault)

        return self._do(Action.DECOY_MANAGE, {"operation": "plant", "count": n}, plant)

    def decoy_count(self) -> int:
        return self._do(
            Action.DECOY_MANAGE, {"operation": "count"}, lambda: decoy_count(self.vault)
        )

    # -- decide, act, log ------------------------------------------------------------
    def _do(self, action: Action, details: dict[str, DetailValue], work: Callable[[], _T]) -> _T:
        self._allow(action, details)
        try:
            result = work()
        except EtancheError as exc:
            self._record(action, Outcome.FAILED, {**details, "error": type(exc).__name__})
            raise
        self._record(action, Outcome.OK, details)
        return result

    def _allow(self, action: Action, details: dict[str, DetailValue]) -> None:
        decision = can(self.actor, action, Resource(action.value.split(".")[0]))
        if not decision.allowed:
            self._record(action, Outcome.DENIED, {**details, "reason": decision.reason})
            raise PermissionDenied(decision.reason)

    def _record(self, action: Action, outcome: Outcome, details: dict[str, DetailValue]) -> None:
        self.trail.record(self.actor, action, outcome, client=self.client, details=details)
