"""Rights requests as the DPO runs them: deadlines, identity, extension, answers, alerts."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from _rights import (
    DPO,
    LAB,
    OTHERS,
    core_of,
    created,
    created_in_error,
    first_patient,
    patients,
    rights,
)
from conftest import PASSPHRASE
from etanche.audit import Outcome, events_of
from etanche.crypto import PassphraseKeyFile
from etanche.errors import PermissionDenied, RecordNotFound, UsageError
from etanche.names import Action
from etanche.service import Core, Custody
from etanche.vault import rights_requests_table

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


@pytest.fixture
def core(tmp_path: Path) -> object:
    with core_of(created(tmp_path)) as opened:
        yield opened


def _overdue_alerts(core: Core) -> list[str]:
    return [a.summary for a in core.trail.alerts.list_alerts() if a.rule == "rights_overdue"]


def test_deadline_is_one_month_then_three_after_the_one_extension(core: Core) -> None:
    desk = rights(core)
    received = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
    request = desk.add("access", contact="courrier: 1 rue X", received_at=received, now=NOW)
    assert request.status == "received"
    assert request.body["due"] == "2026-02-28"  # one month, clamped to the month's end
    extended = desk.extend(request.id, "Demande complexe", told_on=date(2026, 2, 10), now=NOW)
    assert extended.status == "extended"
    assert extended.body["due"] == "2026-04-28"
    with pytest.raises(UsageError, match="already extended once"):
        desk.extend(request.id, "Encore", now=NOW)


def test_the_steps_in_order_are_recorded_and_audited(core: Core) -> None:
    desk = rights(core)
    patient = first_patient()
    request = desk.add("rectification", contact="patient@example.org", now=NOW)
    found = desk.lookup(patient.birth_name, patient.first_names[0], patient.birth_date)
    assert (LAB, patient.id) in {(m.lab_id, m.patient_id) for m in found}
    verified = desk.verify_identity(request.id, "passport", now=NOW)
    assert verified.status == "identity_verified"
    assert verified.body["identity"] == {
        "document": "passport",
        "by": DPO.username,
        "at": NOW.isoformat(),
    }
    linked = desk.link(request.id, patient.id, now=NOW)
    assert linked.status == "in_progress" and linked.lab_id == LAB
    closed = desk.close(request.id, "granted", now=NOW)
    assert closed.status == "closed" and closed.body["outcome"] == "granted"
    steps = [e["step"] for e in closed.body["timeline"]]
    assert steps == ["received", "identity", "linked", "closed"]
    core.trail.flush()
    for action in (
        Action.RIGHTS_ADD,
        Action.RIGHTS_VERIFY,
        Action.RIGHTS_LINK,
        Action.RIGHTS_CLOSE,
    ):
        logged = [e for _, e in events_of(core.vault.engine, action.value)]
        assert any(e.details.get("request") == request.id for e in logged), action
    with pytest.raises(UsageError, match="already closed"):
        desk.extend(request.id, "trop tard", now=NOW)


def test_lookup_returns_lab_and_record_id_only(core: Core) -> None:
    patient = first_patient()
    found = rights(core).lookup(
        patient.birth_name, patient.first_names[0], patient.birth_date, patient.nir
    )
    assert found and all(len(m) == 3 for m in found)
    assert {m.matched_by for m in found if m.patient_id == patient.id} == {"name_dob+nir"}


def test_the_contact_is_sealed_not_stored_in_clear(core: Core) -> None:
    request = rights(core).add("access", contact="Rue des Mouettes 12", now=NOW)
    table = rights_requests_table
    with core.vault.engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.id == request.id)).one()
    assert all(b"Mouettes" not in bytes(v) for v in row if isinstance(v, bytes | memoryview))
    assert "Mouettes" not in " ".join(str(v) for v in row if isinstance(v, str))
    assert rights(core).get(request.id).body["contact"] == "Rue des Mouettes 12"


def test_a_request_past_its_deadline_alerts(core: Core) -> None:
    desk = rights(core)
    late = desk.add("access", contact="x", received_at=NOW - timedelta(days=40), now=NOW)
    on_time = desk.add("access", contact="y", received_at=NOW - timedelta(days=3), now=NOW)
    findings = desk.check()
    assert [(f.request, f.problem) for f in findings] == [(late.id, "overdue")]
    alerts = _overdue_alerts(core)
    assert len(alerts) == 1 and late.id in alerts[0] and "délai de réponse dépassé" in alerts[0]
    assert on_time.id not in alerts[0]
    desk.check()  # checked again: still one alert for this request and deadline
    assert len(_overdue_alerts(core)) == 1


def test_a_closed_request_does_not_alert(core: Core) -> None:
    desk = rights(core)
    late = desk.add("objection", contact="x", received_at=NOW - timedelta(days=40), now=NOW)
    desk.close(late.id, "refused", "Traitement nécessaire aux soins (art. 21(1))", now=NOW)
    assert desk.check() == []
    assert _overdue_alerts(core) == []


def test_a_refusal_needs_a_reason_and_a_grant_needs_the_identity(core: Core) -> None:
    desk = rights(core)
    request = desk.add("access", contact="x", now=NOW)
    with pytest.raises(UsageError, match="reason: must not be empty"):
        desk.close(request.id, "refused", now=NOW)
    with pytest.raises(UsageError, match="verify the requester's identity first"):
        desk.close(request.id, "granted", now=NOW)
    with pytest.raises(UsageError, match="kind: unknown"):
        desk.add("portability", contact="x", now=NOW)
    with pytest.raises(UsageError, match="must not be in the future"):
        desk.add("access", contact="x", received_at=datetime.now(UTC) + timedelta(days=2))


def test_erasure_under_retention_is_refused_with_the_rule_its_source_and_end(core: Core) -> None:
    desk = rights(core)
    patient = first_patient()
    request = desk.add("erasure", contact="x", patient_id=patient.id, now=NOW)
    desk.verify_identity(request.id, "id_card", now=NOW)
    closed = desk.close(request.id, "granted", now=NOW)
    assert closed.body["outcome"] == "refused"
    legal = closed.body["legal"]
    rule = core.retention.get(legal["category"])
    assert legal["category"] in ("patient_admin", "results")
    assert legal["source"] == rule.source and "L.1142-28" in closed.body["reason"]
    end = date.fromisoformat(legal["end"])
    assert end > NOW.date()
    assert "jusqu'au" in closed.body["reason"] and str(end.year) in closed.body["reason"]
    # the record is still there
    assert patients(core).get(patient.id).id == patient.id


def test_erasure_without_duty_crypto_shreds_the_record(core: Core) -> None:
    patient_id = created_in_error(core)
    desk = rights(core)
    request = desk.add("erasure", contact="x", patient_id=patient_id, now=NOW)
    desk.verify_identity(request.id, "in_person", now=NOW)
    closed = desk.close(request.id, "granted", now=NOW)
    assert closed.body["outcome"] == "granted" and closed.body["legal"] is None
    with pytest.raises(RecordNotFound, match="erased"):
        patients(core).get(patient_id)


@pytest.mark.parametrize("actor", OTHERS, ids=lambda a: a.role.value)
def test_every_step_is_refused_to_other_roles(core: Core, actor: object) -> None:
    request = rights(core).add("access", contact="x", now=NOW)
    desk = rights(core, actor)  # type: ignore[arg-type]
    patient = first_patient()
    steps = [
        lambda: desk.list(),
        lambda: desk.get(request.id),
        lambda: desk.add("access", contact="x"),
        lambda: desk.lookup(patient.birth_name, patient.first_names[0], patient.birth_date),
        lambda: desk.verify_identity(request.id, "passport"),
        lambda: desk.link(request.id, patient.id),
        lambda: desk.extend(request.id, "why"),
        lambda: desk.close(request.id, "refused", "no"),
        lambda: desk.lift(request.id),
        lambda: desk.check(),
    ]
    for step in steps:
        with pytest.raises(PermissionDenied):
            step()
    core.trail.flush()
    denied = [
        e
        for a in (Action.RIGHTS_CLOSE, Action.RIGHTS_EXTEND, Action.RIGHTS_LOOKUP)
        for _, e in events_of(core.vault.engine, a.value)
        if e.outcome is Outcome.DENIED
    ]
    assert len(denied) == 3
    assert rights(core).get(request.id).status == "received"


def test_the_service_checks_deadlines_at_start_and_on_its_schedule(tmp_path: Path) -> None:
    location = created(tmp_path)
    with core_of(location) as first:
        late = rights(first).add("access", contact="x", received_at=NOW - timedelta(days=40))
    with core_of(location) as restarted:  # the check at start, as the system
        assert any(late.id in s for s in _overdue_alerts(restarted))
        restarted.trail.flush()
        logged = [e for _, e in events_of(restarted.vault.engine, Action.RIGHTS_OVERDUE.value)]
        assert logged and logged[0].actor == "system" and logged[0].client == "server"
    assert location.keyfile is not None
    provider = PassphraseKeyFile.open(location.keyfile, PASSPHRASE)
    scheduled = Core(location, Custody.unsealed(provider), verify_interval_s=0.2)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            scheduled.trail.flush()
            clients = {
                e.client for _, e in events_of(scheduled.vault.engine, Action.RIGHTS_OVERDUE.value)
            }
            if "schedule" in clients:
                break
            time.sleep(0.1)
        assert "schedule" in clients
    finally:
        scheduled.close()
