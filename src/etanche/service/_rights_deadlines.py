"""Deadlines of rights requests, read from the audit log: the check that alerts.

The log (Merkle tree, signed heads, witnesses) records every registration with
its deadline, every extension with the new one, and every closure. The check
takes each request's deadline from there, not from the ``rights_requests``
table, so whoever edits the table behind the service (deadline pushed back,
status set to closed, row deleted) cannot silence the alert; the mismatch is
reported as well. Each finding is one ``rights.overdue`` event of the system,
which the ``rights_overdue`` rule turns into one alert per request and deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from etanche.audit import Outcome, events_of
from etanche.domain import due_at, paris_day
from etanche.names import Action
from etanche.service._trail import Trail
from etanche.vault import RightsStore, Vault

_LOGGED = (Action.RIGHTS_ADD, Action.RIGHTS_EXTEND, Action.RIGHTS_CLOSE)


@dataclass(frozen=True, slots=True)
class Finding:
    """One request the check reports: overdue, or its table row not what the log says."""

    request: str
    due: date
    problem: str  # overdue, deadline_altered, closed_outside, missing, unlogged

    def to_dict(self) -> dict[str, str]:
        return {"request": self.request, "due": self.due.isoformat(), "problem": self.problem}


def logged_deadlines(trail: Trail, vault: Vault) -> dict[str, tuple[date, bool]]:
    """request id -> (deadline, closed) as the audit log tells it."""
    trail.flush()
    seen: list[tuple[int, str, str, str | None]] = []
    for logged in _LOGGED:
        for seq, event in events_of(vault.engine, logged.value):
            request, due = event.details.get("request"), event.details.get("due")
            if event.outcome is not Outcome.OK or not isinstance(request, str):
                continue
            seen.append((seq, logged.value, request, due if isinstance(due, str) else None))
    state: dict[str, tuple[date, bool]] = {}
    for _, action, request, due in sorted(seen):
        if action == Action.RIGHTS_CLOSE.value:
            if request in state:
                state[request] = (state[request][0], True)
        elif due is not None:
            state[request] = (date.fromisoformat(due), False)
    return state


def logged_restrictions(vault: Vault) -> dict[str, str]:
    """patient id -> request id of every restriction the log set and did not lift."""
    seen: list[tuple[int, bool, str, str]] = []
    for seq, event in events_of(vault.engine, Action.RIGHTS_CLOSE.value):
        details = event.details
        if (
            event.outcome is Outcome.OK
            and details.get("kind") == "restriction"
            and details.get("outcome") == "granted"
            and len(event.object_ids) == 2
        ):
            seen.append((seq, True, event.object_ids[0], event.object_ids[1]))
    for seq, event in events_of(vault.engine, Action.RIGHTS_LIFT.value):
        if event.outcome is Outcome.OK and len(event.object_ids) == 2:
            seen.append((seq, False, event.object_ids[0], event.object_ids[1]))
    held: dict[str, str] = {}
    for _, on, request, patient in sorted(seen):
        if on:
            held[patient] = request
        else:
            held.pop(patient, None)
    return held


def find_overdue(trail: Trail, vault: Vault, now: datetime) -> list[Finding]:
    """Every open request past its logged deadline, and every table row the log contradicts
    (a restriction removed behind the service too)."""
    logged = logged_deadlines(trail, vault)
    store = RightsStore(vault)
    stored = store.clear_columns()
    findings: list[Finding] = []
    for request, (due, closed) in sorted(logged.items()):
        row = stored.get(request)
        if row is None:
            findings.append(Finding(request, due, "missing"))
        elif row[1] != due_at(due):
            findings.append(Finding(request, due, "deadline_altered"))
        elif row[0] == "closed" and not closed:
            findings.append(Finding(request, due, "closed_outside"))
        if not closed and due_at(due) < now:
            findings.append(Finding(request, due, "overdue"))
    for request in sorted(stored.keys() - logged.keys()):
        findings.append(Finding(request, paris_day(stored[request][1]), "unlogged"))
    held = logged_restrictions(vault)
    for patient in sorted(held.keys() - store.restricted(held.keys())):
        request = held[patient]
        due = logged[request][0] if request in logged else paris_day(now)
        findings.append(Finding(request, due, "restriction_removed"))
    return findings


def report_overdue(trail: Trail, findings: list[Finding], *, client: str) -> None:
    """One ``rights.overdue`` event of the system per finding (the rule alerts on it)."""
    for finding in findings:
        details: dict[str, str | int | bool | float | None] = {
            "request": finding.request,
            "due": finding.due.isoformat(),
        }
        if finding.problem != "overdue":
            details["problem"] = finding.problem
        trail.record(
            None,
            Action.RIGHTS_OVERDUE,
            Outcome.FAILED,
            objects=[finding.request],
            client=client,
            details=details,
        )


def run_deadline_check(trail: Trail, vault: Vault, *, client: str = "schedule") -> list[Finding]:
    """The scheduled check: find, log each finding as the system, return them."""
    findings = find_overdue(trail, vault, datetime.now(UTC))
    report_overdue(trail, findings, client=client)
    trail.flush()
    return findings
