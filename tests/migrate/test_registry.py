"""Nothing runs on an unapproved, modified or expired plan."""

from __future__ import annotations

import pytest
from migrate_support import Migration

from etanche.errors import ArtefactExpired, PermissionDenied, PlanNotApproved
from etanche.migrate import Plans, PlanState, load_plan


def test_two_named_approvals_make_a_plan_approved(migration: Migration) -> None:
    plan = load_plan(migration.write_plan())
    plans = Plans(migration.vault)
    with pytest.raises(PlanNotApproved, match="not registered"):
        plans.require_approved(plan)
    assert plans.register(plan, "pgirard").state == PlanState.PENDING
    plans.approve(plan, "cbernard")
    with pytest.raises(PlanNotApproved, match="waiting for the approval of alefevre"):
        plans.require_approved(plan)
    assert plans.approve(plan, "alefevre").state == PlanState.APPROVED
    assert plans.require_approved(plan).approved


def test_only_named_approvers_and_not_the_registrant(migration: Migration) -> None:
    plan = load_plan(migration.write_plan())
    plans = Plans(migration.vault)
    plans.register(plan, "cbernard")
    with pytest.raises(PermissionDenied, match="not a named approver"):
        plans.approve(plan, "pgirard")
    with pytest.raises(PermissionDenied, match="cannot approve"):
        plans.approve(plan, "cbernard")


def test_a_plan_edited_after_approval_does_not_run(migration: Migration) -> None:
    path = migration.write_plan()
    plan = load_plan(path)
    plans = Plans(migration.vault)
    plans.register(plan, "pgirard")
    plans.approve(plan, "cbernard")
    plans.approve(plan, "alefevre")
    edited = migration.plan_data()
    edited["fields"]["admin"].append("email")
    path.write_text(__import__("yaml").safe_dump(edited))
    changed = load_plan(path)
    with pytest.raises(PlanNotApproved, match="changed since it was registered"):
        plans.require_approved(changed)
    with pytest.raises(PlanNotApproved, match="differs from the registered plan"):
        plans.approve(changed, "cbernard")
    # registering the new text resets the approvals
    plans.register(changed, "pgirard")
    with pytest.raises(PlanNotApproved, match="waiting"):
        plans.require_approved(changed)


def test_a_forged_approval_does_not_verify(migration: Migration) -> None:
    plan = load_plan(migration.write_plan())
    plans = Plans(migration.vault)
    plans.register(plan, "pgirard")
    plans.approve(plan, "cbernard")
    plans.approve(plan, "alefevre")
    body = plans.body(plan.id)
    body["approvals"][0]["at"] = "2026-01-01T00:00:00+00:00"
    plans.update_body(plan.id, body, PlanState.APPROVED)
    with pytest.raises(PlanNotApproved, match="does not verify"):
        plans.require_approved(plan)


def test_an_expired_plan_does_not_run(migration: Migration) -> None:
    plan = load_plan(migration.write_plan(retention={"expires": "2020-01-01"}))
    plans = Plans(migration.vault)
    plans.register(plan, "pgirard")
    with pytest.raises(ArtefactExpired):
        plans.approve(plan, "cbernard")
    with pytest.raises(ArtefactExpired):
        plans.require_approved(plan)
