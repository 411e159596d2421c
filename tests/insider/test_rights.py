"""Rights requests against people with accounts and against the operator with the database.

A receptionist, a biologist or a lab admin cannot register, extend, close or
look anything up: each refusal is logged. The operator with a shell and the
database (no key) can edit the ``rights_requests`` table: push a deadline back,
mark a request closed, delete it, remove a restriction. None of it silences the
overdue alert, because the deadline check reads each request's deadline and
closure from the audit log (Merkle tree, signed heads, witnesses), and every
mismatch between the table and the log alerts too. A sealed body copied onto
another request no longer opens.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from _rights import BIOLOGIST, LAB_ADMIN, RECEPTION, core_of, created, first_patient, rights
from etanche.audit import Outcome, events_of
from etanche.errors import EtancheError, PermissionDenied
from etanche.names import Action
from etanche.service import Core
from etanche.vault import restrictions_table, rights_requests_table

NOW = datetime.now(UTC)
LATE = NOW - timedelta(days=40)


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    with core_of(created(tmp_path)) as opened:
        yield opened


def _problems(core: Core) -> set[tuple[str, str]]:
    return {(f.request, f.problem) for f in rights(core).check()}


def _alerts(core: Core) -> list[str]:
    return [a.summary for a in core.trail.alerts.list_alerts() if a.rule == "rights_overdue"]


@pytest.mark.parametrize("actor", [RECEPTION, BIOLOGIST, LAB_ADMIN], ids=lambda a: a.role.value)
def test_staff_cannot_close_or_extend_a_request(core: Core, actor: object) -> None:
    request = rights(core).add("erasure", contact="x", received_at=LATE)
    desk = rights(core, actor)  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        desk.extend(request.id, "Pour gagner du temps")
    with pytest.raises(PermissionDenied):
        desk.close(request.id, "refused", "Sans motif")
    core.trail.flush()
    for action in (Action.RIGHTS_EXTEND, Action.RIGHTS_CLOSE):
        events = [e for _, e in events_of(core.vault.engine, action.value)]
        assert [e.outcome for e in events] == [Outcome.DENIED]
    assert rights(core).get(request.id).status == "received"
    refused = [a for a in core.trail.alerts.list_alerts() if a.rule == "refused"]
    assert [a.actor for a in refused] == [actor.username]  # type: ignore[attr-defined]


def test_a_deadline_pushed_back_in_the_table_still_alerts(core: Core) -> None:
    request = rights(core).add("access", contact="x", received_at=LATE)
    table = rights_requests_table
    with core.vault.engine.begin() as conn:
        conn.execute(
            update(table).where(table.c.id == request.id).values(due_at=NOW + timedelta(days=60))
        )
    assert _problems(core) == {(request.id, "deadline_altered"), (request.id, "overdue")}
    summaries = _alerts(core)
    assert any("délai de réponse dépassé" in s for s in summaries)
    assert any("ne correspond pas à celle du journal" in s for s in summaries)


def test_a_closure_written_in_the_table_still_alerts(core: Core) -> None:
    request = rights(core).add("access", contact="x", received_at=LATE)
    table = rights_requests_table
    with core.vault.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == request.id).values(status="closed"))
    assert _problems(core) == {(request.id, "closed_outside"), (request.id, "overdue")}


def test_a_deleted_request_still_alerts(core: Core) -> None:
    request = rights(core).add("access", contact="x", received_at=LATE)
    with core.vault.engine.begin() as conn:
        conn.execute(delete(rights_requests_table))
    assert _problems(core) == {(request.id, "missing"), (request.id, "overdue")}


def test_a_request_inserted_behind_the_service_is_reported(core: Core) -> None:
    request = rights(core).add("access", contact="x")
    table = rights_requests_table
    with core.vault.engine.begin() as conn:
        row = conn.execute(select(table).where(table.c.id == request.id)).one()._asdict()
        conn.execute(table.insert().values({**row, "id": "DR-20260101-aaaaaa"}))
    assert ("DR-20260101-aaaaaa", "unlogged") in _problems(core)


def test_a_body_copied_onto_another_request_does_not_open(core: Core) -> None:
    closed = rights(core).add("objection", contact="x")
    rights(core).close(closed.id, "refused", "Traitement nécessaire aux soins")
    open_one = rights(core).add("objection", contact="y", received_at=LATE)
    table = rights_requests_table
    with core.vault.engine.begin() as conn:
        body = conn.execute(select(table.c.body).where(table.c.id == closed.id)).scalar_one()
        conn.execute(update(table).where(table.c.id == open_one.id).values(body=body))
    with pytest.raises(EtancheError):
        rights(core).get(open_one.id)
    assert (open_one.id, "overdue") in _problems(core)


def test_a_restriction_removed_in_the_table_alerts(core: Core) -> None:
    patient = first_patient()
    desk = rights(core)
    request = desk.add("restriction", contact="x", patient_id=patient.id)
    desk.verify_identity(request.id, "passport")
    desk.close(request.id, "granted")
    with core.vault.engine.begin() as conn:
        conn.execute(delete(restrictions_table))
    assert (request.id, "restriction_removed") in _problems(core)
    assert any("limitation du traitement" in s for s in _alerts(core))
