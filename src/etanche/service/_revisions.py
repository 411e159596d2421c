"""Rollback detection: every vault write is logged, and the tables are checked against it.

The associated data of a ciphertext binds its revision, so an older ciphertext
written back over a row whose revision column was left alone fails to open.
Whoever holds the database can also rewind the revision column; that is what
this check sees: each value stored now must be the last write the audit log
(Merkle tree, signed heads, witnesses) recorded for it, hash for hash. The log
is verified in the same run, since a check against an altered log proves
nothing. The merge pointers of identity vigilance (a clear column) are checked
against their sealed merge documents in the same run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from etanche.access import Action, Actor, Resource, can
from etanche.audit import DetailValue, Outcome, events_of, verify_log
from etanche.errors import PermissionDenied
from etanche.service._identity import merge_findings
from etanche.service._trail import Trail
from etanche.vault import Journal, Ledger, Vault, WriteBatch, decode_writes

MAX_REPORTED = 1000  # findings returned to a client; the count is always exact


@dataclass(frozen=True)
class RevisionReport:
    """One check: values compared, write records replayed, what does not match."""

    values: int
    writes: int
    findings: list[str] = field(default_factory=list)
    audit_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings and not self.audit_problems

    def problems(self) -> list[str]:
        """Every problem line: the log's first, since the rest leans on it."""
        return [f"audit log: {p}" for p in self.audit_problems] + self.findings

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "values": self.values,
            "writes": self.writes,
            "findings": len(self.findings),
            "audit_problems": len(self.audit_problems),
            "problems": self.problems()[:MAX_REPORTED],
        }

    def details(self, where: str) -> dict[str, DetailValue]:
        """What the audit event of a check says: counts only."""
        return {
            "where": where,
            "values": self.values,
            "writes": self.writes,
            "findings": len(self.findings),
            "audit_problems": len(self.audit_problems),
        }


def journal_for(trail: Trail) -> Journal:
    """Log each committed batch of vault writes as one ``vault.write`` event of the system."""

    def journal(batch: WriteBatch) -> None:
        trail.record(None, Action.VAULT_WRITE, Outcome.OK, details=_write_details(batch))

    return journal


def _write_details(batch: WriteBatch, **extra: DetailValue) -> dict[str, DetailValue]:
    return {"table": batch.table, "count": batch.count, "writes": batch.encoded, **extra}


def logged_writes(vault: Vault) -> tuple[Ledger, int]:
    """The last logged write of every value, and how many write records were replayed."""
    ledger = Ledger()
    records = 0
    for _, event in events_of(vault.engine, Action.VAULT_WRITE):
        writes = list(decode_writes(str(event.details.get("writes") or "")))
        records += len(writes)
        ledger.add(writes)
    return ledger, records


def check_revisions(vault: Vault, trail: Trail) -> RevisionReport:
    """Verify the log, then compare every stored value with its last logged write."""
    trail.flush()
    log = trail.log
    audit = verify_log(
        vault.engine,
        log.public_key_pem(),
        head_every=log.head_every,
        head_interval_s=log.head_interval_s,
    )
    ledger, records = logged_writes(vault)
    values, findings = vault.check_revisions(ledger)
    found = [str(f) for f in findings] + merge_findings(vault)  # merge pointers, by hand?
    return RevisionReport(values, records, found, list(audit.problems))


def adopt_older_rows(vault: Vault, trail: Trail) -> int:
    """Once after the upgrade that brought revisions: log what older rows hold now.

    Rows written before revisions have no logged write; from here on they do,
    so a later rollback of them is seen. Returns the number of values adopted.
    """
    if not vault.adoption_pending():
        return 0
    ledger, _ = logged_writes(vault)
    adopted = 0
    for batch in vault.adopt_unlogged(ledger):
        trail.record(
            None, Action.VAULT_WRITE, Outcome.OK, details=_write_details(batch, adopted=True)
        )
        adopted += batch.count
    trail.flush()
    vault.adoption_done()
    return adopted


def report(
    trail: Trail,
    result: RevisionReport,
    *,
    actor: Actor | None,
    where: str,
    client: str | None = None,
) -> None:
    """Log a check (outcome failed when anything is off) and raise the alert if so."""
    details = result.details(where)
    if not result.ok:
        name = actor.username if actor is not None else "system"
        alert = trail.alerts.report_rollback(result.problems(), actor=name)
        if alert is not None:
            details["alert"] = alert.id
    outcome = Outcome.OK if result.ok else Outcome.FAILED
    trail.record(actor, Action.VAULT_VERIFY, outcome, client=client, details=details)


class Revisions:
    """One person's revision check (auditor or DPO), decided and audited."""

    def __init__(self, vault: Vault, trail: Trail, actor: Actor, *, client: str | None) -> None:
        self.vault = vault
        self.trail = trail
        self.actor = actor
        self.client = client

    def verify(self) -> RevisionReport:
        decision = can(self.actor, Action.VAULT_VERIFY, Resource("vault"))
        if not decision.allowed:
            self.trail.record(
                self.actor,
                Action.VAULT_VERIFY,
                Outcome.DENIED,
                client=self.client,
                details={"reason": decision.reason},
            )
            raise PermissionDenied(decision.reason)
        result = check_revisions(self.vault, self.trail)
        report(self.trail, result, actor=self.actor, where="request", client=self.client)
        return result
