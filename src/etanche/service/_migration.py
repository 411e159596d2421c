"""The bridge between a migration plan and the leak-tracing room.

A package's rows pass the leak-tracing marker (fingerprints, canaries, ledger
entry) chosen from the plan: which marks the recipient tolerates, how many
canaries, how long the ledger keeps what tracing needs. Neither room knows the
other; the migration service (and the demo) build the marker here.
"""

from __future__ import annotations

from typing import Any

from etanche.errors import ConfigError, UsageError
from etanche.leak.trace import MarkedOutbound, parse_marks
from etanche.migrate import MigrationPlan, Outbound, OutboundFactory
from etanche.vault import Vault

__all__ = ["marker_for", "plan_marks"]


def plan_marks(plan: MigrationPlan) -> frozenset[str] | None:
    """The fingerprint marks the plan's recipient tolerates (None: all), checked."""
    if plan.marks is None:
        return None
    try:
        return parse_marks(",".join(plan.marks) or "none")
    except UsageError as exc:
        reason = str(exc).removeprefix("--marks: ")
        raise ConfigError(f"plan {plan.id}", None, "marks", reason) from None


def marker_for(plan: MigrationPlan, store: Vault) -> OutboundFactory:
    """The leak-tracing marker of this plan's package: fingerprints, canaries, ledger."""

    def make(state: dict[str, Any] | None) -> Outbound:
        if state:
            return MarkedOutbound.from_state(store, state)
        return MarkedOutbound(
            store,
            recipient=", ".join(r.name for r in plan.recipients),
            purpose=f"migration plan {plan.id}: {plan.purpose}",
            retention_days=plan.ledger_retention_days,
            marks=None if (chosen := plan_marks(plan)) is None else sorted(chosen),
            canary_rate=plan.canary_rate,
            lab_id=plan.labs[0] if len(plan.labs) == 1 else None,
        )

    return make
