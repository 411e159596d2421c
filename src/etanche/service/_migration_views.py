"""What the migration pages show, shaped by the service: plans, packages, certificates.

A plan, a package summary or a deletion certificate holds staff names, keys and
counts, never a patient value; the package's output folder is cut to its last
name so the server's paths do not travel to a browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from etanche.access import Action, Actor
from etanche.migrate import PlanRecord
from etanche.service._rights import actions_of
from etanche.vault import Document

__all__ = [
    "MigrationOverview",
    "PackageSummary",
    "PlanView",
    "package_summary",
    "scope_of",
    "view_action",
    "visible_to",
]

_VIEW_ACTIONS = (Action.MIGRATION_PLAN, Action.MIGRATION_APPROVE, Action.MIGRATION_CLOSE)


@dataclass(frozen=True)
class PackageSummary:
    """One built (or building) package of a plan, as the listing shows it."""

    id: str
    state: str
    records: int | None
    finished_at: str
    folder: str


@dataclass(frozen=True)
class MigrationOverview:
    """The plans a person may see, their packages (by plan id) and certificates."""

    plans: list[PlanRecord]
    packages: dict[str, list[PackageSummary]]
    certificates: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class PlanView:
    """One plan's record, its exact registered text and who must approve it."""

    plan: PlanRecord
    text: str  # empty once the plan is closed
    approvers: tuple[str, ...]
    can_approve: bool  # this person is a named approver who has not signed yet


def view_action(actor: Actor) -> Action:
    """The first migration action this role holds: the right to see the plans."""
    allowed = actions_of(actor)
    for action in _VIEW_ACTIONS:
        if action in allowed:
            return action
    return Action.MIGRATION_PLAN  # refused by the policy, and audited


def scope_of(actor: Actor) -> str | None:
    """None for a network-wide account; else one of its labs (plans are filtered to them)."""
    return None if actor.network_wide else sorted(actor.labs)[0]


def visible_to(actor: Actor, labs: tuple[str, ...]) -> bool:
    """A plan is shown to a person of every lab it concerns, or network-wide."""
    return actor.network_wide or (bool(labs) and set(labs) <= actor.labs)


def package_summary(document: Document) -> PackageSummary:
    body = document.body
    records = body.get("records")
    return PackageSummary(
        id=document.id,
        state=document.state,
        records=records if isinstance(records, int) else None,
        finished_at=str(body.get("finished_at", "")),
        folder=str(body.get("directory", "")).rsplit("/", 1)[-1],
    )
