"""The one policy function, against a table written by hand (not derived from the code).

Every action × every role × seven situations: an unexpected success and an
unexpected denial both fail the matrix test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from etanche.access import (
    Action,
    Actor,
    BreakGlass,
    Decision,
    Resource,
    Role,
    can,
    compartments_for,
    role_actions,
)
from etanche.domain import Compartment

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
OWN, OTHER = "L01", "L02"

# Situations, in column order:
#   own    account of L01, resource in L01
#   other  account of L01, resource in L02
#   net    account of L01, network-wide resource (lab None)
#   bg     account of L01 with break-glass active, resource in L02
#   tok+   API token of the L01 account whose scopes include the action, resource in L01
#   tok-   API token of the L01 account whose scopes include every other action, resource in L01
#   star   network-wide account ("*"), network-wide resource
SITUATIONS = ("own", "other", "net", "bg", "tok+", "tok-", "star")

#                  reception  biologist  lab_admin  dpo      migration  auditor    officer
MATRIX = """
patient.search     Y..YY..    Y..YY..    .......    .......  .......    .......    Y...Y..
patient.read       Y..YY..    Y..YY..    .......    .......  .......    .......    Y...Y..
patient.create     Y...Y..    Y...Y..    .......    .......  .......    .......    .......
patient.update     Y...Y..    Y...Y..    .......    .......  .......    .......    Y...Y..
patient.erase      .......    Y...Y..    .......    .......  .......    .......    .......
patient.link       Y...Y..    Y...Y..    .......    .......  .......    .......    .......
clinical.update    .......    Y...Y..    .......    .......  .......    .......    .......
specimen.create    Y...Y..    Y...Y..    .......    .......  .......    .......    .......
specimen.label     Y...Y..    Y...Y..    .......    .......  .......    .......    .......
specimen.list      Y...Y..    Y...Y..    .......    .......  .......    .......    Y...Y..
export.create      .......    .......    .......    .......  Y...Y.Y    .......    .......
migration.plan     .......    .......    .......    .......  Y...Y.Y    .......    .......
migration.run      .......    .......    .......    .......  Y...Y.Y    .......    .......
migration.approve  .......    .......    Y...Y.Y    Y...Y.Y  .......    .......    .......
migration.import   .......    .......    .......    .......  Y...Y.Y    .......    .......
migration.close    .......    .......    .......    Y...Y.Y  Y...Y.Y    .......    .......
user.manage        .......    .......    Y...Y.Y    .......  .......    .......    .......
user.approve       .......    .......    YYYY..Y    YYYY..Y  .......    .......    .......
token.manage       YYYY..Y    YYYY..Y    YYYY..Y    YYYY..Y  YYYY..Y    YYYY..Y    YYYY..Y
keys.rotate        .......    .......    Y...Y.Y    .......  .......    .......    .......
lab.manage         .......    .......    Y...Y.Y    .......  .......    .......    .......
backup.create      .......    .......    Y...Y.Y    .......  .......    .......    .......
backup.drill       .......    .......    Y...Y.Y    .......  .......    Y...Y.Y    .......
backup.restore     .......    .......    .......    .......  .......    .......    .......
audit.read         .......    .......    .......    Y...Y.Y  .......    Y...Y.Y    .......
audit.verify       .......    .......    .......    Y...Y.Y  .......    Y...Y.Y    .......
alert.read         .......    .......    .......    Y...Y.Y  .......    .......    .......
alert.ack          .......    .......    .......    Y...Y.Y  .......    .......    .......
decoy.manage       .......    .......    .......    Y...Y.Y  .......    .......    .......
incident.manage    .......    .......    .......    Y...Y.Y  .......    .......    .......
incident.notify    .......    .......    .......    Y...Y.Y  .......    .......    .......
leak.scan          .......    .......    .......    Y...Y.Y  .......    .......    .......
leak.trace         .......    .......    .......    Y...Y.Y  .......    .......    .......
vault.verify       .......    .......    .......    Y...Y.Y  .......    Y...Y.Y    .......
vault.reindex      .......    .......    Y...Y.Y    .......  .......    .......    .......
register.read      .......    .......    .......    Y...Y.Y  .......    Y...Y.Y    .......
rights.read        .......    .......    .......    Y...Y.Y  .......    .......    .......
rights.add         .......    .......    .......    Y...Y.Y  .......    .......    .......
rights.lookup      .......    .......    .......    Y...Y.Y  .......    .......    .......
rights.verify      .......    .......    .......    Y...Y.Y  .......    .......    .......
rights.link        .......    .......    .......    Y...Y.Y  .......    .......    .......
rights.extend      .......    .......    .......    Y...Y.Y  .......    .......    .......
rights.close       .......    .......    .......    Y...Y.Y  .......    .......    .......
rights.erase       .......    .......    .......    Y...Y.Y  .......    .......    .......
rights.lift        .......    .......    .......    Y...Y.Y  .......    .......    .......
rights.check       .......    .......    .......    Y...Y.Y  .......    .......    .......
retention.purge    .......    .......    .......    Y...Y.Y  .......    .......    .......
retention.hold     .......    .......    .......    Y...Y.Y  .......    .......    .......
rights.access_report .......  .......    .......    Y...Y.Y  .......    .......    .......
identity.link      .......    .......    .......    Y...Y.Y  .......    .......    Y...Y..
identity.pairs     .......    .......    .......    Y...Y.Y  .......    .......    Y...Y..
rights.overdue     .......    .......    .......    .......  .......    .......    .......
auth.login         .......    .......    .......    .......  .......    .......    .......
auth.logout        .......    .......    .......    .......  .......    .......    .......
auth.break_glass   .......    .......    .......    .......  .......    .......    .......
keys.operation     .......    .......    .......    .......  .......    .......    .......
custody.unseal     .......    .......    .......    .......  .......    .......    .......
custody.approve    .......    .......    .......    .......  .......    .......    .......
vault.write        .......    .......    .......    .......  .......    .......    .......
identity.validate  Y...Y..    Y...Y..    .......    .......  .......    .......    Y...Y..
identity.retrieve_ins Y...Y..    Y...Y..    .......    .......  .......    .......    Y...Y..
identity.qualify   Y...Y..    Y...Y..    .......    .......  .......    .......    Y...Y..
identity.downgrade .......    .......    .......    .......  .......    .......    Y...Y..
identity.restore   .......    .......    .......    .......  .......    .......    Y...Y..
identity.review    .......    .......    .......    .......  .......    .......    Y...Y..
identity.merge     .......    .......    .......    .......  .......    .......    Y...Y..
identity.unmerge   .......    .......    .......    .......  .......    .......    Y...Y..
"""
ROLES = (
    Role.RECEPTION,
    Role.BIOLOGIST,
    Role.LAB_ADMIN,
    Role.DPO,
    Role.MIGRATION_OPERATOR,
    Role.AUDITOR,
    Role.IDENTITY_OFFICER,
)

# Compartments an allowed decision hands out (A = admin, C = clinical); absent = none.
COMPARTMENTS = {
    **{(Role.RECEPTION, a): "A" for a in ("patient.search", "patient.read", "patient.create")},
    **{(Role.RECEPTION, a): "A" for a in ("patient.update", "specimen.create", "specimen.list")},
    (Role.RECEPTION, "specimen.label"): "A",
    (Role.RECEPTION, "patient.link"): "A",
    (Role.BIOLOGIST, "patient.link"): "AC",
    **{
        (Role.BIOLOGIST, a): "AC"
        for a in (
            "patient.search",
            "patient.read",
            "patient.create",
            "patient.update",
            "patient.erase",
            "clinical.update",
            "specimen.create",
            "specimen.list",
            "specimen.label",
        )
    },
    (Role.LAB_ADMIN, "keys.rotate"): "AC",
    (Role.LAB_ADMIN, "lab.manage"): "AC",
    (Role.LAB_ADMIN, "vault.reindex"): "A",  # birth names and dates, to digests, in the service
    (Role.MIGRATION_OPERATOR, "migration.run"): "AC",
    (Role.MIGRATION_OPERATOR, "export.create"): "AC",
    (Role.MIGRATION_OPERATOR, "migration.import"): "AC",
    (Role.DPO, "incident.notify"): "A",
    (Role.DPO, "rights.lookup"): "A",
    (Role.DPO, "rights.erase"): "A",
    (Role.DPO, "retention.purge"): "A",  # the sealed-date check of the expired records only
    (Role.DPO, "rights.access_report"): "AC",
    **{(Role.RECEPTION, a): "A" for a in ("identity.validate", "identity.retrieve_ins")},
    (Role.RECEPTION, "identity.qualify"): "A",
    **{(Role.BIOLOGIST, a): "A" for a in ("identity.validate", "identity.retrieve_ins")},
    (Role.BIOLOGIST, "identity.qualify"): "A",
    **{
        (Role.IDENTITY_OFFICER, a): "A"
        for a in (
            "patient.search",
            "patient.read",
            "patient.update",
            "specimen.list",
            "identity.validate",
            "identity.retrieve_ins",
            "identity.qualify",
            "identity.downgrade",
            "identity.restore",
            "identity.review",
            "identity.merge",
            "identity.unmerge",
            "identity.link",
        )
    },
    (Role.DPO, "identity.link"): "A",
}

# Allowed in the "bg" column only because of the glass: the caller must raise an alert.
BREAK_GLASS_ACTIONS = {Action.PATIENT_SEARCH, Action.PATIENT_READ}


def expected_table() -> dict[tuple[Role, Action, str], bool]:
    table: dict[tuple[Role, Action, str], bool] = {}
    for line in MATRIX.strip().splitlines():
        action, *cells = line.split()
        assert len(cells) == len(ROLES), line
        for role, cell in zip(ROLES, cells, strict=True):
            assert len(cell) == len(SITUATIONS), line
            for situation, mark in zip(SITUATIONS, cell, strict=True):
                table[(role, Action(action), situation)] = mark == "Y"
    return table


def actor_in(role: Role, situation: str, action: Action) -> tuple[Actor, Resource]:
    base = Actor(username="jdoe", user_id="u1", role=role, labs=frozenset({OWN}), session_id="s1")
    if situation == "own":
        return base, Resource("thing", OWN)
    if situation == "other":
        return base, Resource("thing", OTHER)
    if situation == "net":
        return base, Resource("thing", None)
    if situation == "bg":
        glass = BreakGlass("Emergency admission at night", NOW + timedelta(minutes=30))
        return _replace(base, break_glass=glass), Resource("thing", OTHER)
    if situation == "tok+":
        return _replace(base, scopes=frozenset({action}), session_id="token:t1"), Resource(
            "thing", OWN
        )
    if situation == "tok-":
        others = frozenset(Action) - {action}
        return _replace(base, scopes=others, session_id="token:t1"), Resource("thing", OWN)
    if situation == "star":
        return _replace(base, labs=frozenset({"*"})), Resource("thing", None)
    raise AssertionError(situation)


def _replace(actor: Actor, **changes: object) -> Actor:
    fields = {
        "username": actor.username,
        "user_id": actor.user_id,
        "role": actor.role,
        "labs": actor.labs,
        "scopes": actor.scopes,
        "break_glass": actor.break_glass,
        "session_id": actor.session_id,
    }
    fields.update(changes)
    return Actor(**fields)  # type: ignore[arg-type]


def test_the_table_covers_every_action_and_role() -> None:
    table = expected_table()
    assert {a for _, a, _ in table} == set(Action)
    assert {r for r, _, _ in table} == set(Role)
    assert len(table) == len(Action) * len(Role) * len(SITUATIONS)


def test_authorization_matrix() -> None:
    unexpected: list[str] = []
    for (role, action, situation), allowed in sorted(expected_table().items()):
        actor, resource = actor_in(role, situation, action)
        decision = can(actor, action, resource, now=NOW)
        assert isinstance(decision, Decision)
        assert decision.reason, (role, action, situation)
        if decision.allowed != allowed:
            kind = "success" if decision.allowed else "denial"
            unexpected.append(f"unexpected {kind}: {role} {action} {situation}: {decision.reason}")
            continue
        if not decision.allowed:
            assert decision.compartments == frozenset()
            assert not decision.break_glass_used
            continue
        letters = COMPARTMENTS.get((role, action.value), "")
        wanted = {c for c in Compartment if c.value[0].upper() in letters}
        assert decision.compartments == wanted, (role, action, situation)
        through_glass = situation == "bg" and action in BREAK_GLASS_ACTIONS
        assert decision.break_glass_used is through_glass, (role, action, situation)
    assert unexpected == []


def test_compartments_per_role() -> None:
    assert compartments_for(Role.RECEPTION) == {Compartment.ADMIN}
    assert compartments_for(Role.BIOLOGIST) == {Compartment.ADMIN, Compartment.CLINICAL}
    # re-encrypting a lab or writing a package needs its keys, not the right to browse
    assert compartments_for(Role.LAB_ADMIN) == {Compartment.ADMIN, Compartment.CLINICAL}
    assert compartments_for(Role.MIGRATION_OPERATOR) == {Compartment.ADMIN, Compartment.CLINICAL}
    # breach letters need names and addresses; the patient's own copy (art. 15) needs all
    assert compartments_for(Role.DPO) == {Compartment.ADMIN, Compartment.CLINICAL}
    assert compartments_for(Role.AUDITOR) == frozenset()


def test_a_reception_decision_never_hands_out_the_clinical_key() -> None:
    actor = Actor("mleguen", "u1", Role.RECEPTION, frozenset({OWN}))
    for action in Action:
        for lab in (OWN, OTHER, None):
            decision = can(actor, action, Resource("patient", lab), now=NOW)
            assert Compartment.CLINICAL not in decision.compartments


def test_break_glass_expires() -> None:
    glass = BreakGlass("Emergency admission at night", NOW + timedelta(minutes=30))
    actor = Actor("mleguen", "u1", Role.BIOLOGIST, frozenset({OWN}), break_glass=glass)
    other = Resource("patient", OTHER)
    assert can(actor, Action.PATIENT_READ, other, now=NOW + timedelta(minutes=29)).allowed
    late = can(actor, Action.PATIENT_READ, other, now=NOW + timedelta(minutes=30))
    assert not late.allowed and "outside" in late.reason


def test_break_glass_covers_a_network_wide_search_but_never_writes() -> None:
    glass = BreakGlass("Emergency admission at night", NOW + timedelta(minutes=30))
    actor = Actor("mleguen", "u1", Role.BIOLOGIST, frozenset({OWN}), break_glass=glass)
    search = can(actor, Action.PATIENT_SEARCH, Resource("patient", None), now=NOW)
    assert search.allowed and search.break_glass_used
    for action in (Action.PATIENT_ERASE, Action.PATIENT_CREATE, Action.PATIENT_UPDATE):
        assert not can(actor, action, Resource("patient", OTHER), now=NOW).allowed
    # own lab: allowed without using the glass, so no alert
    own = can(actor, Action.PATIENT_READ, Resource("patient", OWN), now=NOW)
    assert own.allowed and not own.break_glass_used


def test_break_glass_does_not_travel_on_a_token() -> None:
    glass = BreakGlass("Emergency admission at night", NOW + timedelta(minutes=30))
    actor = Actor(
        "mleguen",
        "u1",
        Role.BIOLOGIST,
        frozenset({OWN}),
        scopes=frozenset({Action.PATIENT_READ}),
        break_glass=glass,
    )
    assert not can(actor, Action.PATIENT_READ, Resource("patient", OTHER), now=NOW).allowed


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.BIOLOGIST])
def test_patient_roles_cannot_hold_the_network_wide_marker(role: Role) -> None:
    actor = Actor("mleguen", "u1", role, frozenset({"*"}))
    for lab in (OWN, None, "*"):
        assert not can(actor, Action.PATIENT_READ, Resource("patient", lab), now=NOW).allowed


def test_reasons_carry_no_patient_value() -> None:
    actor = Actor("mleguen", "u1", Role.RECEPTION, frozenset({OWN}))
    resource = Resource("patient", OTHER, patient_id="4f1c0ffee")
    for action in Action:
        assert "4f1c0ffee" not in can(actor, action, resource, now=NOW).reason


def test_role_actions_are_what_tokens_may_carry() -> None:
    assert Action.PATIENT_ERASE not in role_actions(Role.RECEPTION)
    assert Action.PATIENT_ERASE in role_actions(Role.BIOLOGIST)
    assert not any(a.value.startswith("patient.") for a in role_actions(Role.MIGRATION_OPERATOR))


def test_decision_is_truthy_only_when_allowed() -> None:
    actor = Actor("mleguen", "u1", Role.RECEPTION, frozenset({OWN}))
    assert can(actor, Action.PATIENT_READ, Resource("patient", OWN), now=NOW)
    assert not can(actor, Action.PATIENT_ERASE, Resource("patient", OWN), now=NOW)


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.BIOLOGIST])
def test_a_restricted_record_is_read_but_not_changed_erased_or_given_specimens(role: Role) -> None:
    actor = Actor("p1", "u1", role, frozenset({OWN}))
    restricted = Resource("patient", OWN, "pid", restricted=True)
    assert can(actor, Action.PATIENT_READ, restricted, now=NOW)
    for action in (Action.PATIENT_UPDATE, Action.PATIENT_ERASE, Action.SPECIMEN_CREATE):
        decision = can(actor, action, restricted, now=NOW)
        assert not decision
        if action in role_actions(role):
            assert "restricted (GDPR art. 18)" in decision.reason
    assert can(actor, Action.PATIENT_UPDATE, Resource("patient", OWN, "pid"), now=NOW)
