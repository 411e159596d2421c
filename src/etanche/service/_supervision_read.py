"""The DPO's supervision as the web shows it: audit browsing, live verification,
alerts and decoys, each decided by the policy and logged here, once.

Verification uses the log's public key only, like an outside verifier would;
a failure raises the critical alert. (Kept apart from the CLI's supervision
operations while both are being written; one of them will absorb the other.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from etanche.access import Actor, Resource, can
from etanche.audit import (
    Alert,
    AlertEngine,
    AuditEvent,
    AuditLog,
    DetailValue,
    Outcome,
    VerificationReport,
    decoy_count,
    plant_decoys,
    verify_log,
)
from etanche.errors import PermissionDenied, RecordNotFound, UsageError, ValidationError
from etanche.names import Action
from etanche.service._acts import Acts
from etanche.service._trail import Trail
from etanche.vault import ALL_COMPARTMENTS, Vault

LogReader = Callable[..., Sequence[tuple[int, AuditEvent]]]


class Oversight:
    """One person's supervision operations on the server's vault and trail."""

    def __init__(
        self,
        vault: Vault,
        trail: Trail,
        actor: Actor,
        *,
        client: str | None = None,
        rules: Path | None = None,
    ) -> None:
        self._vault = vault
        self._trail = trail
        self._acts = Acts(trail, actor, client=client)
        self._rules = rules
        self.actor = actor
        self.client = client

    def _alerts(self) -> AlertEngine:
        return AlertEngine.from_config(self._vault.engine, self._rules)

    # -- audit -------------------------------------------------------------------
    def browse(
        self,
        *,
        actor: str | None,
        object_id: str | None,
        action: str | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        skip: bool = False,
    ) -> tuple[list[tuple[int, AuditEvent]], str]:
        """Events newest first and the log's key id; ``skip``: filters were invalid."""
        self._acts.require(Action.AUDIT_READ, {"operation": "browse"})
        log = AuditLog.for_vault(self._vault)
        events: list[tuple[int, AuditEvent]] = []
        if not skip:
            events = list(
                log.events(
                    actor=actor,
                    object_id=object_id,
                    action=action,
                    since=since,
                    until=until,
                    limit=limit,
                    newest_first=True,
                )
            )
        self._acts.note(Action.AUDIT_READ, details={"operation": "browse", "count": len(events)})
        return events, log.key_id

    def verify(self) -> tuple[VerificationReport, str]:
        """Verify the whole log now with its public key; a failure raises the alert."""
        self._acts.require(Action.AUDIT_VERIFY, {"operation": "verify"})
        self._trail.flush()
        log = self._trail.log  # its key comes from custody; the vault's files are not trusted
        report = verify_log(self._vault.engine, self._trail.pins())
        details: dict[str, DetailValue] = {
            "operation": "verify",
            "events": report.events,
            "heads": report.heads,
            "problems": len(report.problems),
        }
        self._acts.note(Action.AUDIT_VERIFY, Outcome.OK if report.ok else Outcome.FAILED, details)
        if not report.ok:
            self._alerts().report_verification_failure(report.problems, actor=self.actor.username)
        return report, log.key_id

    def public_key(self) -> bytes:
        """The log's public key: all an outside verifier needs."""
        self._acts.require(Action.AUDIT_VERIFY, {"operation": "export-key"})
        return self._trail.log.public_key_pem()

    def log_reader(self, objects: Sequence[str]) -> LogReader:
        """The log's event query, once the policy lets this person read it (FHIR
        AuditEvent); a refusal is logged. The reading is noted by ``log_read``."""
        decision = can(self.actor, Action.AUDIT_READ, Resource("audit"))
        if not decision.allowed:
            self._acts.note(
                Action.AUDIT_READ,
                Outcome.DENIED,
                {"resource": "AuditEvent", "reason": decision.reason},
                objects,
            )
            raise PermissionDenied(decision.reason)
        self._trail.flush()  # a buffered trail: every event recorded so far is in the log
        return self._trail.log.events

    def log_read(self, objects: Sequence[str], results: int, filters: str) -> None:
        """The audit event of one FHIR read of the log."""
        details: dict[str, DetailValue] = {
            "resource": "AuditEvent",
            "results": results,
            "filters": filters,
        }
        self._acts.note(Action.AUDIT_READ, Outcome.OK, details, objects)

    # -- alerts ------------------------------------------------------------------
    def alerts(self, *, open_only: bool, limit: int) -> list[Alert]:
        """Alerts (open ones, or all), the reading logged with their count."""
        self._acts.require(Action.ALERT_READ)
        found = self._alerts().list_alerts(open_only=open_only, limit=limit)
        self._acts.note(Action.ALERT_READ, details={"count": len(found)})
        return found

    def acknowledge(self, alert_id: str, note: str) -> None:
        """Acknowledge an alert with what was checked or done (a note is required)."""
        details: dict[str, DetailValue] = {"alert": alert_id}
        self._acts.require(Action.ALERT_ACK, details)
        if not note:
            raise ValidationError("note", "say what was checked or done")
        try:
            self._alerts().acknowledge(alert_id, self.actor.username, note)
        except (UsageError, RecordNotFound) as exc:
            self._acts.note(
                Action.ALERT_ACK, Outcome.FAILED, {**details, "error": type(exc).__name__}
            )
            raise
        self._acts.note(Action.ALERT_ACK, details=details)

    def open_alerts_to_ack(self, limit: int) -> list[Alert]:
        """Open alerts shown again beside a refused acknowledgement (already decided)."""
        self._acts.require(Action.ALERT_ACK)
        return self._alerts().list_alerts(open_only=True, limit=limit)

    # -- decoys ------------------------------------------------------------------
    def decoys(self) -> int:
        """How many decoys exist (never which)."""
        self._acts.require(Action.DECOY_MANAGE, {"operation": "count"})
        total = decoy_count(self._vault)
        self._acts.note(Action.DECOY_MANAGE, details={"operation": "count"})
        return total

    def plant(self, count: int, limit: int) -> int:
        """Plant ``count`` decoys (1 to ``limit``); their ids are neither shown nor kept."""
        self._acts.require(Action.DECOY_MANAGE, {"operation": "plant", "count": count})
        if not 1 <= count <= limit:
            raise ValidationError("count", f"between 1 and {limit}")
        # Planting seals records under the lab keys; nothing is decrypted.
        planted = plant_decoys(self._vault.session(ALL_COMPARTMENTS), count)
        self._acts.note(Action.DECOY_MANAGE, details={"operation": "plant", "count": len(planted)})
        return len(planted)

    def decoys_unlogged(self) -> int:
        """The count shown again beside a refused planting form (already decided)."""
        self._acts.require(Action.DECOY_MANAGE)
        return decoy_count(self._vault)
