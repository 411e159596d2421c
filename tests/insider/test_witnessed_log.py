"""The operator with the database, the key file and the log key: witnesses outside the server.

On main before the witnesses, deleting an event, renumbering, dropping the heads
and re-signing gave `audit log ok` with the pinned key, and replacing the key
the vault holds re-signed the log at will. Here the log is cosigned by a
witness in its own folder; each test is one move of the operator.
"""

from __future__ import annotations

import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from _cli import run
from _service import served
from _witness import LocalWitness, running_witness
from etanche.access import Role
from etanche.audit import (
    AuditEvent,
    AuditLog,
    Cosigner,
    NoteKey,
    Outcome,
    Pins,
    WitnessEndpoint,
    add_checkpoint_body,
    ask_witness_size,
    verify_log,
)
from etanche.audit._schema import audit_cosignatures, audit_events, audit_heads, audit_objects
from etanche.crypto import SIGNING_PURPOSE, Signer, consistency_path, leaf_hash, new_key
from etanche.vault import Vault

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _events(n: int, first: int = 0) -> list[AuditEvent]:
    return [
        AuditEvent(
            actor=f"user{i % 7}",
            role="biologist",
            action="patient.read",
            outcome=Outcome.OK,
            object_ids=(uuid.UUID(int=i + 1).hex,),
            details={"n": i},
            at=START + timedelta(milliseconds=i),
        )
        for i in range(first, first + n)
    ]


def _witnessed_log(vault: Vault, witness: LocalWitness, n: int = 95) -> tuple[AuditLog, Cosigner]:
    public = AuditLog.for_vault(vault).public_key_bytes()
    endpoint = WitnessEndpoint(NoteKey.parse(witness.vkey), witness.url)
    cosigner = Cosigner(vault.engine, public, [endpoint])
    log = AuditLog.for_vault(vault, head_every=10, witnesses=[cosigner])
    for start in range(0, n, 19):
        log.append_many(_events(min(19, n - start), start))
        assert cosigner.flush(10)
    log.sign_head()
    assert cosigner.flush(10)
    return log, cosigner


def _pins(log: AuditLog, witness: LocalWitness) -> Pins:
    return Pins(log.note_key(), (NoteKey.parse(witness.vkey),), 1)


def _rewrite_without(vault: Vault, victim: int, cosignatures: str) -> AuditLog:
    """Delete event ``victim``, renumber the rest, drop the heads, re-sign with the log key.

    ``cosignatures``: "keep" them all, "drop" them all, or keep only the "valid"
    ones (those of heads before the victim, whose roots did not change).
    """
    with vault.engine.connect() as conn:
        bodies = [bytes(b) for (b,) in conn.execute(select(audit_events.c.body).order_by(
            audit_events.c.seq))]  # fmt: skip
    with vault.engine.begin() as conn:
        for table in (audit_objects, audit_events, audit_heads):
            conn.execute(delete(table))
        if cosignatures == "drop":
            conn.execute(delete(audit_cosignatures))
        if cosignatures == "valid":
            conn.execute(delete(audit_cosignatures).where(audit_cosignatures.c.tree_size > victim))
    forger = AuditLog.for_vault(vault, head_every=10)  # the key from the key file, as the server
    forger.append_many(AuditEvent.from_canonical(b) for i, b in enumerate(bodies) if i != victim)
    forger.sign_head()
    return forger


def _audit(vault: Vault, log: AuditLog, w: LocalWitness) -> list[str]:
    """What `etanche audit verify` checks: pinned keys, and the witness asked for its size."""
    endpoint = WitnessEndpoint(NoteKey.parse(w.vkey), w.url)
    head = log.latest_head()
    assert head is not None
    reported = {endpoint.name: ask_witness_size(endpoint, head.note(log.public_key_bytes()))}
    pins = Pins(log.note_key(), (endpoint.key,), 1, reported)
    return verify_log(vault.engine, pins, head_every=10).problems


def test_rewrite_and_resign_with_the_servers_files_is_refused(vault: Vault, tmp_path: Path) -> None:
    with running_witness(tmp_path / "witness", AuditLog.for_vault(vault).note_key().text()) as w:
        log, _ = _witnessed_log(vault, w)
        assert _audit(vault, log, w) == []
        for kept in ("keep", "drop", "valid"):
            forger = _rewrite_without(vault, 42, kept)
            # With the public key alone the forgery passes, as it did on main:
            assert verify_log(vault.engine, log.public_key_pem(), head_every=10).ok
            problems = _audit(vault, forger, w)
            assert any("witness witness.test/w1 cosigned size 95" in p for p in problems), problems
            if kept == "keep":  # the old cosignatures sign other roots
                assert any("cosignature of witness.test/w1 does not verify" in p for p in problems)
            if kept == "drop":
                assert any("no head is cosigned by 1 of the 1" in p for p in problems)
        # ...and the witness refuses to cosign the rewritten log, with a reason on record.
        head = forger.latest_head()
        assert head is not None and head.tree_size == 92  # three events gone
        with vault.engine.connect() as conn:
            leaves = [leaf_hash(bytes(b)) for (b,) in conn.execute(
                select(audit_events.c.body).order_by(audit_events.c.seq))]  # fmt: skip
        note = head.note(log.public_key_bytes())
        for old, proof in ((95, []), (90, consistency_path(90, leaves, 92))):
            answer = w.witness.add_checkpoint(add_checkpoint_body(old, proof, note))
            assert answer.status in (400, 409, 422)
        assert w.witness.folder.state[log.origin].size == 95
        reasons = [r["reason"] for r in w.witness.folder.refusals()]
        assert any("behind the cosigned size 95" in r for r in reasons), reasons
        assert any("larger than the checkpoint's 92" in r for r in reasons), reasons


