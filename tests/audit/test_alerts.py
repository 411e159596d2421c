"""The alert engine: each breach alerts once, windows survive processes, acks are recorded."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, insert, select

from etanche.audit._alerts import Alert, AlertEngine, off_hours_stretch
from etanche.audit._events import AuditEvent, DetailValue, Outcome
from etanche.audit._rules import Severity, load_rules
from etanche.audit._schema import alerts, audit_events, metadata
from etanche.audit._sinks import Sink
from etanche.errors import RecordNotFound, UsageError
from etanche.synth import SynthNetwork
from etanche.vault import Vault

T0 = datetime(2024, 4, 2, 9, 0, tzinfo=UTC)  # a Tuesday, 11:00 in Paris: working hours


class Clock:
    """An injectable clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class MemorySink(Sink):
    def __init__(self, name: str = "memory", min_severity: Severity = Severity.LOW) -> None:
        super().__init__(name, min_severity)
        self.received: list[Alert] = []

    def send(self, alert: Alert) -> None:
        self.received.append(alert)


class BrokenSink(Sink):
    def send(self, alert: Alert) -> None:
        raise ConnectionRefusedError("relay down")


def event(
    actor: str,
    action: str,
    *objects: str,
    at: datetime = T0,
    outcome: Outcome = Outcome.OK,
    client: str | None = None,
    details: dict[str, DetailValue] | None = None,
) -> AuditEvent:
    return AuditEvent(
        actor=actor,
        role="biologist",
        action=action,
        outcome=outcome,
        object_ids=tuple(objects),
        client=client,
        details=details or {},
        at=at,
    )


def log_events(engine: Engine, events: Sequence[AuditEvent], first_seq: int = 0) -> list[int]:
    """Write events as the audit log does (another process's work, seen only via the table)."""
    seqs = list(range(first_seq, first_seq + len(events)))
    with engine.begin() as conn:
        conn.execute(
            insert(audit_events),
            [
                {
                    "seq": seq,
                    "at": e.at,
                    "actor": e.actor,
                    "role": e.role,
                    "action": e.action,
                    "outcome": e.outcome.value,
                    "body": e.canonical(),
                }
                for seq, e in zip(seqs, events, strict=True)
            ],
        )
    return seqs


def rows(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r.rule for r in conn.execute(select(alerts.c.rule))]


