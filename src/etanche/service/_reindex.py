"""The front-desk index backfill as the service runs it: decided, audited as one event.

Records written before the prefix and phonetic indexes existed are missing from a
front-desk search. The service measures the gap at every unseal (two counts) and
fills it at once when there is one; a network-wide lab admin can also run it
(``etanche vault reindex``). The event holds counts only: how many records were
missing, indexed, unreadable, in how many batches.
"""

from __future__ import annotations

from etanche.access import Action, Actor, Resource, can
from etanche.audit import DetailValue, Outcome
from etanche.domain import Compartment
from etanche.errors import EtancheError, PermissionDenied
from etanche.service._trail import Trail
from etanche.vault import ReindexReport, Vault

BATCH = 500


def backfill(
    vault: Vault,
    trail: Trail,
    *,
    actor: Actor | None,
    client: str | None,
    batch_size: int = BATCH,
) -> ReindexReport:
    """Index what is missing (the session holds the admin compartment); one event."""
    gap = vault.front_desk_gap()
    try:
        report = vault.reindex_front_desk(batch_size=batch_size)
    except EtancheError as exc:
        details: dict[str, DetailValue] = {"missing": gap, "error": type(exc).__name__}
        trail.record(actor, Action.VAULT_REINDEX, Outcome.FAILED, client=client, details=details)
        raise
    details = {"missing": gap, **report.to_dict()}  # counts only
    trail.record(actor, Action.VAULT_REINDEX, Outcome.OK, client=client, details=details)
    return report


def reindex_at_start(vault: Vault, trail: Trail) -> ReindexReport | None:
    """At unseal: backfill only if the counts show records without front-desk rows."""
    if vault.front_desk_gap() == 0:
        return None
    return backfill(vault.session([Compartment.ADMIN]), trail, actor=None, client="server")


class Reindex:
    """One person's backfill run (a network-wide lab admin), decided and audited."""

    def __init__(self, vault: Vault, trail: Trail, actor: Actor, *, client: str | None) -> None:
        self.vault = vault
        self.trail = trail
        self.actor = actor
        self.client = client

    def run(self, *, batch_size: int = BATCH) -> ReindexReport:
        decision = can(self.actor, Action.VAULT_REINDEX, Resource("vault"))
        if not decision.allowed:
            self.trail.record(
                self.actor,
                Action.VAULT_REINDEX,
                Outcome.DENIED,
                client=self.client,
                details={"reason": decision.reason},
            )
            raise PermissionDenied(decision.reason)
        self.vault.unlock(decision.compartments)
        return backfill(
            self.vault, self.trail, actor=self.actor, client=self.client, batch_size=batch_size
        )
