"""Non-patient actions of one person: decided by the policy, logged in the trail.

For pages whose work is not yet an operation of its own (a plan's listing, a
certificate download): they ask ``require`` before and ``note`` after, and
never reach the policy or the trail themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from etanche.access import Actor, Resource, can, scopes_cover
from etanche.audit import DetailValue, Outcome
from etanche.errors import PermissionDenied
from etanche.names import Action
from etanche.service._trail import Trail


class Acts:
    """One person's decisions and audit events outside the patient operations."""

    def __init__(self, trail: Trail, actor: Actor, *, client: str | None = None) -> None:
        self.trail = trail
        self.actor = actor
        self.client = client

    def require(
        self,
        action: Action,
        details: Mapping[str, DetailValue] | None = None,
        *,
        lab_id: str | None = None,
    ) -> None:
        """Ask the policy; a refusal is audited (with its reason), then raised."""
        decision = can(self.actor, action, Resource(action.value.split(".")[0], lab_id))
        if not decision.allowed:
            self.note(action, Outcome.DENIED, {**(details or {}), "reason": decision.reason})
            raise PermissionDenied(decision.reason)

    def require_scopes(self, operation: str, actions: Iterable[Action]) -> None:
        """An API token must hold every action ``operation`` performs; a refusal is audited.

        ``operation`` is the route's method and path template (``GET /fhir/Patient``),
        never a requested value.
        """
        wanted = sorted(set(actions))
        decision = scopes_cover(self.actor, wanted)
        if decision.allowed:
            return
        missing = [
            a for a in wanted if self.actor.scopes is not None and a not in self.actor.scopes
        ]
        details = {"operation": operation, "reason": f"{operation}: {decision.reason}"}
        self.note(missing[0], Outcome.DENIED, details)
        raise PermissionDenied(f"{operation}: {decision.reason}")

    def note(
        self,
        action: Action,
        outcome: Outcome = Outcome.OK,
        details: Mapping[str, DetailValue] | None = None,
        objects: Iterable[str] = (),
    ) -> None:
        """One audit event of this person (outcome ok unless said)."""
        self.trail.record(
            self.actor, action, outcome, objects=objects, client=self.client, details=details
        )
