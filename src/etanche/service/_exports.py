"""`etanche export` as people run it: only through an export plan two named persons approved.

The plan (``kind: export``) fixes the lab, the fields, the recipient and its
age key, the mark families and the canary rate; the command adds only where
the file goes and its format. Options that would decide what the plan decides
(``--lab``, ``--fields``, ``--marks``, ``--canary-rate``, ``--plaintext``…) are
refused by name, so yesterday's one-person export fails loudly. Every refusal
is an ``export.create`` event (the ``export`` alert rule fires on it), and the
plan is used once: its export is recorded on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from etanche.access import Action
from etanche.audit import DetailValue, Outcome
from etanche.errors import EtancheError, PlanNotApproved, UsageError
from etanche.leak.trace import DEFAULT_MARKS, Ledger, LedgerEntry
from etanche.leak.trace._export import FORMATS, ExportRequest, check_request, write_export
from etanche.migrate import EXPORT, MigrationPlan, Plans
from etanche.service._migration import plan_marks
from etanche.service._migrations import PlanText
from etanche.service._operations import Operations

__all__ = ["ExportAsked", "ExportOperations"]

Job = Callable[[Callable[[int], None] | None], LedgerEntry]

# Options an approved plan decides; given on the command line they are refused by name.
_DECIDED_BY_PLAN: dict[str, str] = {
    "lab": "--lab: the approved plan names the lab (scope.labs); drop the option",
    "recipient": "--recipient: the approved plan names the recipient and its age key",
    "fields": "--fields: the approved plan lists the fields; drop the option",
    "marks": (
        "--marks: the approved plan sets the mark families its recipient tolerates "
        "(never none); drop the option"
    ),
    "canary_rate": "--canary-rate: the approved plan sets the canary rate (never 0)",
    "retention_days": "--retention-days: the approved plan sets ledger_retention_days",
    "purpose": "--purpose: the approved plan states the purpose",
    "plaintext": (
        "--plaintext: an export is always age-encrypted to the plan's recipient; "
        "there is no plaintext export"
    ),
}


@dataclass(frozen=True, kw_only=True)
class ExportAsked:
    """What the client sent: the plan, where to write, the format, and any refused option."""

    plan: PlanText | None
    out: str
    fmt: str = "csv"
    refused: Mapping[str, object] = field(default_factory=dict)


class ExportOperations(Operations):
    """One person's exports: decided, checked against an approved plan, audited once."""

    def export(
        self, asked: ExportAsked, *, progress: Callable[[int], None] | None = None
    ) -> LedgerEntry:
        """Write the plan's lab for its recipient at ``asked.out`` on this host (age, 0600)."""
        return self.export_job(asked)(progress)

    def export_job(self, asked: ExportAsked) -> Job:
        """Check and decide an export now; the returned job writes it (a long operation)."""
        action = Action.EXPORT_CREATE
        details: dict[str, DetailValue] = {"format": asked.fmt}
        plan = self._plan(asked, details)
        lab = plan.labs[0] if plan is not None else None
        decision = self._decide(action, "export", lab, details)
        request = self._refuse_unless_approved(asked, plan, details)
        self.vault.unlock(decision.compartments)

        def job(progress: Callable[[int], None] | None) -> LedgerEntry:
            def work() -> LedgerEntry:
                assert plan is not None
                plans = Plans(self.vault)
                plans.claim_export(plan)
                before = _written(request.out)
                try:
                    Ledger(self.vault).purge_expired()
                    entry = write_export(self.vault, request, progress=progress)
                except BaseException:
                    if _written(request.out) == before:  # nothing left: the plan is not spent
                        plans.release_export(plan)
                    raise
                plans.record_export(plan, entry.export_id)
                return entry

            entry = self._run(action, details, work)
            details.update(
                export_id=entry.export_id,
                rows=len(entry.rows),
                canaries=len(entry.canaries),
                marks=",".join(sorted(entry.mark.marks)),
            )
            self._record(action, Outcome.OK, details)
            return entry

        return job

    def _plan(self, asked: ExportAsked, details: dict[str, DetailValue]) -> MigrationPlan | None:
        """The plan the client sent, parsed; a malformed one is a failed export event."""
        if asked.plan is None:
            return None
        try:
            plan = asked.plan.parse()
        except EtancheError as exc:
            self._record(
                Action.EXPORT_CREATE, Outcome.FAILED, {**details, "error": type(exc).__name__}
            )
            raise
        details.update(plan=plan.id, plan_sha256=plan.sha256[:16], lab=plan.labs[0])
        return plan

    def _refuse_unless_approved(
        self, asked: ExportAsked, plan: MigrationPlan | None, details: dict[str, DetailValue]
    ) -> ExportRequest:
        """The request the approved plan allows; any other case is a denied, audited event."""
        try:
            return self._request(asked, plan)
        except EtancheError as exc:
            reason = str(exc)[:300]
            self._record(Action.EXPORT_CREATE, Outcome.DENIED, {**details, "reason": reason})
            raise

    def _request(self, asked: ExportAsked, plan: MigrationPlan | None) -> ExportRequest:
        for option, refusal in _DECIDED_BY_PLAN.items():
            given = asked.refused.get(option)
            if given is not None and given is not False:  # 0 is given: a canary rate of 0
                raise UsageError(refusal)
        if asked.fmt not in FORMATS:
            raise UsageError(f"--format: expected one of {', '.join(FORMATS)}")
        if plan is None:
            raise PlanNotApproved(
                "export: no plan; nothing leaves without an export plan approved by two "
                "named persons (--plan)"
            )
        if plan.kind != EXPORT:
            raise UsageError(f"plan {plan.id}: a migration plan; an export needs kind: export")
        Plans(self.vault).require_approved(plan)
        recipient = plan.recipients[0]
        chosen = plan_marks(plan)
        request = ExportRequest(
            lab_id=plan.labs[0],
            recipient=recipient.name,
            recipient_key=recipient.age,
            purpose=f"export plan {plan.id}: {plan.purpose}",
            fmt=asked.fmt,
            out=_absolute(asked.out),
            marks=DEFAULT_MARKS if chosen is None else chosen,
            canary_rate=plan.canary_rate,
            retention_days=plan.ledger_retention_days,
            fields=tuple(f for names in plan.fields.values() for f in names),
        )
        check_request(request)
        return request


def _written(path: Path) -> tuple[int, int] | None:
    """What is at ``path`` (modification time and size), to tell whether a run wrote it."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_mtime_ns, found.st_size


def _absolute(given: str) -> Path:
    path = Path(given)
    if not path.is_absolute():
        raise UsageError(f"--out: {given}: give an absolute path on the service's host")
    return path
