"""Key operations as a person runs them: decided by the policy, always audited."""

from __future__ import annotations

from collections.abc import Callable

from etanche.access import Action, Actor, Resource, can
from etanche.audit import DetailValue, Outcome
from etanche.errors import EtancheError, PermissionDenied
from etanche.service._ceremony import Ceremonies
from etanche.service._trail import Trail
from etanche.vault import RotationReport, Vault


class KeyService:
    """KEK and lab-key rotation for a lab_admin, each step an audit event."""

    def __init__(
        self,
        vault: Vault,
        trail: Trail,
        actor: Actor,
        *,
        client: str | None = None,
        ceremonies: Ceremonies | None = None,
    ):
        self.vault = vault
        self.trail = trail
        self.actor = actor
        self.client = client
        self.ceremonies = ceremonies

    def lab_size(self, lab_id: str) -> int:
        """How many patients a lab rotation will re-encrypt (for a progress bar)."""
        return len(self.vault.patient_ids(lab_id))

    def rotate_kek(self) -> tuple[str, int]:
        """A new KEK: a lab admin asks, and a fresh quorum of custodians must have approved."""
        self._allow(None, "rotate-kek")
        custodians: tuple[str, ...] = ()
        try:
            if self.ceremonies is not None:
                custodians = self.ceremonies.consume("rotate-kek")
            kek_id, count = self.vault.rotate_kek()
        except EtancheError as exc:
            self._event(Outcome.FAILED, {"operation": "rotate-kek", "error": type(exc).__name__})
            raise
        self._event(
            Outcome.OK,
            {
                "operation": "rotate-kek",
                "kek": kek_id,
                "data_keys": count,
                "custodians": ",".join(custodians),
            },
        )
        return kek_id, count

    def rotate_lab(
        self, lab_id: str, *, batch_size: int = 500, progress: Callable[[int], None] | None = None
    ) -> RotationReport:
        self._allow(lab_id, "rotate-lab")
        try:
            report = self.vault.rotate_lab(lab_id, batch_size=batch_size, progress=progress)
        except EtancheError as exc:
            self._event(
                Outcome.FAILED,
                {"operation": "rotate-lab", "lab": lab_id, "error": type(exc).__name__},
            )
            raise
        self._event(
            Outcome.OK,
            {
                "operation": "rotate-lab",
                "lab": lab_id,
                "version": report.to_version,
                "patients": report.rows,
                "finished": report.finished,
            },
        )
        return report

    def _allow(self, lab_id: str | None, operation: str) -> None:
        decision = can(self.actor, Action.KEYS_ROTATE, Resource("keys", lab_id))
        if not decision.allowed:
            self.trail.record(
                self.actor,
                Action.KEYS_ROTATE,
                Outcome.DENIED,
                client=self.client,
                details={"operation": operation, "lab": lab_id, "reason": decision.reason},
            )
            raise PermissionDenied(decision.reason)
        self.vault.unlock(decision.compartments)

    def _event(self, outcome: Outcome, details: dict[str, DetailValue]) -> None:
        self.trail.record(
            self.actor, Action.KEY_OPERATION, outcome, client=self.client, details=details
        )
