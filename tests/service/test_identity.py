"""Identity vigilance in the service: who may move a status, merges and their exact undo.

Each role tries each status move on a record of its own lab; the policy's table
in docs/identity.md is what must hold. A merge then an unmerge leaves both
records' ciphertexts, decrypted payloads and specimens as they were; a merge
across labs waits for the other lab's officer.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from etanche.access import Action, Actor, Role
from etanche.audit import AuditLog, Outcome
from etanche.audit._alerts import AlertEngine
from etanche.audit._rules import load_rules
from etanche.domain import Clinical, DowngradeReason, IdentityStatus, Patient, strict_traits
from etanche.errors import PermissionDenied, ValidationError
from etanche.service import IdentityService, Trail
from etanche.service._identity import merge_findings
from etanche.synth import SynthNetwork
from etanche.vault import Vault, patients_table, specimens_table

AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
NIR_OID = "1.2.250.1.213.1.4.8"


def _service(vault: Vault, name: str, role: Role, labs: set[str]) -> IdentityService:
    actor = Actor(name, f"u-{name}", role, frozenset(labs))
    log = AuditLog.for_vault(vault, head_every=1000, head_interval_s=3600)
    return IdentityService(
        vault.session(()), Trail(log, AlertEngine(vault.engine, load_rules())), actor
    )


def _provisional(vault: Vault, network: SynthNetwork, lab: str, skip: int = 0) -> Patient:
    """A record of ``lab`` put back to provisoire with no evidence (as registered)."""
    found = [p for p in network.patients() if p.lab_id == lab and p.first_names][skip]
    vault.update(replace(found, identity_status=IdentityStatus.PROVISIONAL))
    return vault.get(found.id)


def _events(service: IdentityService, action: Action) -> list[tuple[Outcome, tuple[str, ...]]]:
    return [
        (e.outcome, e.object_ids)
        for _, e in service.trail.log.events(actor=service.actor.username)
        if e.action == action.value
    ]


# role -> the moves it may make (docs/identity.md, "Who may move a status")
MAY = {
    Role.RECEPTION: {"validate", "retrieve", "qualify"},
    Role.BIOLOGIST: {"validate", "retrieve", "qualify"},
    Role.IDENTITY_OFFICER: {"validate", "retrieve", "qualify", "downgrade", "restore"},
    Role.LAB_ADMIN: set(),
    Role.DPO: set(),
    Role.AUDITOR: set(),
    Role.MIGRATION_OPERATOR: set(),
}


@pytest.mark.parametrize("role", list(MAY))
def test_every_status_move_allowed_or_refused_per_role(
    loaded_vault: Vault, small_network: SynthNetwork, role: Role
) -> None:
    lab = small_network.labs[0].id
    patient = _provisional(loaded_vault, small_network, lab)
    desk = _service(loaded_vault, "desk", Role.IDENTITY_OFFICER, {lab})
    service = _service(loaded_vault, "someone", role, {lab})
    traits = strict_traits(patient)
    moves = {
        "validate": lambda: service.validate(patient.id, "cni", AT),
        "retrieve": lambda: service.retrieve_ins(
            patient.id, "261042901912345", NIR_OID, traits, AT
        ),
        "qualify": lambda: service.qualify(patient.id),
        "downgrade": lambda: service.downgrade(
            patient.id, IdentityStatus.PROVISIONAL, DowngradeReason.IDENTITY_DOUBT
        ),
        "restore": lambda: service.restore(patient.id),
    }
    expected = {
        "validate": IdentityStatus.VALIDATED,
        "retrieve": IdentityStatus.VALIDATED,  # a validated identity waits for qualify
        "qualify": IdentityStatus.QUALIFIED,
        "downgrade": IdentityStatus.PROVISIONAL,
        "restore": IdentityStatus.QUALIFIED,
    }
    for move in ("validate", "retrieve", "qualify", "downgrade", "restore"):
        if move in MAY[role]:
            assert moves[move]().identity_status is expected[move], move
        else:
            with pytest.raises(PermissionDenied):
                moves[move]()
            # the officer makes the move instead, so the next one starts from the right place
            {
                "validate": lambda: desk.validate(patient.id, "cni", AT),
                "retrieve": lambda: desk.retrieve_ins(
                    patient.id, "261042901912345", NIR_OID, traits, AT
                ),
                "qualify": lambda: desk.qualify(patient.id),
                "downgrade": lambda: desk.downgrade(
                    patient.id, IdentityStatus.PROVISIONAL, DowngradeReason.IDENTITY_DOUBT
                ),
                "restore": lambda: desk.restore(patient.id),
            }[move]()
    denied = [
        e
        for _, e in service.trail.log.events(actor="someone")
        if e.action.startswith("identity.") and e.outcome is Outcome.DENIED
    ]
    assert len(denied) == 5 - len(MAY[role])
    assert loaded_vault.get(patient.id).identity_status is IdentityStatus.QUALIFIED


def test_moves_outside_ones_labs_are_refused(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    mine, other = small_network.labs[0].id, small_network.labs[1].id
    patient = _provisional(loaded_vault, small_network, other)
    for role in (Role.RECEPTION, Role.IDENTITY_OFFICER):
        with pytest.raises(PermissionDenied, match="outside this account's labs"):
            _service(loaded_vault, "x", role, {mine}).validate(patient.id, "cni", AT)


def test_a_refused_rule_is_logged_without_values(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    lab = small_network.labs[0].id
    patient = _provisional(loaded_vault, small_network, lab)
    desk = _service(loaded_vault, "mleguen", Role.RECEPTION, {lab})
    with pytest.raises(ValidationError, match="no high-trust document"):
        desk.qualify(patient.id)
    event = next(
        e for _, e in desk.trail.log.events(actor="mleguen") if e.action == "identity.qualify"
    )
    assert event.outcome is Outcome.FAILED and event.details["field"] == "identity_document"
    assert patient.birth_name not in str(event.details)


def test_an_edit_of_a_strict_trait_downgrades_the_identity(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    lab = small_network.labs[0].id
    patient = _provisional(loaded_vault, small_network, lab)
    desk = _service(loaded_vault, "mleguen", Role.RECEPTION, {lab})
    desk.validate(patient.id, "passeport", AT)
    stored = loaded_vault.get(patient.id)
    desk.update(replace(stored, used_name="Autre"))  # not a strict trait
    assert loaded_vault.get(patient.id).identity_status is IdentityStatus.VALIDATED
    desk.update(replace(stored, birth_name=stored.birth_name + "E"))
    after = loaded_vault.get(patient.id)
    assert after.identity_status is IdentityStatus.PROVISIONAL
    assert after.identity_downgrade is not None
    downgrades = [
        e for _, e in desk.trail.log.events(actor="mleguen") if e.action == "identity.downgrade"
    ]
    assert [e.details["reason"] for e in downgrades] == ["strict_trait_changed"]


def _raw(vault: Vault, ids: list[str]) -> dict[str, tuple[object, ...]]:
    """Every stored byte of these records and their specimens, but the merge pointer."""
    with vault.engine.connect() as conn:
        rows = conn.execute(select(patients_table).where(patients_table.c.id.in_(ids))).all()
        specs = conn.execute(
            select(specimens_table).where(specimens_table.c.patient_id.in_(ids))
        ).all()
    found: dict[str, tuple[object, ...]] = {}
    for row in rows:
        data = row._asdict()
        data.pop("merged_into")
        found[row.id] = tuple(sorted(data.items()))
    for spec in specs:
        found[spec.id] = tuple(sorted(spec._asdict().items()))
    return found


def test_merge_then_unmerge_restores_both_records_byte_for_byte(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    lab = small_network.labs[0].id
    with_specimens = [
        p for p in small_network.patients() if p.lab_id == lab and loaded_vault.specimens_of(p.id)
    ]
    survivor, absorbed = with_specimens[0].id, with_specimens[1].id
    officer = _service(loaded_vault, "officer", Role.IDENTITY_OFFICER, {lab})
    before_raw = _raw(loaded_vault, [survivor, absorbed])
    before = {pid: loaded_vault.get(pid) for pid in (survivor, absorbed)}
    before_specimens = {pid: loaded_vault.specimens_of(pid) for pid in (survivor, absorbed)}

    merge = officer.merge(survivor, absorbed)
    assert merge.state == "merged" and merge.approvers == ("officer",)
    assert officer.merged_into(absorbed) == survivor
    shown, hidden = officer.merged_specimens(survivor)
    assert shown == before_specimens[absorbed] and hidden == 0
    with pytest.raises(PermissionDenied, match="already merged"):
        officer.merge(survivor, absorbed)

    undone = officer.unmerge(merge.id)
    assert undone.state == "unmerged"
    assert officer.merged_into(absorbed) is None
    assert _raw(loaded_vault, [survivor, absorbed]) == before_raw  # ciphertexts untouched
    assert {pid: loaded_vault.get(pid) for pid in before} == before
    assert {pid: loaded_vault.specimens_of(pid) for pid in before} == before_specimens
    steps = [
        (e.action, e.details.get("step"), e.outcome)
        for _, e in officer.trail.log.events(actor="officer")
        if e.action in ("identity.merge", "identity.unmerge")
    ]
    assert steps == [
        ("identity.merge", "requested", Outcome.OK),
        ("identity.merge", "merged", Outcome.OK),
        ("identity.merge", None, Outcome.DENIED),
        ("identity.unmerge", None, Outcome.OK),
    ]


def test_a_merge_across_labs_needs_both_labs_officers(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    first, second = small_network.labs[0].id, small_network.labs[1].id
    survivor = _provisional(loaded_vault, small_network, first).id
    absorbed = _provisional(loaded_vault, small_network, second).id
    alone = _service(loaded_vault, "officer1", Role.IDENTITY_OFFICER, {first})
    pending = alone.merge(survivor, absorbed)
    assert pending.state == "pending" and pending.missing_labs == (second,)
    assert alone.merged_into(absorbed) is None
    with pytest.raises(PermissionDenied, match="cannot approve twice"):
        alone.approve(pending.id)
    both_labs = _service(loaded_vault, "officer1", Role.IDENTITY_OFFICER, {first, second})
    with pytest.raises(PermissionDenied, match="cannot approve twice"):
        both_labs.approve(pending.id)
    third_lab = _service(loaded_vault, "officer3", Role.IDENTITY_OFFICER, {first})
    with pytest.raises(PermissionDenied, match="outside this account's labs"):
        third_lab.approve(pending.id)
    reception = _service(loaded_vault, "desk2", Role.RECEPTION, {second})
    with pytest.raises(PermissionDenied):
        reception.approve(pending.id)
    assert alone.merged_into(absorbed) is None

    other = _service(loaded_vault, "officer2", Role.IDENTITY_OFFICER, {second})
    done = other.approve(pending.id)
    assert done.state == "merged" and done.approvers == ("officer1", "officer2")
    assert other.merged_into(absorbed) == survivor
    shown, hidden = alone.merged_specimens(survivor)
    assert (shown, hidden) == ([], 1) or not loaded_vault.specimens_of(absorbed)


def test_one_account_holding_both_labs_still_needs_a_second_officer(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    first, second = small_network.labs[0].id, small_network.labs[1].id
    survivor = _provisional(loaded_vault, small_network, first).id
    absorbed = _provisional(loaded_vault, small_network, second).id
    two_labs = _service(loaded_vault, "officer1", Role.IDENTITY_OFFICER, {first, second})
    assert two_labs.merge(survivor, absorbed).state == "pending"


def test_a_network_officer_merges_across_labs_alone(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    first, second = small_network.labs[0].id, small_network.labs[1].id
    survivor = _provisional(loaded_vault, small_network, first).id
    absorbed = _provisional(loaded_vault, small_network, second).id
    every = {lab.id for lab in small_network.labs}
    network = _service(loaded_vault, "reseau", Role.IDENTITY_OFFICER, every)
    assert network.merge(survivor, absorbed).state == "merged"


def test_review_and_each_reveal_are_audited(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    first, second = small_network.labs[0].id, small_network.labs[1].id
    left = _provisional(loaded_vault, small_network, first)
    right = _provisional(loaded_vault, small_network, second)
    officer = _service(loaded_vault, "officer1", Role.IDENTITY_OFFICER, {first})
    pair = officer.review(left.id, right.id)
    assert pair.left_open and not pair.right_open
    assert "birth_name" in pair.differing or "first_names" in pair.differing
    assert _events(officer, Action.IDENTITY_REVIEW) == [(Outcome.OK, (left.id, right.id))]
    with pytest.raises(ValidationError, match="purpose"):
        officer.reveal(left.id, " ")
    shown = officer.reveal(left.id, "doublon signalé par l'accueil")
    assert shown == replace(loaded_vault.get(left.id), clinical=Clinical())  # never clinical
    with pytest.raises(PermissionDenied):
        officer.reveal(right.id, "doublon signalé par l'accueil")
    reads = [
        (e.outcome, e.object_ids, e.purpose, e.details.get("via"))
        for _, e in officer.trail.log.events(actor="officer1")
        if e.action == "patient.read"
    ]
    assert reads == [
        (Outcome.OK, (left.id,), "doublon signalé par l'accueil", "identity_review"),
        (Outcome.DENIED, (right.id,), "doublon signalé par l'accueil", None),
    ]
    reception = _service(loaded_vault, "desk", Role.RECEPTION, {first, second})
    with pytest.raises(PermissionDenied):
        reception.review(left.id, right.id)


def test_an_erased_merged_record_is_no_finding_of_the_merge_check(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    lab = small_network.labs[0].id
    survivor = _provisional(loaded_vault, small_network, lab).id
    absorbed = _provisional(loaded_vault, small_network, lab, skip=1).id
    officer = _service(loaded_vault, "officer", Role.IDENTITY_OFFICER, {lab})
    officer.merge(survivor, absorbed)
    assert merge_findings(loaded_vault) == []
    loaded_vault.erase(absorbed)
    assert merge_findings(loaded_vault) == []
    with loaded_vault.engine.begin() as conn:
        conn.execute(
            update(patients_table).where(patients_table.c.id == absorbed).values(merged_into=None)
        )
    assert [f.split(":")[0] for f in merge_findings(loaded_vault)] == [
        f"identity_merge {officer.merges()[0].id}"
    ]
