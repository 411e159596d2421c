"""What every person's operations share: decide with the policy, run, record the outcome.

One place for the three steps, so a refusal, a failure and a success of any
operation read alike in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from etanche.access import Action, Actor, Decision, Resource, can
from etanche.audit import DetailValue, Outcome
from etanche.errors import EtancheError, PermissionDenied
from etanche.service._trail import Trail
from etanche.vault import Vault

_T = TypeVar("_T")


class Operations:
    """One person's operations on one vault session, each one decided and audited."""

    def __init__(
        self, vault: Vault, trail: Trail, actor: Actor, *, client: str | None = None
    ) -> None:
        self.vault = vault
        self.trail = trail
        self.actor = actor
        self.client = client

    def _decide(
        self, action: Action, kind: str, lab: str | None, details: Mapping[str, DetailValue]
    ) -> Decision:
        """The policy's answer; a refusal is recorded with its reason, then raised."""
        decision = can(self.actor, action, Resource(kind, lab))
        if not decision.allowed:
            self._record(action, Outcome.DENIED, {**details, "reason": decision.reason})
            raise PermissionDenied(decision.reason)
        return decision

    def _run(
        self, action: Action, details: Mapping[str, DetailValue], work: Callable[[], _T]
    ) -> _T:
        """Do the work; a failure is recorded (outcome failed) before it propagates."""
        try:
            return work()
        except EtancheError as exc:
            self._record(action, Outcome.FAILED, {**details, "error": type(exc).__name__})
            raise

    def _record(
        self,
        action: Action,
        outcome: Outcome,
        details: Mapping[str, DetailValue],
        objects: Sequence[str] = (),
    ) -> None:
        self.trail.record(
            self.actor, action, outcome, objects=objects, client=self.client, details=details
        )