@pytest.fixture
def light(tmp_path: Path) -> Iterator[Engine]:
    """Just the audit tables on SQLite, for the pure rule logic."""
    engine = create_engine(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def reads(
    actor: str, n: int, start: int = 0, step: timedelta = timedelta(seconds=10)
) -> list[AuditEvent]:
    return [event(actor, "patient.read", f"p{start + i:05d}", at=T0 + i * step) for i in range(n)]


# -- bulk reads -------------------------------------------------------------------


def test_bulk_reads_threshold_is_exact(vault: Vault) -> None:
    engine = AlertEngine(vault.engine, load_rules(), clock=Clock(T0))
    allowed = reads("alice", 50)
    for i, e in enumerate(allowed):
        assert engine.observe(e, seq=i) == []
    # Reading the same patients again is not reading more patients.
    again = event("alice", "patient.read", "p00007", at=T0 + timedelta(minutes=20))
    assert engine.observe(again) == []
    search = event("alice", "patient.search", "p00001", "p00002", at=T0 + timedelta(minutes=21))
    assert engine.observe(search) == []
    fired = engine.observe(event("alice", "patient.read", "p99999", at=T0 + timedelta(minutes=22)))
    assert [a.rule for a in fired] == ["bulk_reads"]
    alert = fired[0]
    assert alert.severity is Severity.HIGH and alert.actor == "alice"
    assert "51 distinct patients" in alert.summary and "threshold 50" in alert.summary
    assert rows(vault.engine) == ["bulk_reads"]


def test_two_hundred_reads_make_one_alert(vault: Vault) -> None:
    sink = MemorySink()
    engine = AlertEngine(vault.engine, load_rules(), [sink], clock=Clock(T0))
    fired = [a for i, e in enumerate(reads("alice", 200)) for a in engine.observe(e, seq=i)]
    assert len(fired) == 1 and len(sink.received) == 1
    assert rows(vault.engine) == ["bulk_reads"]
    # Others are judged on their own reads; denied reads opened nothing.
    for e in reads("bob", 40):
        assert engine.observe(e) == []
    denied = [
        event("bob", "patient.read", f"q{i}", at=T0, outcome=Outcome.DENIED) for i in range(20)
    ]
    fired_by_denials = [a.rule for e in denied for a in engine.observe(e)]
    assert fired_by_denials == ["refused"]  # once for the person, never a bulk read


def test_the_window_slides(light: Engine) -> None:
    engine = AlertEngine(light, load_rules())
    # 100 distinct patients, one every 80 s: never more than 45 within an hour.
    for e in reads("carol", 100, step=timedelta(seconds=80)):
        assert engine.observe(e) == []
    # Once the bulk ends, a new breach more than an hour later alerts again.
    burst = reads("carol", 60, start=1000, step=timedelta(seconds=1))

    def bulk(events: list[AuditEvent]) -> int:
        return sum(a.rule == "bulk_reads" for e in events for a in engine.observe(e))

    assert (
        bulk([event("carol", e.action, *e.object_ids, at=e.at + timedelta(hours=4)) for e in burst])
        == 1
    )
    assert (
        bulk([event("carol", e.action, *e.object_ids, at=e.at + timedelta(hours=6)) for e in burst])
        == 1
    )
    assert rows(light) == ["bulk_reads", "bulk_reads"]


def test_windows_are_rebuilt_from_the_audit_log_across_processes(vault: Vault) -> None:
    # Another process logged 50 reads by alice; this one starts cold and sees the 51st.
    log_events(vault.engine, reads("alice", 50))
    cold = AlertEngine(vault.engine, load_rules())
    last = event("alice", "patient.read", "p77777", at=T0 + timedelta(minutes=30))
    log_events(vault.engine, [last], first_seq=50)
    fired = cold.observe(last, seq=50)  # already in the table: counted once, not twice
    assert [a.rule for a in fired] == ["bulk_reads"] and "51 distinct" in fired[0].summary
    # A third process seeing the next read of the same breach does not alert again.
    other = AlertEngine(vault.engine, load_rules())
    more = event("alice", "patient.read", "p88888", at=T0 + timedelta(minutes=31))
    log_events(vault.engine, [more], first_seq=51)
    assert other.observe(more, seq=51) == []
    assert rows(vault.engine) == ["bulk_reads"]


def test_two_live_processes_share_the_window(vault: Vault) -> None:
    web_a = AlertEngine(vault.engine, load_rules())
    web_b = AlertEngine(vault.engine, load_rules())
    events = reads("dave", 51)
    for i, e in enumerate(events):
        log_events(vault.engine, [e], first_seq=i)
        engine = web_a if i % 2 == 0 else web_b
        fired = engine.observe(e, seq=i)
        assert (i, len(fired)) == (i, 1 if i == 50 else 0)


def test_a_run_of_own_events_is_not_read_back_but_another_writers_are(light: Engine) -> None:
    """Events this engine observed in an unbroken run of seqs need no read-back; a gap
    (another process wrote in between) sends the window back to the table."""
    from sqlalchemy import event as sa_event

    reads_back: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "audit_events" in statement:
            reads_back.append(statement)

    sa_event.listen(light, "before_cursor_execute", count)
    web = AlertEngine(light, load_rules())
    own = reads("fay", 40)
    for i, e in enumerate(own):
        log_events(light, [e], first_seq=i)
        assert web.observe(e, seq=i) == []
    assert len(reads_back) == 1  # the first event only: the rest were seen here, in order
    # another process logs 11 more reads of hers; this engine sees the next one
    log_events(light, reads("fay", 11, start=40, step=timedelta(seconds=1)), first_seq=40)
    last = event("fay", "patient.read", "p99999", at=T0 + timedelta(minutes=10))
    log_events(light, [last], first_seq=51)
    fired = web.observe(last, seq=51)
    assert len(reads_back) == 2
    assert [a.rule for a in fired] == ["bulk_reads"] and "52 distinct" in fired[0].summary


def test_with_the_real_audit_log(vault: Vault) -> None:
    from etanche.audit._log import AuditLog

    log = AuditLog.for_vault(vault)
    try:
        engines = [AlertEngine(vault.engine, load_rules()) for _ in range(2)]
        fired: list[Alert] = []
        for i, e in enumerate(reads("erin", 60)):
            seq = log.append(e)
            fired += engines[i % 2].observe(e, seq=seq)
        assert [a.rule for a in fired] == ["bulk_reads"] and fired[0].event_seq == 50
    finally:
        log.close()


# -- failed logins ----------------------------------------------------------------


def failed(actor: str, client: str, at: datetime) -> AuditEvent:
    return event(actor, "auth.login", at=at, outcome=Outcome.FAILED, client=client)


def test_failed_login_burst_per_account(vault: Vault) -> None:
    engine = AlertEngine(vault.engine, load_rules())
    for i in range(5):
        assert engine.observe(failed("frank", f"10.0.0.{i}", T0 + timedelta(seconds=i))) == []
    ok = event("frank", "auth.login", at=T0 + timedelta(seconds=6), client="10.0.0.9")
    assert engine.observe(ok) == []  # a success is not a failure
    fired = engine.observe(failed("frank", "10.0.0.6", T0 + timedelta(seconds=7)))
    assert [(a.rule, a.severity) for a in fired] == [("failed_logins", Severity.HIGH)]
    assert "6 failed logins for account frank within 10m" in fired[0].summary
    more = [failed("frank", f"10.0.1.{i}", T0 + timedelta(seconds=10 + i)) for i in range(20)]
    assert all(engine.observe(e) == [] for e in more)
    assert rows(vault.engine) == ["failed_logins"]


def test_failed_login_burst_per_client_address(vault: Vault) -> None:
    engine = AlertEngine(vault.engine, load_rules())
    spray = [failed(f"user{i}", "203.0.113.7", T0 + timedelta(seconds=i)) for i in range(6)]
    fired = [a for e in spray for a in engine.observe(e)]
    assert len(fired) == 1
    assert "6 failed logins from client address 203.0.113.7" in fired[0].summary
    assert fired[0].dedup_key.startswith("failed_logins|client:203.0.113.7|")


def test_slow_failures_do_not_burst(light: Engine) -> None:
    engine = AlertEngine(light, load_rules())
    slow = [failed("gina", "198.51.100.1", T0 + timedelta(minutes=3 * i)) for i in range(30)]
    assert all(engine.observe(e) == [] for e in slow)  # at most 4 within any 10 minutes


def test_unprintable_account_names_keep_separate_windows(light: Engine) -> None:
    engine = AlertEngine(light, load_rules())
    typed = ["185077512345678", "285077512345679"]  # NIR-like text typed as user names
    tries = [
        failed(name, f"10.1.{k}.{i}", T0 + timedelta(seconds=i))
        for k, name in enumerate(typed)
        for i in range(3)
    ]
    assert all(engine.observe(e) == [] for e in tries)  # 3 + 3 is not a burst of one account
    burst = [failed(typed[0], "10.2.0.1", T0 + timedelta(seconds=10 + i)) for i in range(3)]
    fired = [a for e in burst for a in engine.observe(e)]
    assert len(fired) == 1 and fired[0].actor is None
    assert "for account an unrecognised account name" in fired[0].summary


def test_failed_logins_from_the_log_of_other_processes(vault: Vault) -> None:
    log_events(vault.engine, [failed(f"u{i}", "192.0.2.44", T0) for i in range(5)])
    engine = AlertEngine(vault.engine, load_rules())
    fired = engine.observe(failed("u9", "192.0.2.44", T0 + timedelta(minutes=1)))
    assert [a.dedup_key.split("|")[1] for a in fired] == ["client:192.0.2.44"]


# -- off hours, export, break glass, verification ---------------------------------------


@pytest.mark.parametrize(
    ("utc", "off"),
    [
        (datetime(2024, 1, 8, 5, 30), True),  # Mon 06:30 CET
        (datetime(2024, 4, 1, 5, 30), False),  # Mon 07:30 CEST: same UTC time, summer
        (datetime(2024, 4, 2, 5, 0), False),  # Tue 07:00 CEST: start included
        (datetime(2024, 4, 6, 17, 59), False),  # Sat 19:59 CEST
        (datetime(2024, 4, 6, 18, 0), True),  # Sat 20:00 CEST: end excluded
        (datetime(2024, 3, 31, 10, 0), True),  # Sunday (the day clocks go forward)
        (datetime(2024, 10, 25, 18, 30), True),  # Fri 20:30 CEST
        (datetime(2024, 10, 28, 18, 30), False),  # Mon 19:30 CET: same UTC time, winter
    ],
)
def test_off_hours_in_paris_time_across_dst(light: Engine, utc: datetime, off: bool) -> None:
    at = utc.replace(tzinfo=UTC)
    clock = Clock(at + timedelta(seconds=3))
    engine = AlertEngine(light, load_rules(), clock=clock)
    fired = engine.observe(event("hugo", "patient.read", "p1", at=at), seq=12)
    assert [a.rule for a in fired] == (["off_hours"] if off else [])
    if off:
        assert fired[0].severity is Severity.LOW and fired[0].created_at == clock.now
        assert "event seq 12" in fired[0].summary


def test_one_off_hours_alert_per_person_and_night(light: Engine) -> None:
    engine = AlertEngine(light, load_rules())
    night = [
        datetime(2024, 4, 6, 19, 30, tzinfo=UTC),  # Sat 21:30
        datetime(2024, 4, 7, 1, 0, tzinfo=UTC),  # Sun 03:00
        datetime(2024, 4, 7, 15, 0, tzinfo=UTC),  # Sun 17:00
        datetime(2024, 4, 8, 4, 59, tzinfo=UTC),  # Mon 06:59
    ]
    assert sum(len(engine.observe(event("ines", "patient.read", "p", at=t))) for t in night) == 1
    monday_evening = datetime(2024, 4, 8, 18, 30, tzinfo=UTC)  # Mon 20:30: a new night
    assert len(engine.observe(event("ines", "patient.read", "p", at=monday_evening))) == 1
    assert len(engine.observe(event("jules", "patient.read", "p", at=monday_evening))) == 1
    assert engine.observe(event("system", "patient.read", "p", at=monday_evening)) == []
    assert engine.observe(event("ines", "auth.login", at=monday_evening)) == []
    rules = load_rules().off_hours.parameters
    saturday = off_hours_stretch(night[0].astimezone(rules.zone), rules)
    assert saturday is not None and saturday.isoformat() == "2024-04-06"


def test_exports_alert_once_per_event(light: Engine) -> None:
    engine = AlertEngine(light, load_rules())
    export = event("kim", "export.create", details={"rows": 1200, "lab": "L01"})
    fired = engine.observe(export, seq=3)
    assert [(a.rule, a.severity) for a in fired] == [("export", Severity.MEDIUM)]
    assert "rows=1200" in fired[0].summary and fired[0].event_seq == 3
    assert engine.observe(export, seq=3) == []  # the same event observed twice
    run = event("kim", "migration.run", at=T0 + timedelta(minutes=5))
    assert [a.rule for a in engine.observe(run)] == ["export"]
    letters = event("anne", "incident.notify", at=T0 + timedelta(minutes=9))
    assert [a.rule for a in engine.observe(letters)] == ["export"]  # art. 34 letters: bulk too


def test_refusals_of_dangerous_acts_alert_once_per_person_and_window(light: Engine) -> None:
    engine = AlertEngine(light, load_rules())
    denied = Outcome.DENIED
    first = engine.observe(event("kim", "patient.search", outcome=denied), seq=1)
    assert [(a.rule, a.severity) for a in first] == [("refused", Severity.HIGH)]
    assert "kim was refused patient.search" in first[0].summary
    later = T0 + timedelta(minutes=20)
    assert engine.observe(event("kim", "user.manage", at=later, outcome=denied)) == []
    other = engine.observe(event("lea", "migration.approve", at=later, outcome=denied))
    assert [a.rule for a in other] == ["refused"]  # another person: another alert
    next_hour = T0 + timedelta(hours=2)
    again = engine.observe(event("kim", "keys.rotate", at=next_hour, outcome=denied))
    assert [a.rule for a in again] == ["refused"]  # a new episode after the window
    assert engine.observe(event("kim", "patient.search", at=next_hour)) == []  # done, not refused
    assert engine.observe(event("kim", "alert.read", at=next_hour, outcome=denied)) == []


def test_break_glass_declaration_and_accesses_under_it(light: Engine) -> None:
    engine = AlertEngine(light, load_rules())
    declared = engine.observe(event("lea", "auth.break_glass"))
    assert [(a.rule, a.severity) for a in declared] == [("break_glass", Severity.HIGH)]
    flag: dict[str, DetailValue] = {"break_glass": True}
    under = [
        event("lea", "patient.read", f"p{i}", at=T0 + timedelta(minutes=i), details=flag)
        for i in range(1, 10)
    ]
    assert all(engine.observe(e) == [] for e in under)  # joined to the declaration
    other = event("max", "patient.read", "p1", details={"break_glass": True})
    assert [a.rule for a in engine.observe(other)] == ["break_glass"]
    not_flagged = event("max", "patient.read", "p2", details={"break_glass": "yes"})
    assert engine.observe(not_flagged) == []
    redeclared = event("lea", "auth.break_glass", at=T0 + timedelta(hours=1))
    assert [a.rule for a in engine.observe(redeclared)] == ["break_glass"]


def test_audit_verification_failure_is_critical_and_open_once(vault: Vault) -> None:
    sink = MemorySink()
    engine = AlertEngine(vault.engine, load_rules(), [sink])
    first = engine.report_verification_failure(
        ["leaf 12: hash mismatch", "head 1000: bad signature"]
    )
    assert first is not None and first.severity is Severity.CRITICAL
    assert first.rule == "audit_verification_failed" and "2 problems" in first.summary
    assert engine.report_verification_failure(["leaf 12: hash mismatch"]) is None
    engine.acknowledge(first.id, "dpo", "restored from backup, investigating")
    again = engine.report_verification_failure(["leaf 12: hash mismatch"])
    assert again is not None and again.id != first.id
    assert [a.id for a in sink.received] == [first.id, again.id]
    with pytest.raises(UsageError, match="at least one problem"):
        engine.report_verification_failure([])


def test_disabled_rules_stay_silent(light: Engine, tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules: {export: {enabled: false}, audit_verification_failed: {enabled: false}}"
    )
    engine = AlertEngine.from_config(light, path)
    assert engine.observe(event("kim", "export.create")) == []
    assert engine.report_verification_failure(["leaf 1: missing"]) is None


# -- acknowledgement and sinks ------------------------------------------------------


def test_acknowledge_workflow(vault: Vault) -> None:
    clock = Clock(T0)
    engine = AlertEngine(vault.engine, load_rules(), clock=clock)
    first = engine.observe(event("kim", "export.create"))[0]
    clock.now = T0 + timedelta(minutes=1)
    second = engine.observe(event("kim", "migration.run", at=T0 + timedelta(minutes=1)))[0]
    assert [a.id for a in engine.list_alerts()] == [second.id, first.id]  # newest first
    clock.now = T0 + timedelta(hours=2)
    acked = engine.acknowledge(first.id, "dpo", "  planned export for lab L01  ")
    assert acked.acknowledged_by == "dpo" and acked.acknowledged_at == clock.now
    assert acked.ack_note == "planned export for lab L01" and not acked.is_open
    assert [a.id for a in engine.list_alerts()] == [second.id]
    assert {a.id for a in engine.list_alerts(open_only=False)} == {first.id, second.id}
    with pytest.raises(UsageError, match=f"alert {first.id}: already acknowledged by dpo"):
        engine.acknowledge(first.id, "auditor")
    assert engine.get_alert(first.id).acknowledged_by == "dpo"
    with pytest.raises(RecordNotFound, match="alert nope: not found"):
        engine.acknowledge("nope", "dpo")
    with pytest.raises(UsageError, match="by:"):
        engine.acknowledge(second.id, "")


def test_every_sink_gets_the_alert_and_a_failing_one_loses_nothing(
    vault: Vault, caplog: pytest.LogCaptureFixture
) -> None:
    everything, critical_only = MemorySink("all"), MemorySink("pager", Severity.CRITICAL)
    engine = AlertEngine(
        vault.engine, load_rules(), [BrokenSink("relay"), everything, critical_only]
    )
    with caplog.at_level(logging.WARNING, logger="etanche.audit.alerts"):
        fired = engine.observe(event("kim", "export.create"), seq=1)
    assert len(fired) == 1 and everything.received == fired and critical_only.received == []
    assert [(f.sink, f.alert_id) for f in engine.failures] == [("relay", fired[0].id)]
    assert "ConnectionRefusedError" in engine.failures[0].error
    assert f"alert {fired[0].id}: sink relay failed" in caplog.text
    assert [a.id for a in engine.list_alerts()] == [fired[0].id]  # kept in the table
    touched = engine.observe(event("kim", "patient.read", "x"), decoy_hit=True)
    assert critical_only.received == touched


def test_no_personal_value_in_summaries(vault: Vault, small_network: SynthNetwork) -> None:
    sink = MemorySink()
    engine = AlertEngine(vault.engine, load_rules(), [sink])
    people = list(small_network.patients())[:80]
    night = datetime(2024, 4, 2, 23, 0, tzinfo=UTC)
    for i, p in enumerate(people):
        # A careless caller puts a name in details: it must not be echoed.
        details: dict[str, DetailValue] = {"query": p.birth_name, "break_glass": True}
        at = night + timedelta(seconds=i)
        engine.observe(event("nadia", "patient.read", p.id, at=at, details=details), seq=i)
    for i, p in enumerate(people[:10]):
        # What was typed in the user field, and a forged client address.
        at = T0 + timedelta(seconds=i)
        engine.observe(failed(p.nir or p.birth_name, "not an address " + p.birth_name, at))
        engine.observe(failed(p.birth_name, "192.0.2.1", at))
    typed, forged = people[0].nir or people[0].birth_name, "at " + people[0].birth_name
    for i in range(6):  # a burst under a typed NIR from a forged address
        engine.observe(failed(typed, forged, T0 + timedelta(minutes=1, seconds=i)))
    everyone = [p.id for p in people]
    engine.observe(event("nadia", "export.create", *everyone, details={"n": people[0].birth_name}))
    engine.observe(event("nadia", "patient.read", people[0].id), decoy_hit=True)
    found = engine.list_alerts(open_only=False)
    assert {a.rule for a in found} == {
        "bulk_reads",
        "off_hours",
        "break_glass",
        "failed_logins",
        "export",
        "decoy_touch",
    }
    exposed = "\n".join(f"{a.summary}\n{a.actor}" for a in [*found, *sink.received])
    assert "an unrecognised account name" in exposed and "an unparseable address" in exposed
    for p in people:
        assert p.id not in exposed  # not even pseudonymous ids: a decoy's must not show
        for value in (p.birth_name, *p.first_names, p.nir, *p.phones, *p.emails):
            if value and len(value) > 3:
                assert value not in exposed, "a personal value reached an alert"


def test_concurrent_processes_write_one_alert_per_breach(vault: Vault) -> None:
    engines = [AlertEngine(vault.engine, load_rules()) for _ in range(6)]
    export = event("kim", "export.create")
    start = threading.Barrier(len(engines))
    results: list[int] = []

    def work(engine: AlertEngine) -> None:
        start.wait()
        results.append(len(engine.observe(export, seq=9)))

    threads = [threading.Thread(target=work, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 0, 0, 0, 0, 1]
    assert rows(vault.engine) == ["export"]


# -- the window's bookkeeping -------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=400),  # seconds after T0: out of order too
            st.lists(st.sampled_from(["p1", "p2", "p3", "p4", "p5", "p6"]), max_size=3),
            st.booleans(),  # move the window after adding
        ),
        max_size=120,
    ),
    st.integers(min_value=1, max_value=120),  # window length in seconds
)
def test_track_counts_equal_a_full_recount(
    steps: list[tuple[int, list[str], bool]], width: int
) -> None:
    """The incremental window counts what a pass over every entry would count."""
    from etanche.audit._alerts import _Track

    track = _Track()
    seen: list[tuple[datetime, tuple[str, ...]]] = []
    for n, (offset, objects, move) in enumerate(steps):
        at = T0 + timedelta(seconds=offset)
        body = f"event {n}".encode()
        track.add(body, at, tuple(objects))
        track.add(body, at, tuple(objects))  # the same event again: counted once
        seen.append((at, tuple(objects)))
        if move:
            since, until = at - timedelta(seconds=width), at
            track.window(since, until)
            inside = [objs for t, objs in seen if since <= t <= until]
            assert track.count() == len(inside)
            assert track.distinct() == len({o for objs in inside for o in objs})
