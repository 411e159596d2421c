"""A search that returns patients is a search and a read of each, for every caller.

The rule lives in ``PatientService``, under the pages, the CLI and both APIs: a
person (or token) without ``patient.read`` gets no patient from a search, not even
a count, and each patient a search returns is written to the log as a read.
"""

from __future__ import annotations

import pytest

from etanche.access import Action, Actor, Role
from etanche.audit import AuditLog, Outcome
from etanche.audit._alerts import AlertEngine
from etanche.audit._rules import load_rules
from etanche.errors import PermissionDenied
from etanche.service import PatientService, Trail
from etanche.synth import SynthNetwork
from etanche.vault import Vault


def _service(vault: Vault, network: SynthNetwork, scopes: set[Action] | None) -> PatientService:
    labs = frozenset(lab.id for lab in network.labs)
    actor = Actor(
        "mleguen",
        "u-mleguen",
        Role.RECEPTION,
        labs,
        scopes=frozenset(scopes) if scopes is not None else None,
        session_id="token:t1" if scopes is not None else None,
    )
    log = AuditLog.for_vault(vault, head_every=100, head_interval_s=3600)
    return PatientService(vault, Trail(log, AlertEngine(vault.engine, load_rules())), actor)


def test_search_without_the_read_scope_is_refused_before_the_lookup(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    service = _service(loaded_vault, small_network, {Action.PATIENT_SEARCH})
    nir = next(p.nir for p in small_network.patients() if p.nir)
    with pytest.raises(PermissionDenied, match=r"patient\.read: not in the scopes"):
        service.find_by_nir(nir)
    events = [e for _, e in service.trail.log.events(actor="mleguen")]
    assert [(e.action, e.outcome, e.object_ids) for e in events] == [
        ("patient.read", Outcome.DENIED, ())
    ]
    assert events[0].details["index"] == "nir"


def test_each_patient_a_search_returns_is_an_audited_read(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    for scopes in ({Action.PATIENT_SEARCH, Action.PATIENT_READ}, None):
        service = _service(loaded_vault, small_network, scopes)
        patient = next(p for p in small_network.patients() if p.nir)
        assert patient.nir is not None
        found = service.find_by_nir(patient.nir)
        assert patient.id in [p.id for p in found]
        events = [e for _, e in service.trail.log.events(actor="mleguen", newest_first=True)]
        reads = events[: len(found)]
        assert {e.action for e in reads} == {"patient.read"}
        assert sorted(e.object_ids for e in reads) == sorted((p.id,) for p in found)
        assert all(e.outcome is Outcome.OK and e.details["via"] == "nir" for e in reads)
        search = events[len(found)]
        assert search.action == "patient.search" and search.details["results"] == len(found)
