"""Record edits through PatientService: insurance at the desk, the clinical part by biologists.

A biologist's clinical edit keeps the replaced part with its reason; a front-desk
session is refused (and the refusal is logged) and nothing changes; insurance is
sealed in the admin compartment, so a copy of the storage does not show it.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from conftest import Backend
from etanche.access import Actor, Role
from etanche.audit import AuditLog, Outcome
from etanche.audit._alerts import AlertEngine
from etanche.audit._rules import load_rules
from etanche.domain import BloodGroup, Clinical, Insurance, Patient, Sex, Treatment
from etanche.errors import PermissionDenied, UsageError
from etanche.service import PatientService, Trail
from etanche.synth import SynthNetwork
from etanche.vault import Vault

REASON = "Groupe contrôlé sur deux déterminations"


def _service(vault: Vault, role: Role, name: str = "staff") -> PatientService:
    """A person's service on a session of their own (no key until the policy grants one)."""
    actor = Actor(name, f"u-{name}", role, frozenset({"L01"}))
    log = AuditLog.for_vault(vault, head_every=100, head_interval_s=3600)
    trail = Trail(log, AlertEngine(vault.engine, load_rules()))
    return PatientService(vault.session(), trail, actor)


def _woman_of_l01(network: SynthNetwork) -> Patient:
    return next(p for p in network.patients() if p.lab_id == "L01" and p.sex is Sex.FEMALE)


def _events(service: PatientService, action: str) -> list[tuple[Outcome, dict[str, object]]]:
    return [
        (e.outcome, dict(e.details))
        for _, e in service.trail.log.events(actor=service.actor.username)
        if e.action == action
    ]


def test_a_biologists_clinical_edit_keeps_the_old_part_with_the_reason(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    patient = _woman_of_l01(small_network)
    bio = _service(loaded_vault, Role.BIOLOGIST, "bio")
    before = bio.get(patient.id).clinical
    new = Clinical(
        blood_group=BloodGroup("AB", "-"),
        pregnant=True,
        treatments=(Treatment("lévothyroxine", "H03AA01"),),
        comments=("Contrôle à 3 mois",),
    )
    bio.update_clinical(patient.id, new, reason=REASON)
    after = bio.get(patient.id)
    assert after.clinical == new
    assert replace(after, clinical=before) == replace(patient, clinical=before)  # admin intact
    last = bio.history(patient.id)[-1]
    assert last.by == "bio" and last.reason == REASON
    names = ("blood_group", "pregnant", "treatments", "comments", "pathologies")
    changed = {f"clinical.{n}" for n in names if getattr(before, n) != getattr(new, n)}
    assert changed and set(last.fields) == changed  # clinical fields only, by name
    assert (Outcome.OK, {"lab": "L01", "reason": True}) in _events(bio, "clinical.update")
    # the receptionist's view of the same history never names a clinical field
    desk = _service(loaded_vault, Role.RECEPTION, "desk")
    assert desk.history(patient.id)[-1].fields == ()
    assert desk.history(patient.id)[-1].reason == REASON


def test_a_receptionists_clinical_edit_is_refused_and_logged(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    patient = _woman_of_l01(small_network)
    desk = _service(loaded_vault, Role.RECEPTION, "desk")
    with pytest.raises(PermissionDenied):
        desk.update_clinical(patient.id, Clinical(blood_group=BloodGroup("O", "-")), reason=REASON)
    outcomes = _events(desk, "clinical.update")
    assert [o for o, _ in outcomes] == [Outcome.DENIED]
    assert "reception" in str(outcomes[0][1]["reason"])
    bio = _service(loaded_vault, Role.BIOLOGIST, "bio")
    assert bio.get(patient.id).clinical == patient.clinical
    assert bio.history(patient.id) == []


def test_an_edit_without_reason_or_outside_the_labs_changes_nothing(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    patient = _woman_of_l01(small_network)
    bio = _service(loaded_vault, Role.BIOLOGIST, "bio")
    with pytest.raises(UsageError, match="reason"):
        bio.update_clinical(patient.id, Clinical(pregnant=False), reason="  ")
    other = next(p for p in small_network.patients() if p.lab_id == "L02")
    with pytest.raises(PermissionDenied):
        bio.update_clinical(other.id, Clinical(), reason=REASON)
    assert bio.get(patient.id).clinical == patient.clinical
    assert bio.history(patient.id) == []
    assert [o for o, _ in _events(bio, "clinical.update")] == [Outcome.FAILED, Outcome.DENIED]


def test_insurance_round_trips_sealed(
    loaded_vault: Vault, backend: Backend, small_network: SynthNetwork
) -> None:
    patient = next(p for p in small_network.patients() if p.lab_id == "L01")
    desk = _service(loaded_vault, Role.RECEPTION, "desk")
    cover = Insurance("02", "129", "Mutuelle Canari Armorique", "ZQ7781204455")
    desk.update(replace(desk.get(patient.id), insurance=cover), reason="Carte Vitale lue")
    assert desk.get(patient.id).insurance == cover
    assert "insurance" in desk.history(patient.id)[-1].fields
    if backend.name == "sqlite":
        with loaded_vault.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = backend.raw_bytes()
    for value in ("Mutuelle Canari Armorique", "ZQ7781204455"):
        assert value.encode() not in raw and value.encode().hex().encode() not in raw
