"""The audit trail in its two modes: sync (the CLI) and buffered (a server).

Buffered events must all land, in order, with contiguous seqs and a log that
verifies; the alert rules still see each one once; flush and close write
everything queued; a writer failure is raised to the next caller, never lost.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import PASSPHRASE
from etanche.access import Action, Actor, Role
from etanche.audit import AuditLog, Outcome, verify_log
from etanche.audit._alerts import AlertEngine
from etanche.audit._rules import load_rules
from etanche.audit._schema import alerts as t_alerts
from etanche.audit._schema import audit_events as t_events
from etanche.errors import UsageError, ValidationError, VaultError
from etanche.service import PatientService, Trail
from etanche.synth import SynthNetwork
from etanche.vault import Vault

BIOLOGIST = Actor("jmartin", "u-jmartin", Role.BIOLOGIST, frozenset({"L01"}))
PATIENT_IDS = [f"{i:032x}" for i in range(1, 201)]  # pseudonymous ids, as the vault's


def trail(vault: Vault, **kw: object) -> Trail:
    log = AuditLog.for_vault(vault, head_every=100, head_interval_s=3600)
    alerts = AlertEngine(vault.engine, load_rules())
    return Trail(log, alerts, **kw)  # type: ignore[arg-type]


def stored(vault: Vault) -> int:
    with vault.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t_events)).scalar_one())


def read(t: Trail, i: int, **kw: object) -> int | None:
    return t.record(
        BIOLOGIST,
        Action.PATIENT_READ,
        Outcome.OK,
        objects=[PATIENT_IDS[i % len(PATIENT_IDS)]],
        client="10.0.0.7",
        details={"i": i},
        **kw,  # type: ignore[arg-type]
    )


def wait_until(condition, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return False


def test_sync_mode_commits_before_returning(vault: Vault) -> None:
    t = trail(vault)
    assert t.mode == "sync"
    assert [read(t, i) for i in range(3)] == [0, 1, 2]
    assert stored(vault) == 3
    t.flush()  # nothing queued: returns at once
    t.close()


def test_unknown_mode_is_refused(vault: Vault) -> None:
    with pytest.raises(UsageError, match="trail mode"):
        trail(vault, mode="eventually")
    with pytest.raises(UsageError, match="flush_ms"):
        trail(vault, mode="buffered", flush_ms=0)


def test_buffered_events_land_in_order(vault: Vault) -> None:
    t = trail(vault, mode="buffered", batch_size=64)
    assert all(read(t, i) is None for i in range(300))  # no seq before the commit
    workers = [
        threading.Thread(target=lambda k=k: [read(t, 1000 * k + i) for i in range(100)])
        for k in range(1, 5)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    t.flush()
    events = t.log.events(limit=2_000)
    assert [seq for seq, _ in events] == list(range(700))
    order = [e.details["i"] for _, e in events]
    assert order[:300] == list(range(300))
    for k in range(1, 5):  # each thread's events in the order it recorded them
        mine = [i for i in order if isinstance(i, int) and i // 1000 == k]
        assert mine == [1000 * k + i for i in range(100)]
    times = [e.at for _, e in events[:300]]
    assert times == sorted(times)  # timed at the call, not at the commit
    t.close()
    report = verify_log(vault.engine, t.log.public_key_pem(), head_every=100)
    assert report.ok and report.events == 700 and report.unsigned_tail == 0, report.problems


def test_buffered_alerts_fire_once(vault: Vault) -> None:
    t = trail(vault, mode="buffered", batch_size=32)
    for i in range(120):  # threshold 50 distinct patients within 1 h
        read(t, i)
    read(t, 120, decoy_hit=True)
    t.flush()
    bulk = [a for a in t.fired if a.rule == "bulk_reads"]
    assert len(bulk) == 1 and bulk[0].event_seq == 50  # the 51st distinct patient
    decoy = [a for a in t.fired if a.rule == "decoy_touch"]
    assert len(decoy) == 1 and decoy[0].event_seq == 120
    with vault.engine.connect() as conn:
        rules = [r for (r,) in conn.execute(select(t_alerts.c.rule))]
    assert rules.count("bulk_reads") == 1 and rules.count("decoy_touch") == 1
    t.close()


def test_flush_close_and_the_batch_trigger(vault: Vault) -> None:
    slow = trail(vault, mode="buffered", flush_ms=60_000, batch_size=10)
    for i in range(3):
        read(slow, i)
    assert stored(vault) == 0  # waiting for the window or a full batch
    slow.flush()
    assert stored(vault) == 3
    for i in range(3, 13):  # a full batch is written without waiting for the window
        read(slow, i)
    assert wait_until(lambda: stored(vault) >= 13)
    read(slow, 13)
    read(slow, 14)
    slow.close()  # writes the queue, stops the writer, signs the tail
    assert stored(vault) == 15
    head = slow.log.latest_head()
    assert head is not None and head.tree_size == 15
    assert not slow._writer._thread.is_alive()  # type: ignore[union-attr]
    with pytest.raises(UsageError, match="closed"):
        read(slow, 15)
    slow.close()  # twice is harmless


def test_record_waits_when_the_writer_falls_behind(vault: Vault) -> None:
    """The queue is bounded (10 batches): memory and what a crash can lose stay bounded."""
    t = trail(vault, mode="buffered", flush_ms=1, batch_size=2)
    gate = threading.Event()
    original = t.log.append_many

    def slow(events):  # type: ignore[no-untyped-def]
        gate.wait(30)
        return original(events)

    t.log.append_many = slow  # type: ignore[method-assign]
    recorder = threading.Thread(target=lambda: [read(t, i) for i in range(25)])
    recorder.start()
    writer = t._writer
    assert writer is not None
    assert wait_until(lambda: len(writer._queue) == 20)  # 2 being written, 20 waiting
    recorder.join(0.2)
    assert recorder.is_alive()  # the 23rd record() waits for room
    gate.set()
    recorder.join(30)
    assert not recorder.is_alive()
    t.flush()
    assert [e.details["i"] for _, e in t.log.events()] == list(range(25))
    t.close()


def test_a_bad_event_fails_at_the_call_not_in_the_batch(vault: Vault) -> None:
    t = trail(vault, mode="buffered")
    read(t, 0)
    with pytest.raises(ValidationError, match="action"):
        t.record(BIOLOGIST, "x" * 49, Outcome.OK)
    read(t, 1)
    t.flush()
    assert stored(vault) == 2
    t.close()


def test_writer_failure_surfaces(vault: Vault, caplog: pytest.LogCaptureFixture) -> None:
    t = trail(vault, mode="buffered", flush_ms=5)
    read(t, 0)
    t.flush()

    def broken(events: object) -> list[int]:
        raise VaultError("audit log: write failed 6 times (OperationalError)")

    t.log.append_many = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="etanche.audit.trail"):
        read(t, 1)
        read(t, 2)
        with pytest.raises(VaultError, match="write failed"):
            t.flush()
    assert "writing a batch failed (VaultError)" in caplog.text
    assert PATIENT_IDS[1] not in caplog.text and "10.0.0.7" not in caplog.text
    with pytest.raises(VaultError):  # fail closed: the trail stays failed
        read(t, 3)
    with pytest.raises(VaultError):
        t.close()
    assert stored(vault) == 1
    head = t.log.latest_head()
    assert head is not None and head.tree_size == 1  # close still signed the tail


def test_alert_failure_surfaces(vault: Vault, caplog: pytest.LogCaptureFixture) -> None:
    t = trail(vault, mode="buffered", flush_ms=5)

    def broken(*args: object, **kw: object) -> list[object]:
        raise VaultError("alerts: database unreachable")

    t.alerts.observe = broken  # type: ignore[assignment, method-assign]
    with caplog.at_level(logging.WARNING, logger="etanche.audit.trail"):
        read(t, 0)
        with pytest.raises(VaultError, match="alerts"):
            t.flush()
    assert "alert rules failed (VaultError) on a committed batch" in caplog.text
    assert stored(vault) == 1  # logged, not supervised: raised all the same
    with pytest.raises(VaultError):
        t.close()


def test_patient_service_on_a_buffered_trail(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    t = trail(loaded_vault, mode="buffered")
    labs = frozenset(lab.id for lab in small_network.labs)
    actor = Actor("jmartin", "u-jmartin", Role.BIOLOGIST, labs)
    service = PatientService(loaded_vault, t, actor, client="10.0.0.7")
    nirs = [p.nir for p in small_network.patients() if p.nir][:20]
    for nir in nirs:
        assert service.find_by_nir(nir)
    t.flush()
    events = t.log.events(action=Action.PATIENT_SEARCH.value)
    assert len(events) == len(nirs) and all(e.details["results"] == 1 for _, e in events)
    t.close()


_EXITING = """
import sys
from etanche.access import Action, Actor, Role
from etanche.audit import Outcome
from etanche.service import Trail
from etanche.vault import Vault, parse_location
vault = Vault.open(parse_location(sys.argv[1]), sys.argv[2])
trail = Trail.for_vault(vault, mode="buffered", flush_ms=60_000)
actor = Actor("jmartin", "u1", Role.BIOLOGIST, frozenset({"L01"}))
for i in range(7):
    trail.record(actor, Action.PATIENT_READ, Outcome.OK, details={"i": i})
