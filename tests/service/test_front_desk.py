"""The front desk's search and cross-lab link, through PatientService.

Prefix + birth year and French phonetic searches look only at the person's own
labs; linking a patient known elsewhere copies identity traits only, binds both
records to one network identity and is audited in both labs.
"""

from __future__ import annotations

import pytest

from etanche.access import Actor, Role
from etanche.audit import AuditLog, Outcome
from etanche.audit._alerts import AlertEngine
from etanche.audit._rules import load_rules
from etanche.domain import BirthQuery, name_prefix, parse_birth, phonetic_key
from etanche.errors import PermissionDenied, RecordNotFound, UsageError
from etanche.service import PatientService, Trail
from etanche.synth import SynthNetwork
from etanche.vault import Vault


def _desk(vault: Vault, labs: set[str], role: Role = Role.RECEPTION) -> PatientService:
    actor = Actor("mleguen", "u-mleguen", role, frozenset(labs))
    log = AuditLog.for_vault(vault, head_every=100, head_interval_s=3600)
    return PatientService(vault, Trail(log, AlertEngine(vault.engine, load_rules())), actor)


def _events(service: PatientService, action: str) -> list[tuple[tuple[str, ...], dict]]:
    return [
        (e.object_ids, dict(e.details))
        for _, e in service.trail.log.events(actor="mleguen")
        if e.action == action and e.outcome is Outcome.OK
    ]


def test_prefix_and_year_finds_own_lab_patients(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    patient = next(p for p in small_network.patients() if p.lab_id == "L01")
    desk = _desk(loaded_vault, {"L01"})
    found = desk.find_by_prefix(patient.birth_name[:4].lower(), BirthQuery(patient.birth_date.year))
    assert patient.id in [p.id for p in found]
    assert all(p.lab_id == "L01" for p in found)
    assert all(name_prefix(p.birth_name) == name_prefix(patient.birth_name) for p in found)
    exact = desk.find_by_prefix(patient.birth_name, parse_birth(f"{patient.birth_date:%d%m%Y}"))
    assert patient.id in [p.id for p in exact]
    assert all(p.birth_date == patient.birth_date for p in exact)
    searches = _events(desk, "patient.search")
    assert searches[-1][1]["index"] == "prefix_year"


def test_prefix_search_never_returns_another_labs_patient(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    patient = next(p for p in small_network.patients() if p.lab_id == "L02")
    desk = _desk(loaded_vault, {"L01"})
    found = desk.find_by_prefix(patient.birth_name, BirthQuery(patient.birth_date.year))
    assert patient.id not in [p.id for p in found]
    assert all(p.lab_id == "L01" for p in found)


def test_phonetic_search_matches_a_spelling_variant(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    def variants(name: str) -> list[str]:  # DUPONT/DUPOND, PHILIPE/FILIPE, LEGALL/LEGAL
        upper = name.upper()
        return [upper[:-1] + "D", upper.replace("PH", "F"), upper + upper[-1], upper + "E"]

    patient, typed = next(
        (p, v)
        for p in small_network.patients()
        if p.lab_id == "L01"
        for v in variants(p.birth_name)
        if v != p.birth_name.upper() and phonetic_key(v) == phonetic_key(p.birth_name)
    )
    desk = _desk(loaded_vault, {"L01"})
    found = desk.find_by_sound(typed, BirthQuery(patient.birth_date.year))
    assert patient.id in [p.id for p in found]


def test_prefix_needs_three_letters(loaded_vault: Vault) -> None:
    from etanche.domain import search_prefix
    from etanche.errors import ValidationError

    with pytest.raises(ValidationError, match="at least 3 letters"):
        search_prefix("ma")


def test_link_copies_identity_traits_and_audits_both_labs(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    source = next(p for p in small_network.patients() if p.lab_id == "L02" and p.nir and p.phones)
    assert source.nir is not None
    desk = _desk(loaded_vault, {"L01"})
    linked = desk.link("L01", nir=source.nir)
    assert linked.lab_id == "L01" and linked.id != source.id
    assert (linked.birth_name, linked.first_names, linked.birth_date, linked.sex, linked.nir) == (
        source.birth_name,
        source.first_names,
        source.birth_date,
        source.sex,
        source.nir,
    )
    assert linked.phones == () and linked.addresses == () and linked.insurance is None
    assert linked.clinical.blood_group is None
    identity = loaded_vault.identity_of(linked.id)
    assert identity is not None and identity == loaded_vault.identity_of(source.id)
    assert loaded_vault.records_of_identity(identity) == sorted([linked.id, source.id])
    events = _events(desk, "patient.link")
    assert {d["lab"] for _, d in events} == {"L01", "L02"}
    assert all(set(ids) == {linked.id, source.id} for ids, _ in events)
    with pytest.raises(UsageError, match="already holds a record"):
        desk.link("L01", nir=source.nir)


def test_link_into_a_lab_one_does_not_work_in_is_refused_and_audited(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    source = next(p for p in small_network.patients() if p.lab_id == "L02" and p.nir)
    desk = _desk(loaded_vault, {"L01"})
    with pytest.raises(PermissionDenied):
        desk.link("L03", nir=source.nir)
    denied = [e for _, e in desk.trail.log.events(actor="mleguen") if e.outcome is Outcome.DENIED]
    assert denied and denied[-1].action == "patient.link"
    with pytest.raises(RecordNotFound):
        desk.link("L01", nir="1 85 05 78 006 084 36")


def test_a_confirmed_duplicate_needs_a_reason(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    from dataclasses import replace

    from etanche.vault import new_record_id

    source = next(p for p in small_network.patients() if p.lab_id == "L02")
    copy = replace(source, id=new_record_id(), lab_id="L01")
    desk = _desk(loaded_vault, {"L01"})
    with pytest.raises(UsageError, match="reason"):
        desk.add(copy, duplicate_reason="ok")
    desk.add(copy, duplicate_reason="Homonyme : autre personne, pièce vérifiée")
    created = [e for _, e in desk.trail.log.events(actor="mleguen") if e.action == "patient.create"]
    assert created[-1].details["duplicate_confirmed"] is True
    assert created[-1].purpose is not None and "Homonyme" in created[-1].purpose
