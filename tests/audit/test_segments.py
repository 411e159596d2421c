"""Verify on several cores: segments checked by worker processes, folded in order.

A log of three segments of 4,096 events (the last one short) (heads every 1,024, so
some fall exactly on a segment's end) is checked with segments forced small:
the parallel report equals the one-process report on an honest log, the roots
folded from the workers equal the roots of one pass, and a tampered log (in the 2nd
segment: a column, a body rewritten with care, the last event deleted, a stray
object row) is
reported exactly as the one-process check words it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, delete, insert, select, update

from etanche.audit import AuditLog, VerificationReport, _segments, verify_log
from etanche.audit._rows import raw_rows
from etanche.audit._scan import range_queries, scan, stored_blocks
from etanche.audit._schema import audit_events as t_events
from etanche.audit._schema import audit_objects as t_objects
from etanche.vault import Vault

SEGMENT = 4096
EVENTS = 2 * SEGMENT + 700  # three segments, the last one short
HEAD_EVERY = 1024


@pytest.fixture
def log(vault: Vault, audit_clock, audit_events) -> AuditLog:  # type: ignore[no-untyped-def]
    log = AuditLog.for_vault(vault, clock=audit_clock, head_every=HEAD_EVERY)
    for start in range(0, EVENTS, 2000):
        log.append_many(audit_events.many(min(2000, EVENTS - start)))
    return log


def _verify(vault: Vault, log: AuditLog, processes: int) -> VerificationReport:
    return verify_log(
        vault.engine, log.public_key_pem(), head_every=HEAD_EVERY, processes=processes,
        segment=SEGMENT,
    )  # fmt: skip


@pytest.fixture
def folds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """How each attempt at folding the workers' results ended: 'folded' or 'mismatch'."""
    seen: list[str] = []
    real = _segments.fold

    def spy(*args: Any) -> Any:
        try:
            result = real(*args)
        except _segments.Mismatch:
            seen.append("mismatch")
            raise
        seen.append("folded")
        return result

    monkeypatch.setattr(_segments, "fold", spy)
    return seen


def test_parallel_report_equals_one_pass(vault: Vault, log: AuditLog, folds: list[str]) -> None:
    parallel = _verify(vault, log, processes=2)
    assert folds == ["folded"]
    pool = _segments._pools[2]
    single = _verify(vault, log, processes=1)
    assert folds == ["folded"]  # one process: no workers
    assert parallel.ok and single.ok
    assert parallel.to_dict() == single.to_dict()
    again = _verify(vault, log, processes=2)  # the same workers, started once
    assert folds == ["folded", "folded"] and _segments._pools[2] is pool
    assert again.to_dict() == single.to_dict()
    assert parallel.events == EVENTS and parallel.latest_head is not None


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_folded_roots_equal_one_pass_roots(vault: Vault, log: AuditLog) -> None:
    sizes = {h.tree_size for h in log.heads()} | {SEGMENT, 2 * SEGMENT, EVENTS, 1, 4095, 8193}
    with vault.engine.connect() as conn:
        plan = _segments.plan_segments(conn, 2, SEGMENT)
        assert plan is not None and plan.segments == 3
        count, roots, tail = plan.stream(sizes, HEAD_EVERY)
        events_sql, objects_sql, _ = range_queries(None, None)
        problems: list[str] = []
        one = scan(
            raw_rows(conn, events_sql), stored_blocks(conn, objects_sql, problems.append),
            sizes, problems.append, keep=HEAD_EVERY,
        )  # fmt: skip
    assert not problems and count == one.count == EVENTS
    assert roots == one.marks and len(roots) == len(sizes)
    assert tail == list(one.tail)


def _column_in_second_segment(conn: Connection) -> None:
    seq = SEGMENT + 904
    conn.execute(update(t_events).where(t_events.c.seq == seq).values(actor="someone"))


def _body_in_second_segment(conn: Connection) -> None:
    seq = SEGMENT + 904
    body = conn.execute(select(t_events.c.body).where(t_events.c.seq == seq)).scalar_one()
    new = bytes(body).replace(b'"purpose":', b'"purpose":"x","was":', 1)
    conn.execute(update(t_events).where(t_events.c.seq == seq).values(body=new))


def _last_of_a_segment(conn: Connection) -> None:
    conn.execute(delete(t_objects).where(t_objects.c.seq == 2 * SEGMENT - 1))
    conn.execute(delete(t_events).where(t_events.c.seq == 2 * SEGMENT - 1))


def _stray_object_row(conn: Connection) -> None:
    row = {"seq_block": 1, "object_id": "f" * 32, "seq": SEGMENT + 17}
    conn.execute(insert(t_objects).values(**row))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the same code reads both
@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        (_column_in_second_segment, f"seq {SEGMENT + 904}: column actor differs"),
        (_body_in_second_segment, "head 5120: root does not match the stored events"),
        (_last_of_a_segment, f"seq {2 * SEGMENT - 1}: missing"),
        (_stray_object_row, f"seq {SEGMENT + 17}: audit_objects rows differ from the body"),
    ],
)
def test_tampering_is_named_as_by_one_pass(
    vault: Vault,
    log: AuditLog,
    folds: list[str],
    tamper: Callable[[Connection], None],
    named: str,
) -> None:
    with vault.engine.begin() as conn:
        tamper(conn)
    parallel = _verify(vault, log, processes=2)
    # the workers saw it (mismatch), or the roots folded from them did not match a head;
    # either way the one-process check ran and worded it
    assert len(folds) == 1
    single = _verify(vault, log, processes=1)
    assert not parallel.ok and parallel.problems == single.problems
    assert any(p.startswith(named) for p in parallel.problems), parallel.problems
