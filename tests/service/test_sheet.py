"""The patient sheet's read through PatientService.sheet: one row fetch, two audited acts.

The sheet reads the record and lists its specimens over one fetch of the patient's
row; each act is still decided and audited on its own (``patient.read`` with the
compartments granted, ``specimen.list`` with the count), as ``get`` and
``specimens_of`` would, and a role without the clinical key gets no clinical data.
"""

from __future__ import annotations

import pytest

from etanche.access import Actor, Role
from etanche.audit import AuditLog, Outcome
from etanche.audit._alerts import AlertEngine
from etanche.audit._rules import load_rules
from etanche.errors import PermissionDenied
from etanche.service import IdentityService, PatientService, Trail
from etanche.synth import SynthNetwork
from etanche.vault import Merges, Vault


def _service(vault: Vault, role: Role, labs: set[str]) -> PatientService:
    actor = Actor("ekerbrat", "u-ekerbrat", role, frozenset(labs))
    log = AuditLog.for_vault(vault, head_every=100, head_interval_s=3600)
    trail = Trail(log, AlertEngine(vault.engine, load_rules()))
    return PatientService(vault.session(()), trail, actor)  # keyless, as a request's


def _logged(service: PatientService) -> list[tuple[str, Outcome, tuple[str, ...], dict]]:
    service.trail.flush()
    return [
        (e.action, e.outcome, e.object_ids, dict(e.details))
        for _, e in service.trail.log.events(actor="ekerbrat")
    ]


def test_sheet_reads_record_and_specimens_with_both_acts_audited(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    patient, specimens = next(
        (p, s) for batch in small_network.batches() for p, s in batch if s and p.lab_id == "L01"
    )
    service = _service(loaded_vault, Role.BIOLOGIST, {"L01"})
    sheet = service.sheet(patient.id)
    assert sheet.patient == service.get(patient.id)
    assert sorted(s.id for s in sheet.specimens) == sorted(s.id for s in specimens)
    assert sheet.restricted is False
    acts = [a for a in _logged(service) if a[0] in ("patient.read", "specimen.list")]
    assert acts[0][:3] == ("patient.read", Outcome.OK, (patient.id,))
    assert "clinical" in str(acts[0][3]["compartments"])
    assert acts[1][:3] == ("specimen.list", Outcome.OK, (patient.id,))
    assert acts[1][3]["count"] == len(specimens)


def test_sheet_gives_front_desk_no_clinical_data(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    patient = next(
        p for p in small_network.patients() if p.lab_id == "L01" and p.clinical.blood_group
    )
    sheet = _service(loaded_vault, Role.RECEPTION, {"L01"}).sheet(patient.id)
    assert sheet.patient.birth_name == patient.birth_name
    assert sheet.patient.clinical.blood_group is None
    assert sheet.patient.clinical != patient.clinical


def test_sheet_of_another_labs_patient_is_refused_and_logged(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    patient = next(p for p in small_network.patients() if p.lab_id == "L02")
    service = _service(loaded_vault, Role.BIOLOGIST, {"L01"})
    with pytest.raises(PermissionDenied):
        service.sheet(patient.id)
    refused = [a for a in _logged(service) if a[1] is Outcome.DENIED]
    assert refused and refused[-1][:3] == ("patient.read", Outcome.DENIED, (patient.id,))


def test_merge_panel_costs_nothing_for_a_record_in_no_merge_and_follows_a_merge(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    first, second = [p for p in small_network.patients() if p.lab_id == "L01"][:2]
    actor = Actor("ekerbrat", "u-ekerbrat", Role.BIOLOGIST, frozenset({"L01"}))
    log = AuditLog.for_vault(loaded_vault, head_every=100, head_interval_s=3600)
    identity = IdentityService(
        loaded_vault.session(()), Trail(log, AlertEngine(loaded_vault.engine, load_rules())), actor
    )
    alone = identity.sheet_merges(first.id)
    assert (alone.merge, alone.merged_into, alone.merged_specimens, alone.merged_hidden) == (
        None, None, [], 0,
    )  # fmt: skip
    Merges(loaded_vault).mark(second.id, first.id)  # the pointer alone, as a merge leaves it
    assert Merges(loaded_vault).involvement(first.id) == (None, [second.id])
    assert Merges(loaded_vault).involvement(second.id) == (first.id, [])
    assert identity.sheet_merges(second.id).merged_into == first.id
