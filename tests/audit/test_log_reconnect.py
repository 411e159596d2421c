"""An audit append whose commit landed but whose connection was lost is not appended twice."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import exc as sa_exc

from etanche.audit import AuditEvent, AuditLog, Outcome, verify_log
from etanche.vault import Vault


class _Lost(Exception):
    pass


def event(i: int) -> AuditEvent:
    return AuditEvent("jmartin", "biologist", "patient.read", Outcome.OK, details={"i": i})


def test_a_cut_commit_keeps_its_seqs(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    log = AuditLog.for_vault(vault)
    log.append_many([event(0), event(1)])
    original = log._append_locked
    cuts = [1]

    def cut(*args: Any) -> Any:
        heads = original(*args)  # committed
        if cuts[0]:
            cuts[0] -= 1
            raise sa_exc.OperationalError("COMMIT", {}, _Lost(), connection_invalidated=True)
        return heads

    monkeypatch.setattr(log, "_append_locked", cut)
    assert log.append_many([event(2), event(3), event(4)]) == [2, 3, 4]
    assert log.append(event(5)) == 5
    bodies = [e.canonical() for _, e in log.events()]
    assert len(bodies) == len(set(bodies)) == 6
    log.close()
    report = verify_log(vault.engine, log.public_key_pem())
    assert report.ok, report.problems


def test_a_cut_before_the_commit_appends_once(
    vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog.for_vault(vault)
    log.append(event(0))
    original = log._append_locked
    cuts = [1]

    def refused(conn: Any, *args: Any) -> Any:
        if cuts[0]:
            cuts[0] -= 1
            conn.rollback()
            raise sa_exc.OperationalError("INSERT", {}, _Lost(), connection_invalidated=True)
        return original(conn, *args)

    monkeypatch.setattr(log, "_append_locked", refused)
    assert log.append(event(1)) == 1
    assert [e.details["i"] for _, e in log.events()] == [0, 1]