def test_a_forked_log_is_refused_by_the_witness(vault: Vault, tmp_path: Path) -> None:
    with running_witness(tmp_path / "witness", AuditLog.for_vault(vault).note_key().text()) as w:
        log, cosigner = _witnessed_log(vault, w, 40)
        # A second history from the same key: same first 20 events, then others.
        with vault.engine.begin() as conn:
            conn.execute(delete(audit_objects).where(audit_objects.c.seq >= 20))
            conn.execute(delete(audit_events).where(audit_events.c.seq >= 20))
            conn.execute(delete(audit_heads).where(audit_heads.c.tree_size > 20))
        fork = AuditLog.for_vault(vault, head_every=10, witnesses=[cosigner])
        fork.append_many(_events(30, 1000))
        cosigner.flush(10)
        assert cosigner.failures, "the witness cosigned a fork"
        assert {f.error for f in cosigner.failures} == {"HTTP 422"}
        assert w.witness.folder.state[log.origin].size == 40
        reasons = [r["reason"] for r in w.witness.folder.refusals()]
        assert any("does not verify (fork)" in r for r in reasons), reasons


def test_a_swapped_key_in_the_vault_changes_nothing(vault: Vault, tmp_path: Path) -> None:
    with running_witness(tmp_path / "witness", AuditLog.for_vault(vault).note_key().text()) as w:
        log, _ = _witnessed_log(vault, w, 30)
        pins = _pins(log, w)
        # The operator replaces the signing key the vault holds (the old home of the log key)
        ring_key = vault.network_key(SIGNING_PURPOSE)
        swapped = Signer.from_seed(new_key())
        assert swapped.key_id != Signer.from_seed(ring_key).key_id
        # ...and re-signs every head with a key of their own, as the vault's copy says.
        with vault.engine.begin() as conn:
            for head in log.heads():
                resigned = type(head).sign(swapped, head.tree_size, head.root, head.signed_at)
                conn.execute(
                    update(audit_heads)
                    .where(audit_heads.c.tree_size == head.tree_size)
                    .values(key_id=resigned.key_id, signature=resigned.signature,
                            checkpoint_sig=resigned.checkpoint_sig)
                )  # fmt: skip
        # The log key still comes from custody, not from anything in the vault:
        assert AuditLog.for_vault(vault).key_id == log.key_id
        report = verify_log(vault.engine, pins, head_every=10)
        assert not report.ok
        assert any("expected key " + log.key_id in p for p in report.problems)


def test_audit_verify_with_pinned_witnesses_refuses_the_rewrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole chain: service, witness in its own folder, `etanche audit verify` as auditor."""
    with ExitStack() as stack:
        found: list[LocalWitness] = []
        listing = tmp_path / "witnesses.txt"
        log_vkey = tmp_path / "audit-log.vkey"

        def start_witness(vault: Vault) -> Path:  # the DPO sets it up with the exported key
            log_vkey.write_text(AuditLog.for_vault(vault).note_key().text() + "\n")
            w = stack.enter_context(running_witness(tmp_path / "witness", log_vkey.read_text()))
            listing.write_text(f"{w.vkey} {w.url}\n", encoding="utf-8")
            found.append(w)
            return listing

        (tmp_path / "site").mkdir()
        service = stack.enter_context(
            served(tmp_path / "site", monkeypatch, witnesses=start_witness)
        )
        w = found[0]
        service.add_person("lpriol", "Louise Priol", Role.AUDITOR, ["*"])
        service.as_person("lpriol")
        for _ in range(3):
            assert run(capsys, "audit", "show", "--limit", "1")[0] == 0
        assert run(capsys, "audit", "head")[0] == 0
        origin = log_vkey.read_text().split("+")[0]
        deadline = time.monotonic() + 20
        while origin not in w.witness.folder.state and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the cosignature of the latest head is stored after the answer
        pinned = ["audit", "verify", "--log-key", str(log_vkey), "--witnesses", str(listing)]
        code, out, err = run(capsys, *pinned)
        assert code == 0, out + err
        assert "witnessed up to" in out
        cosigned = w.witness.folder.state[origin].size
        with service.open() as vault:  # the operator: database and key file
            with vault.engine.connect() as conn:
                events = [bytes(b) for (b,) in conn.execute(
                    select(audit_events.c.body).order_by(audit_events.c.seq))]  # fmt: skip
            with vault.engine.begin() as conn:
                for table in (audit_objects, audit_events, audit_heads, audit_cosignatures):
                    conn.execute(delete(table))
            forger = AuditLog.for_vault(vault)
            # event 1 rewritten (the same count, so the running service notices nothing)
            forged = [events[0] if i == 1 else b for i, b in enumerate(events)]
            forger.append_many(AuditEvent.from_canonical(b) for b in forged)
            forger.sign_head()
        code, out, err = run(capsys, *pinned)
        assert code == 5, out + err
        assert f"witness witness.test/w1 cosigned size {cosigned}" in out, err
