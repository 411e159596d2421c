"""Heads cosigned by a real witness over HTTP, stored, and verified with pinned keys only."""

from __future__ import annotations

from pathlib import Path

import pytest

from _witness import LocalWitness, running_witness
from etanche.audit import (
    AuditLog,
    Cosigner,
    NoteKey,
    Pins,
    WitnessEndpoint,
    verify_log,
)
from etanche.vault import Vault


def _log(
    vault: Vault, witness: LocalWitness | None, head_every: int = 10
) -> tuple[AuditLog, Cosigner]:
    plain = AuditLog.for_vault(vault)
    endpoints = (
        [] if witness is None else [WitnessEndpoint(NoteKey.parse(witness.vkey), witness.url)]
    )
    cosigner = Cosigner(vault.engine, plain.public_key_bytes(), endpoints)
    return AuditLog.for_vault(vault, head_every=head_every, witnesses=[cosigner]), cosigner


def _pins(log: AuditLog, witness: LocalWitness, quorum: int = 1) -> Pins:
    return Pins(log.note_key(), (NoteKey.parse(witness.vkey),), quorum)


def test_each_head_is_cosigned_and_verifies(vault: Vault, tmp_path: Path, audit_events) -> None:
    log, cosigner = _log(vault, None)
    with running_witness(tmp_path / "w", log.note_key().text()) as witness:
        log, cosigner = _log(vault, witness)
        for _ in range(5):
            log.append_many(audit_events.many(7))
            assert cosigner.flush(10)
        log.sign_head()  # the unsigned tail too
        assert cosigner.flush(10)
        report = verify_log(vault.engine, _pins(log, witness), head_every=10)
    assert report.ok, report.problems
    assert report.witnessed == report.events == 35
    assert list(report.witnessed_by) == ["witness.test/w1"]
    assert witness.witness.folder.state[log.origin].size == 35


def test_a_log_never_witnessed_fails_with_a_quorum(
    vault: Vault, tmp_path: Path, audit_events
) -> None:
    log, _ = _log(vault, None)
    log.append_many(audit_events.many(12))
    with running_witness(tmp_path / "w", log.note_key().text()) as witness:
        report = verify_log(vault.engine, _pins(log, witness), head_every=10)
        assert verify_log(vault.engine, _pins(log, witness, 0), head_every=10).ok
    assert not report.ok
    assert any("no head is cosigned by 1 of the 1 pinned witnesses" in p for p in report.problems)


def test_pins_refuse_a_quorum_above_the_witnesses(vault: Vault) -> None:
    from etanche.errors import UsageError

    log = AuditLog.for_vault(vault)
    with pytest.raises(UsageError, match="quorum"):
        Pins(log.note_key(), (), 1)


def test_proofs_use_the_writers_leaf_hashes_and_read_what_they_were_not_handed(
    vault: Vault, tmp_path: Path, audit_events
) -> None:
    log, _ = _log(vault, None)
    with running_witness(tmp_path / "w", log.note_key().text()) as witness:
        log, cosigner = _log(vault, witness)
        for _ in range(4):
            log.append_many(audit_events.many(10))
            assert cosigner.flush(10)
        assert cosigner.leaves_read == 0  # every proof from the hashes the writer handed over
        other = AuditLog.for_vault(vault, head_every=10)  # another writer: its leaves not handed
        other.append_many(audit_events.many(10))
        log.append_many(audit_events.many(10))
        assert cosigner.flush(10)
        # the proof from 40 to 60 lacks the other writer's 10 leaves: all 20 read from the table
        assert cosigner.leaves_read == 20
        report = verify_log(vault.engine, _pins(log, witness), head_every=10)
    assert report.ok, report.problems
    assert report.witnessed == report.events == 60
