"""AuditLog on both backends: sequence, heads, proofs, filters, witnesses, concurrency."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import delete, select, update

from conftest import PASSPHRASE
from etanche.audit import (
    AuditLog,
    FileWitness,
    InclusionProof,
    SignedTreeHead,
    WebhookWitness,
    read_heads,
    verify_inclusion_proof,
    verify_log,
)
from etanche.audit._schema import audit_events as t_events
from etanche.audit._schema import audit_heads as t_heads
from etanche.audit._schema import audit_objects as t_objects
from etanche.crypto import EMPTY_ROOT, SIGNING_PURPOSE, PassphraseKeyFile, Signer
from etanche.errors import (
    IntegrityError,
    RecordNotFound,
    SourceError,
    UsageError,
    ValidationError,
)
from etanche.vault import Vault

ROOT = Path(__file__).resolve().parents[2]


def make_log(vault: Vault, clock, **kw) -> AuditLog:  # type: ignore[no-untyped-def]
    kw.setdefault("head_every", 10)
    kw.setdefault("head_interval_s", 60.0)
    return AuditLog.for_vault(vault, clock=clock, **kw)


def test_append_allocates_contiguous_seqs_and_heads(
    vault: Vault, audit_clock, audit_events
) -> None:
    log = make_log(vault, audit_clock)
    assert log.append(audit_events.one()) == 0
    assert log.append_many(audit_events.many(24)) == list(range(1, 25))
    assert log.append_many([]) == []
    # first append signs at once, then every multiple of head_every, even inside a batch
    assert [h.tree_size for h in log.heads()] == [1, 10, 20]
    report = verify_log(vault.engine, log.public_key_pem(), head_every=10)
    assert report.ok, report.problems
    assert (report.events, report.heads, report.unsigned_tail) == (25, 3, 5)
    assert report.latest_head is not None and report.latest_head.tree_size == 20


def test_time_based_head_and_sign_head(vault: Vault, audit_clock, audit_events) -> None:
    log = make_log(vault, audit_clock, head_every=1000, head_interval_s=30)
    log.append_many(audit_events.many(3))
    log.append(audit_events.one())
    assert [h.tree_size for h in log.heads()] == [3]
    audit_clock.tick(31)
    log.append(audit_events.one())  # the interval passed: this append signs
    assert [h.tree_size for h in log.heads()] == [3, 5]
    assert log.sign_head().tree_size == 5  # nothing new: the same head
    log.append(audit_events.one())
    head = log.sign_head()
    assert head.tree_size == 6 and head.signed_at == audit_clock.now
    log.append(audit_events.one())
    log.close()  # signs the unsigned tail
    latest = log.latest_head()
    assert latest is not None and latest.tree_size == 7
    assert verify_log(vault.engine, log.public_key_pem(), head_every=1000).ok


def test_empty_log_head_and_report(vault: Vault, audit_clock) -> None:
    log = make_log(vault, audit_clock)
    assert log.latest_head() is None
    report = verify_log(vault.engine, log.public_key_pem())
    assert report.ok and report.events == 0 and report.latest_head is None
    head = log.sign_head()
    assert (head.tree_size, head.root) == (0, EMPTY_ROOT)


def test_for_vault_signs_with_the_custody_key_not_a_data_key(
    vault: Vault, audit_clock, audit_events
) -> None:
    log = make_log(vault, audit_clock)
    log.append(audit_events.one())
    data_key_signer = Signer.from_seed(vault.network_key(SIGNING_PURPOSE))
    assert log.key_id != data_key_signer.key_id
    assert log.key_id == vault.audit_log_signer().key_id
    head = log.latest_head()
    assert head is not None and head.key_id == log.key_id and head.checkpoint_sig is not None


def test_batch_is_one_transaction(vault: Vault, audit_clock, audit_events) -> None:
    log = make_log(vault, audit_clock)
    log.append_many(audit_events.many(3))
    bad = audit_events.one(object_ids=("x" * 65,))
    with pytest.raises(ValidationError, match="object_ids") as caught:
        log.append_many([*audit_events.many(4), bad])
    assert "x" * 65 not in str(caught.value)
    with pytest.raises(ValidationError, match="actor"):
        log.append(audit_events.one(actor=""))
    with vault.engine.connect() as conn:
        assert conn.execute(select(t_events.c.seq)).all() == [(0,), (1,), (2,)]
    assert log.append(audit_events.one()) == 3


def test_new_instance_continues_the_tree(vault: Vault, audit_clock, audit_events) -> None:
    first = make_log(vault, audit_clock)
    first.append_many(audit_events.many(13))
    second = make_log(vault, audit_clock)
    assert second.append_many(audit_events.many(9)) == list(range(13, 22))
    first.append_many(audit_events.many(4))  # catches up with what the other one appended
    report = verify_log(vault.engine, first.public_key_pem(), head_every=10)
    assert report.ok and report.events == 26, report.problems


def test_writer_refuses_a_tampered_log(vault: Vault, audit_clock, audit_events) -> None:
    make_log(vault, audit_clock).append_many(audit_events.many(12))
    with vault.engine.begin() as conn:
        conn.execute(update(t_events).where(t_events.c.seq == 4).values(body=b"{}"))
        conn.execute(update(t_heads).values(frontier=None))  # else it resumes from head 10
    with pytest.raises(IntegrityError, match="do not match head 10"):
        make_log(vault, audit_clock).append(audit_events.one())


def test_writer_notices_deleted_events(vault: Vault, audit_clock, audit_events) -> None:
    log = make_log(vault, audit_clock)
    log.append_many(audit_events.many(5))
    with vault.engine.begin() as conn:
        conn.execute(delete(t_events).where(t_events.c.seq == 4))
    with pytest.raises(IntegrityError, match="deleted"):
        log.append(audit_events.one())


def test_events_filters(vault: Vault, audit_clock, audit_events) -> None:
    log = make_log(vault, audit_clock)
    patient = audit_events.patients[0]
    start = audit_clock.now
    log.append_many(audit_events.many(20))
    marked = log.append(audit_events.one(actor="dpo1", object_ids=(patient, patient)))
    middle = audit_clock.now
    log.append_many(audit_events.many(20))
    everything = log.events()
    assert [seq for seq, _ in everything] == list(range(41))
    assert all(e.actor == "dpo1" for _, e in log.events(actor="dpo1"))
    assert marked in [seq for seq, _ in log.events(actor="dpo1")]
    by_patient = log.events(object_id=patient)
    assert marked in [s for s, _ in by_patient]
    assert all(patient in e.object_ids for _, e in by_patient)
    assert all(e.action == "auth.login" for _, e in log.events(action="auth.login"))
    early = log.events(since=start, until=middle)  # until is exclusive
    assert [s for s, _ in early] == list(range(20))
    assert [s for s, _ in log.events(since=middle)] == list(range(20, 41))
    assert [s for s, _ in log.events(limit=3, newest_first=True)] == [40, 39, 38]
    assert log.events(object_id="unknown") == []


def test_inclusion_proof_offline(vault: Vault, audit_clock, audit_events) -> None:
    log = make_log(vault, audit_clock)
    log.append_many(audit_events.many(37))
    pem = log.public_key_pem()
    stored = dict(log.events())
    for seq, size in ((0, 30), (1, 30), (17, 30), (29, 30), (36, 37), (3, 37)):
        proof = log.prove(seq)  # in the latest head; 36 was unsigned: a head is signed first
        checked = verify_inclusion_proof(proof.to_json(), pem)
        assert (checked.seq, checked.tree_size) == (seq, size)
        assert checked.event() == stored[seq]
    with pytest.raises(RecordNotFound):
        log.prove(99)

    doc = json.loads(log.prove(5).to_json())
    cases = {
        "leaf": lambda d: d.update(leaf_hash="00" * 32, body=None),
        "body": lambda d: d.update(body=d["body"].replace('"v":1', '"v":2')),
        "path": lambda d: d["path"].__setitem__(0, "11" * 32),
        "seq": lambda d: d.update(seq=6),
        "root": lambda d: d["head"].update(root="22" * 32),
        "size": lambda d: (d["head"].update(tree_size=36), d.update(tree_size=36)),
        "signature": lambda d: d["head"].update(signature="33" * 64),
    }
    for name, change in cases.items():
        forged = json.loads(json.dumps(doc))
        change(forged)
        with pytest.raises(IntegrityError):
            verify_inclusion_proof(json.dumps(forged), pem)
            pytest.fail(f"forged {name} verified")
    other = Signer.from_seed(bytes(32))
    with pytest.raises(IntegrityError, match="signed by key"):
        verify_inclusion_proof(json.dumps(doc), other.public_key_pem())
    with pytest.raises(SourceError, match="path"):
        verify_inclusion_proof(json.dumps({**doc, "path": "nope"}), pem)
    assert isinstance(InclusionProof.from_json(json.dumps(doc)), InclusionProof)


def test_consistency_between_heads(vault: Vault, audit_clock, audit_events) -> None:
    from etanche.crypto import verify_consistency

    log = make_log(vault, audit_clock)
    log.append_many(audit_events.many(13))
    old = log.sign_head()
    log.append_many(audit_events.many(30))
    new = log.sign_head()
    proof = log.prove_consistency(old.tree_size, new.tree_size)
    assert verify_consistency(old.tree_size, new.tree_size, old.root, new.root, proof)


def test_file_witness_and_against(vault: Vault, audit_clock, audit_events, tmp_path: Path) -> None:
    witness_file = tmp_path / "witness.jsonl"
    log = make_log(vault, audit_clock, witnesses=[FileWitness(witness_file)])
    log.append_many(audit_events.many(25))
    saved = read_heads(witness_file)
    assert [h.tree_size for h in saved] == [10, 20] or [h.tree_size for h in saved] == [1, 10, 20]
    assert saved == log.heads()
    pem = log.public_key_pem()
    assert verify_log(vault.engine, pem, against=saved, head_every=10).ok
    # truncation past a witnessed head: the database alone looks fine, the witness does not
    with vault.engine.begin() as conn:
        conn.execute(delete(t_events).where(t_events.c.seq >= 15))
        conn.execute(delete(t_objects).where(t_objects.c.seq >= 15))
        conn.execute(delete(t_heads).where(t_heads.c.tree_size > 15))
    assert verify_log(vault.engine, pem, head_every=10).ok
    report = verify_log(vault.engine, pem, against=saved, head_every=10)
    assert not report.ok
    assert report.problems == ["saved head 20: the log holds only 15 events (truncated)"]


def test_single_head_file_round_trip(
    tmp_path: Path, vault: Vault, audit_clock, audit_events
) -> None:
    log = make_log(vault, audit_clock)
    log.append_many(audit_events.many(3))
    head = log.sign_head()
    path = tmp_path / "head.json"
    path.write_text(json.dumps(head.to_dict(), indent=2))
    assert read_heads(path) == [head]
    path.write_text(head.to_json())
    assert read_heads(path) == [head]
    assert SignedTreeHead.from_json(head.to_json()) == head
    path.write_text('{"format": "etanche-sth/v1", "tree_size": -1}')
    with pytest.raises(SourceError, match="tree_size"):
        read_heads(path)
    path.write_text("")
    with pytest.raises(SourceError, match="no head"):
        read_heads(path)


def test_unsigned_tail_rules(vault: Vault, audit_clock, audit_events) -> None:
    log = make_log(vault, audit_clock, head_every=10, head_interval_s=60)
    log.append_many(audit_events.many(3))
    log.append_many(audit_events.many(7))
    assert [h.tree_size for h in log.heads()] == [3, 10]
    pem = log.public_key_pem()
    log.append_many(audit_events.many(4))  # within the interval: legitimately unsigned
    report = verify_log(vault.engine, pem, head_every=10, head_interval_s=60)
    assert report.ok and report.unsigned_tail == 4
    # a tail longer than head_every means heads were removed
    with vault.engine.begin() as conn:
        conn.execute(delete(t_heads).where(t_heads.c.tree_size == 10))
    report = verify_log(vault.engine, pem, head_every=10, head_interval_s=60)
    assert not report.ok and report.problems[0].startswith("unsigned tail: 11 events after head 3")


def test_tail_later_than_the_interval_is_an_error(vault: Vault, audit_clock, audit_events) -> None:
    log = make_log(vault, audit_clock, head_every=100, head_interval_s=60)
    log.append_many(audit_events.many(5))
    audit_clock.tick(120)
    late = audit_events.one()
    log.append(late)  # signs head 6 (the interval passed)
    with vault.engine.begin() as conn:  # drop that head: event 5 now looks unsigned
        conn.execute(delete(t_heads).where(t_heads.c.tree_size == 6))
    report = verify_log(vault.engine, log.public_key_pem(), head_every=100, head_interval_s=60)
    assert not report.ok
    assert "seq 5 is later than the head interval allows" in report.problems[0]


def test_no_personal_value_in_problems(vault: Vault, audit_clock, audit_events) -> None:
    log = make_log(vault, audit_clock)
    event = audit_events.one(actor="jeanne.dupont", purpose="care")
    log.append_many([event, *audit_events.many(12)])
    with vault.engine.begin() as conn:
        conn.execute(update(t_events).where(t_events.c.seq == 0).values(actor="x"))
        conn.execute(
            update(t_objects)
            .where(t_objects.c.object_id == event.object_ids[0])
            .values(object_id="y")
        ) if event.object_ids else None
    report = verify_log(vault.engine, log.public_key_pem(), head_every=10)
    text = "\n".join(report.problems)
    assert not report.ok and "seq 0: column actor differs from the body" in text
    for value in ("jeanne.dupont", *event.object_ids, event.client or "-"):
        assert value not in text


def test_threads_append_concurrently(vault: Vault, audit_clock, audit_events) -> None:
    log = make_log(vault, audit_clock)
    batches = [audit_events.many(15) for _ in range(6)]
    seqs: list[int] = []
    lock = threading.Lock()

    def work(batch) -> None:  # type: ignore[no-untyped-def]
        got = [log.append(batch[0]), *log.append_many(batch[1:])]
        with lock:
            seqs.extend(got)

    threads = [threading.Thread(target=work, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seqs) == list(range(90))
    assert verify_log(vault.engine, log.public_key_pem(), head_every=10).ok


_WRITER = """
import sys
from datetime import UTC, datetime
from sqlalchemy import create_engine
from etanche.audit import AuditEvent, AuditLog, Outcome
from etanche.crypto import Signer
from etanche.vault import parse_location
from etanche.vault._location import make_engine
url, seed, tag = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3]
engine = make_engine(parse_location(url, "unused-keys.json"))
log = AuditLog(engine, Signer.from_seed(seed), head_every=7)
def event(i):
    return AuditEvent(actor=f"{tag}{i % 3}", role="biologist", action="patient.read",
                      outcome=Outcome.OK, object_ids=(f"{tag}-{i}",), details={"i": i})
