"""A plan's named approvers, checked against the live accounts and the policy.

The plan file names two approvers by user name and policy role; only the
service knows whether those accounts exist, are active, hold that role and may
approve a plan of the plan's labs. Checked when the plan is registered (so the
author learns at once that a name is invented) and again at each approval (an
account may have changed since). The plan's author never approves it.
"""

from __future__ import annotations

from etanche.access import Accounts, Action, Actor, Resource, User, can
from etanche.errors import ConfigError, RecordNotFound
from etanche.migrate import Approver, MigrationPlan
from etanche.vault import Vault

__all__ = ["check_approvers", "plan_lab"]

MIGRATION = "migration"


def plan_lab(plan: MigrationPlan) -> str | None:
    """The one lab a single-lab plan concerns; None (network-wide) for several."""
    return plan.labs[0] if len(plan.labs) == 1 else None


def _account_problem(plan: MigrationPlan, approver: Approver, user: User) -> str | None:
    """Why this live account cannot approve the plan as the approver it names, or None."""
    if not user.active:
        return "the account is disabled"
    if user.role != approver.role:
        return f"the account holds the {user.role} role, not {approver.role}"
    actor = Actor(username=user.username, user_id=user.id, role=user.role, labs=user.labs)
    decision = can(actor, Action.MIGRATION_APPROVE, Resource(MIGRATION, plan_lab(plan)))
    if not decision.allowed:
        return f"may not approve this plan ({decision.reason})"
    return None


def check_approvers(vault: Vault, plan: MigrationPlan, *, author: str) -> None:
    """Raise ConfigError naming the first approver who cannot approve, and why."""
    accounts = Accounts(vault)
    seen: set[str] = set()
    for index, approver in enumerate(plan.approvers, start=1):
        entry = f"approvers[{index}]"
        reason: str | None
        if approver.username == author:
            reason = "the plan's author cannot approve it"
        else:
            try:
                user = accounts.get(approver.username)
            except RecordNotFound:
                reason = "no account with that user name"
            else:
                reason = _account_problem(plan, approver, user)
                if reason is None and user.id in seen:
                    reason = "the same account as the other approver"
                seen.add(user.id)
        if reason is not None:
            raise ConfigError(f"plan {plan.id}", entry, approver.username, reason)
