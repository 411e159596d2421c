"""Insiders against the access report: each move that should fail is a test.

The operator has a shell, the database and its files; the service holds the
keys. Whatever the operator removes or rewrites in the patient's audit rows
before the DPO produces the report, the service refuses to produce it (exit 5,
IntegrityError, a `failed` event in the log): it never hands out a list that is
shorter than the signed log, nor a proof that would not verify. Editing only the
object index hides nothing, since the list is read from the committed bodies. A
receptionist cannot produce a report at all.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, select, update

from etanche.access import Actor, Role
from etanche.audit import AuditLog, Outcome
from etanche.audit._alerts import AlertEngine
from etanche.audit._rules import load_rules
from etanche.audit._schema import audit_events, audit_objects
from etanche.domain import load_retention
from etanche.errors import IntegrityError, PermissionDenied
from etanche.service import AccessReports, PatientService, Trail
from etanche.synth import SynthNetwork
from etanche.vault import Vault


@pytest.fixture
def opened(loaded_vault: Vault, small_network: SynthNetwork) -> dict[str, Any]:
    """A patient opened three times by a biologist, then the DPO's report service."""
    vault = loaded_vault
    log = AuditLog.for_vault(vault, head_every=20, head_interval_s=3600)
    trail = Trail(log, AlertEngine(vault.engine, load_rules()))
    patient = next(iter(small_network.patients()))
    bio = Actor("akerhervé", "u-a", Role.BIOLOGIST, frozenset({patient.lab_id}))
    reader = PatientService(vault.session(()), trail, bio)
    for _ in range(3):
        reader.get(patient.id)
    dpo = Actor("nquillec", "u-n", Role.DPO, frozenset({"*"}))
    reports = AccessReports(vault.session(()), trail, dpo, retention=load_retention())
    with vault.engine.connect() as conn:
        seqs = [
            row.seq
            for row in conn.execute(
                select(audit_objects.c.seq).where(audit_objects.c.object_id == patient.id)
            )
        ]
    return {"vault": vault, "trail": trail, "patient": patient, "reports": reports, "seqs": seqs}


def _last(opened: dict[str, Any]) -> tuple[str, Outcome]:
    event = opened["trail"].log.events(action="rights.access_report", newest_first=True)[0][1]
    return event.actor, event.outcome


def test_deleting_the_patients_audit_rows_gets_a_refusal(opened: dict[str, Any]) -> None:
    victim = opened["seqs"][1]
    with opened["vault"].engine.begin() as conn:
        conn.execute(delete(audit_objects).where(audit_objects.c.seq == victim))
        conn.execute(delete(audit_events).where(audit_events.c.seq == victim))
    with pytest.raises(IntegrityError, match=rf"event {victim} is missing"):
        opened["reports"].produce(opened["patient"].id, printed=True)
    assert _last(opened) == ("nquillec", Outcome.FAILED)


def test_editing_a_patients_audit_row_gets_a_refusal(opened: dict[str, Any]) -> None:
    victim = opened["seqs"][0]
    with opened["vault"].engine.begin() as conn:
        body = conn.execute(
            select(audit_events.c.body).where(audit_events.c.seq == victim)
        ).scalar_one()
        edited = bytes(body).replace(b'"akerherv', b'"quelquun')
        assert edited != bytes(body)
        conn.execute(update(audit_events).where(audit_events.c.seq == victim).values(body=edited))
    with pytest.raises(IntegrityError, match="does not lead to the signed head"):
        opened["reports"].build(opened["patient"].id)


def test_unlinking_the_object_index_hides_nothing(opened: dict[str, Any]) -> None:
    with opened["vault"].engine.begin() as conn:
        conn.execute(delete(audit_objects).where(audit_objects.c.object_id == opened["patient"].id))
    report = opened["reports"].build(opened["patient"].id)
    assert [e.seq for e in report.entries] == opened["seqs"]
    assert [e.action for e in report.entries].count("patient.read") == 3


def test_a_receptionist_cannot_produce_it(opened: dict[str, Any]) -> None:
    patient = opened["patient"]
    front = AccessReports(
        opened["vault"].session(()),
        opened["trail"],
        Actor("mleguen", "u-m", Role.RECEPTION, frozenset({patient.lab_id})),
        retention=load_retention(),
    )
    for attempt in (
        lambda: front.produce(patient.id, passphrase="a long passphrase"),
        lambda: front.accesses(patient.id),
    ):
        with pytest.raises(PermissionDenied, match="not allowed to the reception role"):
            attempt()
        assert _last(opened) == ("mleguen", Outcome.DENIED)