print("queued")
"""


def test_exit_flushes_the_queue(tmp_path: Path) -> None:
    from etanche.crypto import KdfCost
    from etanche.vault import parse_location

    where = tmp_path / "vault"
    Vault.create(parse_location(str(where)), PASSPHRASE, kdf_cost=KdfCost.fast_for_tests()).close()
    done = subprocess.run(
        [sys.executable, "-c", _EXITING, str(where), PASSPHRASE],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "queued" in done.stdout, done.stderr[-2000:]
    with Vault.open(parse_location(str(where)), PASSPHRASE) as vault:
        assert stored(vault) == 7


def test_a_flush_waiter_is_woken_once_its_events_are_committed(vault: Vault) -> None:
    t = trail(vault, mode="buffered", flush_ms=60_000)  # only a flush writes the batch
    assert not t.when_flushed(lambda: None)  # nothing recorded: nothing to wait for
    before = stored(vault)
    read(t, 0)
    read(t, 1)
    woken = threading.Event()
    seen: list[int] = []

    def wake() -> None:
        seen.append(stored(vault))  # from the writer thread, after the commit
        woken.set()

    assert t.when_flushed(wake)
    assert woken.wait(10)
    assert seen == [before + 2]
    t.raise_failure()  # the writer did not fail
    assert not t.when_flushed(lambda: None)
    t.close()


def test_a_flush_waiter_learns_of_a_writer_failure(vault: Vault) -> None:
    t = trail(vault, mode="buffered", flush_ms=60_000)

    def broken(events: object) -> list[int]:
        raise VaultError("audit log: write failed 6 times (OperationalError)")

    t.log.append_many = broken  # type: ignore[method-assign]
    read(t, 0)
    woken = threading.Event()
    assert t.when_flushed(woken.set)
    assert woken.wait(10)
    with pytest.raises(VaultError, match="write failed"):
        t.raise_failure()
    with pytest.raises(VaultError):  # a new waiter hears of it at once
        t.when_flushed(lambda: None)
    with pytest.raises(VaultError):
        t.close()


def test_a_failing_waiter_does_not_fail_the_trail(vault: Vault) -> None:
    t = trail(vault, mode="buffered", flush_ms=60_000)
    read(t, 0)

    def gone() -> None:
        raise RuntimeError("Event loop is closed")

    assert t.when_flushed(gone)
    t.flush()
    read(t, 1)
    t.flush()
    t.raise_failure()
    t.close()
    assert stored(vault) >= 2


def test_sync_trail_never_waits(vault: Vault) -> None:
    t = trail(vault)
    read(t, 0)
    assert not t.when_flushed(lambda: None)
    t.raise_failure()
