"""Duplicate detection as the identity officer runs it: decide, decrypt in memory, link, log.

``identity.link`` decrypts the identity compartment of every live record of the
network inside this process, hands the traits to the linkage room (DuckDB in
memory, no temporary file) and stores only the candidate pairs: ids, weights and
level codes. ``identity.pairs`` reads that queue. Both are network-wide
resources, decided by the policy and logged once here, denials included; the
events carry counts, never an id of the pairs or a value.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from etanche.access import Action, Actor, Resource, can
from etanche.audit import DetailValue, Outcome, is_decoy
from etanche.domain import Patient
from etanche.errors import EtancheError, PermissionDenied, UsageError
from etanche.linkage import Digests, LinkageConfig, link_in_memory, traits
from etanche.service._trail import Trail
from etanche.settings import current
from etanche.vault import (
    NAME_DOB_INDEX,
    NIR_INDEX,
    StoredPair,
    Vault,
    index_digests,
    new_record_id,
    read_pairs,
    replace_pairs,
)

__all__ = ["IdentityLinkage", "LinkRun"]

BATCH = 2_000
MAX_PAGE = 1_000
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class LinkRun:
    """What a run did, in counts: safe to print and to log."""

    run_id: str
    records: int
    pairs: int
    threshold: float
    seconds: float


def linkage_config() -> LinkageConfig:
    """The run's settings (ETANCHE_LINKAGE_*), read when a run starts."""
    settings = current()
    return LinkageConfig(
        threshold=settings.linkage_threshold, memory_limit_mb=settings.linkage_memory_mb
    )


class IdentityLinkage:
    """One person's identity-vigilance operations on one vault session."""

    def __init__(
        self,
        vault: Vault,
        trail: Trail,
        actor: Actor,
        *,
        client: str | None = None,
        config: LinkageConfig | None = None,
    ) -> None:
        self.vault = vault
        self.trail = trail
        self.actor = actor
        self.client = client
        self.config = config or linkage_config()

    def link(self) -> LinkRun:
        """Train the model on the network's records, replace the queue, return the counts."""
        action = Action.IDENTITY_LINK
        decision = can(self.actor, action, Resource("identity"))
        details: dict[str, DetailValue] = {"threshold": self.config.threshold}
        if not decision.allowed:
            self._record(action, Outcome.DENIED, {**details, "reason": decision.reason})
            raise PermissionDenied(decision.reason)
        session = self.vault.session(decision.compartments)

        def run() -> LinkRun:
            started = time.perf_counter()
            run_id = new_record_id()
            labs: dict[str, str] = {}
            digests = index_digests(session.engine, [NIR_INDEX, NAME_DOB_INDEX])

            def rows() -> Iterator[dict[str, Any]]:
                for patient in self._records(session):
                    labs[patient.id] = patient.lab_id
                    mine = digests.pop(patient.id, {})
                    found = Digests(mine.get(NIR_INDEX), mine.get(NAME_DOB_INDEX))
                    yield traits(patient, found)

            result = link_in_memory(rows(), self.config)
            now = datetime.now(UTC)
            stored = replace_pairs(
                session.engine,
                (
                    StoredPair(
                        p.left,
                        p.right,
                        labs[p.left],
                        labs[p.right],
                        round(p.weight, 3),
                        p.probability,
                        p.levels,
                        run_id,
                        now,
                    )
                    for p in result.pairs
                ),
            )
            seconds = round(time.perf_counter() - started, 3)
            return LinkRun(run_id, result.records, stored, self.config.threshold, seconds)

        found = self._run(action, details, run)
        return found

    def pairs(self, *, limit: int = 100, offset: int = 0) -> tuple[int, list[StoredPair]]:
        """(total, one page) of the review queue, strongest first: ids and codes only."""
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise UsageError(f"limit: between 1 and {MAX_PAGE}; offset: 0 or more")
        action = Action.IDENTITY_PAIRS
        decision = can(self.actor, action, Resource("identity"))
        details: dict[str, DetailValue] = {"limit": limit, "offset": offset}
        if not decision.allowed:
            self._record(action, Outcome.DENIED, {**details, "reason": decision.reason})
            raise PermissionDenied(decision.reason)
        return self._run(
            action, details, lambda: read_pairs(self.vault.engine, limit=limit, offset=offset)
        )

    def _records(self, session: Vault) -> Iterator[Patient]:
        """Every live record but the decoys (a decoy read would be an alert, not a twin)."""
        ids = [pid for pid in session.patient_ids() if not is_decoy(session, pid)]
        for start in range(0, len(ids), BATCH):
            yield from session.get_many(ids[start : start + BATCH])

    def _run(self, action: Action, details: dict[str, DetailValue], work: Callable[[], _T]) -> _T:
        try:
            result = work()
        except EtancheError as exc:
            self._record(action, Outcome.FAILED, {**details, "error": type(exc).__name__})
            raise
        except MemoryError:
            self._record(action, Outcome.FAILED, {**details, "error": "MemoryError"})
            raise UsageError(
                "identity link: out of memory (raise ETANCHE_LINKAGE_MEMORY_MB)"
            ) from None
        if isinstance(result, LinkRun):
            details = {
                **details,
                "records": result.records,
                "pairs": result.pairs,
                "run": result.run_id,
            }
        elif isinstance(result, tuple):
            details = {**details, "total": result[0], "returned": len(result[1])}
        self._record(action, Outcome.OK, details)
        return result

    def _record(self, action: Action, outcome: Outcome, details: dict[str, DetailValue]) -> None:
        self.trail.record(self.actor, action, outcome, client=self.client, details=details)
