"""The front-desk index backfill: records written before the prefix and phonetic indexes
(simulated by deleting their rows) are found by a prefix search once it has run.

The gap is measured by counts; the backfill runs in batches, resumes where it
stopped, does nothing the second time, is decided by the policy (network-wide
lab admin) and audited as one event holding counts only; the service runs it by
itself at unseal when the counts show a gap.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from etanche.access import Actor, Role
from etanche.audit import AuditLog, Outcome
from etanche.audit._alerts import AlertEngine
from etanche.audit._rules import load_rules
from etanche.domain import BirthQuery, Patient
from etanche.errors import PermissionDenied
from etanche.service import PatientService, Reindex, Trail
from etanche.service._reindex import reindex_at_start
from etanche.synth import SynthNetwork
from etanche.vault import Vault
from etanche.vault._schema import patient_index

ADMIN = Actor("ylegoff", "u-ylegoff", Role.LAB_ADMIN, frozenset({"*"}))


@pytest.fixture
def few(vault: Vault, small_network: SynthNetwork) -> list[Patient]:
    """Forty patients of L01 (a small load: the backfill is the subject, not the volume)."""
    for lab in small_network.labs:
        vault.add_lab(lab)
    chosen = [(p, s) for b in small_network.batches() for p, s in b if p.lab_id == "L01"][:40]
    vault.add_many(chosen)
    return [p for p, _ in chosen]


def _trail(vault: Vault) -> Trail:
    log = AuditLog.for_vault(vault, head_every=100, head_interval_s=3600)
    return Trail(log, AlertEngine(vault.engine, load_rules()))


def _forget(vault: Vault, patients: list[Patient]) -> None:
    """What a record written before the front-desk indexes looks like: no such rows."""
    with vault.engine.begin() as conn:
        conn.execute(
            delete(patient_index).where(
                patient_index.c.patient_id.in_([p.id for p in patients]),
                patient_index.c.name.in_(["prefix_year", "phonetic_year"]),
            )
        )


def _found(vault: Vault, trail: Trail, patient: Patient) -> bool:
    desk = PatientService(vault, trail, Actor("mleguen", "u-mleguen", Role.RECEPTION, {"L01"}))
    hits = desk.find_by_prefix(patient.birth_name[:3], BirthQuery(patient.birth_date.year))
    return patient.id in {p.id for p in hits}


def _reindexed(trail: Trail) -> list[tuple[str | None, Outcome, dict[str, object]]]:
    return [
        (e.actor, e.outcome, dict(e.details)) for _, e in trail.log.events(action="vault.reindex")
    ]


def test_a_record_without_front_desk_rows_is_found_after_the_backfill(
    vault: Vault, few: list[Patient]
) -> None:
    trail = _trail(vault)
    old = few[:3]
    _forget(vault, old)
    assert vault.front_desk_gap() == 3
    assert not _found(vault, trail, old[0])  # the old version's record: missed

    report = Reindex(vault, trail, ADMIN, client="test").run(batch_size=2)
    assert (report.indexed, report.batches, report.unreadable) == (3, 2, 0)
    assert vault.front_desk_gap() == 0
    assert all(_found(vault, trail, p) for p in old)
    [(actor, outcome, details)] = _reindexed(trail)
    assert (actor, outcome) == ("ylegoff", Outcome.OK)
    assert details == {"missing": 3, "indexed": 3, "batches": 2, "unreadable": 0}

    again = Reindex(vault, trail, ADMIN, client="test").run()
    assert (again.indexed, again.batches) == (0, 0)  # idempotent: nothing left to do
    assert all(_found(vault, trail, p) for p in old)


def test_the_backfill_resumes_where_it_stopped(vault: Vault, few: list[Patient]) -> None:
    _forget(vault, few[:5])
    first = vault.reindex_front_desk(batch_size=2, max_batches=1)  # stopped after one batch
    assert first.indexed == 2 and vault.front_desk_gap() == 3
    rest = vault.reindex_front_desk(batch_size=2)
    assert rest.indexed == 3 and vault.front_desk_gap() == 0


@pytest.mark.parametrize(
    "actor",
    [
        Actor("mleguen", "u-mleguen", Role.RECEPTION, frozenset({"L01"})),
        Actor("lbras", "u-lbras", Role.LAB_ADMIN, frozenset({"L01"})),  # not network-wide
        Actor("dleroux", "u-dleroux", Role.DPO, frozenset({"*"})),
    ],
)
def test_only_a_network_wide_lab_admin_may_run_it(
    vault: Vault, few: list[Patient], actor: Actor
) -> None:
    trail = _trail(vault)
    _forget(vault, few[:1])
    with pytest.raises(PermissionDenied):
        Reindex(vault, trail, actor, client="test").run()
    assert vault.front_desk_gap() == 1
    assert [(a, o) for a, o, _ in _reindexed(trail)] == [(actor.username, Outcome.DENIED)]


def test_the_service_fills_the_gap_at_start_and_only_then(vault: Vault, few: list[Patient]) -> None:
    trail = _trail(vault)
    assert reindex_at_start(vault, trail) is None  # nothing missing: not even an event
    assert _reindexed(trail) == []
    _forget(vault, few[:4])
    report = reindex_at_start(vault.session(()), trail)
    assert report is not None and report.indexed == 4
    [(actor, outcome, details)] = _reindexed(trail)
    assert actor == "system" and outcome is Outcome.OK and details["indexed"] == 4
    assert _found(vault, trail, few[0])
