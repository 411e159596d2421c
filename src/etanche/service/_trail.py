"""The audit trail of a process: every operation becomes a logged, watched event.

One place joins the Merkle audit log and the alert engine, so no adapter can
log without supervision or supervise without logging.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from etanche.access import Action, Actor
from etanche.audit import AuditEvent, AuditLog, Outcome
from etanche.audit._alerts import Alert, AlertEngine
from etanche.audit._events import DetailValue
from etanche.vault import Vault

SYSTEM = "system"
UNAUTHENTICATED = "unauthenticated"


class Trail:
    """Append-then-observe: an event is in the log before any rule sees it."""

    def __init__(self, log: AuditLog, alerts: AlertEngine) -> None:
        self.log = log
        self.alerts = alerts
        self.fired: list[Alert] = []

    @classmethod
    def for_vault(cls, vault: Vault, rules: str | Path | None = None) -> Trail:
        return cls(AuditLog.for_vault(vault), AlertEngine.from_config(vault.engine, rules))

    def record(
        self,
        actor: Actor | str | None,
        action: Action | str,
        outcome: Outcome,
        *,
        objects: Iterable[str] = (),
        purpose: str | None = None,
        client: str | None = None,
        details: Mapping[str, DetailValue] | None = None,
        decoy_hit: bool = False,
    ) -> int:
        """Log one event and run the alert rules on it; returns its seq.

        ``actor`` is the person (an Actor), a claimed user name before
        authentication (a string), or None for the system itself.
        """
        if isinstance(actor, Actor):
            name, role = actor.username, actor.role.value
        elif actor:
            name, role = actor[:64], UNAUTHENTICATED
        else:
            name, role = SYSTEM, SYSTEM
        event = AuditEvent(
            actor=name,
            role=role,
            action=str(action),
            outcome=outcome,
            object_ids=tuple(objects),
            purpose=purpose,
            client=client,
            details=dict(details or {}),
        )
        seq = self.log.append(event)
        self.fired.extend(self.alerts.observe(event, seq=seq, decoy_hit=decoy_hit))
        return seq

    def close(self) -> None:
        """Sign the unsigned tail so the log is covered by a head when we stop."""
        self.log.close()
