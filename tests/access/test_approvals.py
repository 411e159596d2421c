"""Second approvals in the access room: when one is needed, who may give it, what it changes."""

from __future__ import annotations

import pytest
from access_support import PASSWORD, People

from etanche.access import Action, Actor, Role, needs_approval
from etanche.errors import (
    AuthenticationFailed,
    PermissionDenied,
    RecordNotFound,
    ValidationError,
)
from etanche.synth import staff_rpps

L01, L02, BOTH, ALL = (
    frozenset({"L01"}),
    frozenset({"L02"}),
    frozenset({"L01", "L02"}),
    frozenset({"*"}),
)


def test_which_changes_wait_for_a_second_person() -> None:
    assert not needs_approval(Role.RECEPTION, L01)
    for role in (Role.BIOLOGIST, Role.LAB_ADMIN, Role.DPO, Role.AUDITOR, Role.MIGRATION_OPERATOR):
        assert needs_approval(role, L01 if role in (Role.BIOLOGIST, Role.LAB_ADMIN) else ALL)
    assert needs_approval(Role.BIOLOGIST, L01, (Role.RECEPTION, L01))  # elevation
    assert needs_approval(Role.BIOLOGIST, BOTH, (Role.BIOLOGIST, L01))  # one lab more
    assert not needs_approval(Role.BIOLOGIST, L01, (Role.BIOLOGIST, BOTH))  # narrowing
    assert not needs_approval(Role.LAB_ADMIN, L01, (Role.LAB_ADMIN, ALL))
    assert not needs_approval(Role.RECEPTION, L01, (Role.BIOLOGIST, L01))  # a downgrade


def _local_admin(people: People, username: str, name: str, labs: set[str]) -> Actor:
    people.enrol(people.add(username, name, Role.LAB_ADMIN, labs))
    actor, _ = people.login(username)
    return actor


def test_a_pending_account_cannot_log_in_and_the_requester_cannot_approve(
    people: People,
) -> None:
    local = _local_admin(people, "ptanguy", "Pierre Tanguy", {"L01"})
    user = people.accounts.add(
        "jbodiguel", "Jeanne Bodiguel", Role.BIOLOGIST, {"L01"}, PASSWORD, local,
        rpps=staff_rpps("jbodiguel"),
    )  # fmt: skip
    assert user.pending and user.state == "pending"
    with pytest.raises(AuthenticationFailed, match="second person's approval"):
        people.sessions.begin_enrolment("jbodiguel", PASSWORD)
    with pytest.raises(AuthenticationFailed, match="wrong user name"):
        people.sessions.begin_enrolment("jbodiguel", "not her password at all")
    with pytest.raises(PermissionDenied, match="requester cannot approve"):
        people.approvals.approve("jbodiguel", local)
    overlapping = _local_admin(people, "mriou", "Maiwenn Riou", {"L01", "L02"})
    with pytest.raises(PermissionDenied, match="same lab"):
        people.approvals.approve("jbodiguel", overlapping)
    other = _local_admin(people, "gquere", "Gwenn Quere", {"L02"})
    token_of_other = Actor(
        other.username,
        other.user_id,
        other.role,
        other.labs,
        scopes=frozenset({Action.USER_APPROVE, Action.USER_MANAGE}),
    )
    with pytest.raises(PermissionDenied, match="login session"):
        people.approvals.approve("jbodiguel", token_of_other)
    request, custodians = people.approvals.approve("jbodiguel", other)
    assert request.kind == "create" and custodians == ()
    assert not people.accounts.get("jbodiguel").pending
    people.enrol(people.accounts.get("jbodiguel"))  # she logs in now


def test_a_refused_account_is_disabled_and_frees_the_name(people: People) -> None:
    assert people.root is not None and people.approver is not None
    people.accounts.add(
        "jbodiguel", "Jeanne Bodiguel", Role.BIOLOGIST, {"L01"}, PASSWORD, people.root,
        rpps=staff_rpps("jbodiguel"),
    )  # fmt: skip
    people.approvals.refuse("jbodiguel", people.approver)
    assert people.accounts.get("jbodiguel").state == "disabled"
    with pytest.raises(RecordNotFound, match="no request waiting"):
        people.approvals.approve("jbodiguel", people.approver)
    again = people.add("jbodiguel2", "Jeanne Bodiguel", Role.BIOLOGIST, {"L01"})
    assert again.active and not again.pending  # approved by the DPO of the fixture


def test_a_dpo_without_another_dpo_needs_the_custodians(people: People) -> None:
    assert people.root is not None and people.approver is not None
    people.accounts.disable("nquillec", people.root)  # the only other DPO leaves
    people.accounts.add("kmorvan", "Katell Morvan", Role.DPO, {"*"}, PASSWORD, people.root)
    with pytest.raises(PermissionDenied, match="custodians' quorum"):
        people.approvals.approve("kmorvan", people.root)
    asked: list[str] = []

    def quorum() -> tuple[str, ...]:
        asked.append("asked")
        return ("aleroux", "mkerbrat")

    _, custodians = people.approvals.approve("kmorvan", people.root, quorum=quorum)
    assert custodians == ("aleroux", "mkerbrat") and asked == ["asked"]
    assert [r.decision for r in people.approvals.history("kmorvan")] == ["approved"]


def test_an_elevation_keeps_the_old_role_until_approved(people: People) -> None:
    assert people.root is not None and people.approver is not None
    people.enrol(people.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L01"}))
    asked = people.accounts.update(
        "mleguen", by=people.root, role=Role.BIOLOGIST, rpps=staff_rpps("mleguen")
    )
    assert asked.role is Role.RECEPTION
    actor, _ = people.login("mleguen")
    assert actor.role is Role.RECEPTION
    with pytest.raises(ValidationError, match="already has a request"):
        people.accounts.update("mleguen", by=people.root, role=Role.LAB_ADMIN)
    people.approvals.approve("mleguen", people.approver)
    assert people.accounts.get("mleguen").role is Role.BIOLOGIST
    actor, _ = people.login("mleguen")
    assert actor.role is Role.BIOLOGIST