for i in range(0, 60, 3):
    log.append(event(i))
    log.append_many([event(i + 1), event(i + 2)])
print("done")
"""


def test_two_processes_never_fork_the_tree(vault: Vault, tmp_path: Path) -> None:
    keyfile = PassphraseKeyFile.open(vault.location.keyfile, PASSPHRASE)
    seed = keyfile.audit_log_seed().hex()  # held in the key file, like the KEKs
    url = vault.location.url.replace("postgresql+psycopg://", "postgresql://")
    target = str(vault.location.directory) if vault.location.directory is not None else url
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, target, seed, tag],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("a", "b")
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and "done" in out, err[-2000:]
    log = AuditLog.for_vault(vault, head_every=7)
    report = verify_log(vault.engine, log.public_key_pem(), head_every=7)
    assert report.ok and report.events == 120, report.problems
    assert len(log.events(actor="a0", limit=1000)) == 20


class _Collector(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []
    status: ClassVar[int] = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(self.rfile.read(length))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, type[_Collector]]]:
    handler = type("Handler", (_Collector,), {"received": [], "status": 200})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/heads?token=t0", handler
    finally:
        server.shutdown()
        server.server_close()


def test_webhook_witness_receives_heads(vault: Vault, audit_clock, audit_events, webhook) -> None:
    url, handler = webhook
    log = make_log(vault, audit_clock, witnesses=[WebhookWitness(url, timeout_s=5)])
    log.append_many(audit_events.many(21))
    got = [SignedTreeHead.from_json(body) for body in handler.received]
    assert [h.tree_size for h in got] == [10, 20] or [h.tree_size for h in got] == [1, 10, 20]
    assert got == log.heads() and log.witness_failures == []


def test_failing_witness_is_reported_and_head_kept(
    vault: Vault, audit_clock, audit_events, webhook, caplog: pytest.LogCaptureFixture
) -> None:
    url, handler = webhook
    handler.status = 500
    witness = WebhookWitness(url, timeout_s=5)
    log = make_log(vault, audit_clock, witnesses=[witness])
    log.append_many(audit_events.many(10))
    assert [h.tree_size for h in log.heads()] == [10]
    assert [(f.witness, f.tree_size) for f in log.witness_failures] == [("webhook 127.0.0.1", 10)]
    assert "token" not in caplog.text and "did not take head 10" in caplog.text
    with pytest.raises(UsageError):
        WebhookWitness("ftp://127.0.0.1/x")


def test_verify_reads_a_consistent_snapshot_while_writing(
    vault: Vault, audit_clock, audit_events
) -> None:
    log = make_log(vault, audit_clock, head_every=50)
    log.append_many(audit_events.many(200))
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            log.append_many(audit_events.many(20))

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        reports = [verify_log(vault.engine, log.public_key_pem(), head_every=50) for _ in range(5)]
    finally:
        stop.set()
        thread.join()
    assert all(r.ok for r in reports), [r.problems for r in reports]


def test_time_filters_are_utc(vault: Vault, audit_clock, audit_events) -> None:
    from datetime import timezone

    log = make_log(vault, audit_clock)
    log.append_many(audit_events.many(5))
    paris = timezone(timedelta(hours=1))
    local = (audit_clock.now + timedelta(hours=1)).replace(tzinfo=paris)  # same instant
    assert len(log.events(until=local)) == 4


def test_group_commit_shares_one_transaction(vault: Vault, audit_clock, audit_events) -> None:
    log = make_log(vault, audit_clock)
    log.append(audit_events.one())
    commits: list[int] = []
    original = log._append_locked

    def counting(conn, group, *rest):  # type: ignore[no-untyped-def]
        commits.append(sum(len(t.events) for t in group))
        return original(conn, group, *rest)

    log._append_locked = counting  # type: ignore[method-assign]
    results: dict[int, list[int]] = {}
    batches = {i: audit_events.many(i % 3 + 1) for i in range(8)}

    def call(i: int) -> None:
        results[i] = log.append_many(batches[i])

    threads = [threading.Thread(target=call, args=(i,)) for i in batches]
    with log._lock:  # a commit in progress: every call queues behind it
        for t in threads:
            t.start()
        while len(log._queue) < len(threads):
            threading.Event().wait(0.005)
    for t in threads:
        t.join()
    assert commits == [sum(len(b) for b in batches.values())]  # one shared transaction
    seqs = sorted(s for got in results.values() for s in got)
    assert seqs == list(range(1, 1 + len(seqs)))
    for i, got in results.items():  # each call's events are contiguous and its own
        assert got == list(range(got[0], got[0] + len(batches[i])))
        assert [e for _, e in log.events() if _ in got] == batches[i]
    assert verify_log(vault.engine, log.public_key_pem(), head_every=10).ok


def test_a_failed_group_fails_every_caller(vault: Vault, audit_clock, audit_events) -> None:
    from sqlalchemy.exc import OperationalError

    from etanche.errors import VaultError

    log = make_log(vault, audit_clock)
    log.append(audit_events.one())

    def broken(conn, rows):  # type: ignore[no-untyped-def]
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    log._objects_insert.run = broken  # type: ignore[method-assign]
    errors: list[BaseException] = []

    def call() -> None:
        try:
            log.append(audit_events.one())
        except VaultError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(4)]
    with log._lock:
        for t in threads:
            t.start()
        while len(log._queue) < len(threads):
            threading.Event().wait(0.005)
    for t in threads:
        t.join()
    assert len(errors) == 4 and "write failed" in str(errors[0])
    assert [s for s, _ in log.events()] == [0]


def test_a_seq_clash_rolls_back_and_retries(vault: Vault, audit_clock, audit_events) -> None:
    from sqlalchemy.exc import IntegrityError as SqlIntegrityError

    log = make_log(vault, audit_clock)
    log.append_many(audit_events.many(3))
    original = log._events_insert.run
    clashes = []

    def clash_once(conn, rows):  # type: ignore[no-untyped-def]
        original(conn, rows)
        if not clashes:
            clashes.append(rows[0][0])
            raise SqlIntegrityError("INSERT", {}, Exception("duplicate key"))

    log._events_insert.run = clash_once  # type: ignore[method-assign]
    assert log.append_many(audit_events.many(4)) == [3, 4, 5, 6]
    assert clashes == [3]
    assert verify_log(vault.engine, log.public_key_pem(), head_every=10).ok
