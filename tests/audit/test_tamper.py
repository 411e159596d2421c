"""Every alteration of the stored log is detected: 1,200 random mutations, 100 %.

One log of 300 events with a head every 50 is built once (SQLite) and its final
head saved as a witness would. Each mutation runs inside a transaction on one
connection, ``verify_log`` reads the altered rows through that connection, and
the transaction is rolled back, so every mutation starts from the pristine log
(checked at the end). A smaller set runs on both backends.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, delete, insert, select, update

from etanche.audit import AuditLog, SignedTreeHead, VerificationReport, verify_log
from etanche.audit._schema import audit_events as t_events
from etanche.audit._schema import audit_heads as t_heads
from etanche.audit._schema import audit_objects as t_objects
from etanche.crypto import KdfCost, Signer, leaf_hash
from etanche.vault import Vault, parse_location

EVENTS = 300
HEAD_EVERY = 50
MUTATIONS = 1_200

Mutation = Callable[[Connection, random.Random, "Pristine"], str]


class Pristine:
    """What the untouched log holds, read once: bodies, heads, object rows."""

    def __init__(self, conn: Connection) -> None:
        self.bodies = {
            r.seq: bytes(r.body) for r in conn.execute(select(t_events.c.seq, t_events.c.body))
        }
        self.heads = {r.tree_size: r for r in conn.execute(select(t_heads))}
        self.objects = [(r.object_id, r.seq) for r in conn.execute(select(t_objects))]
        self.rows = {r.seq: r for r in conn.execute(select(t_events))}


def _flip_bit(value: bytes, rng: random.Random) -> bytes:
    changed = bytearray(value)
    bit = rng.randrange(len(changed) * 8)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


def _seq(rng: random.Random) -> int:
    return rng.randrange(EVENTS)


# -- mutations: each returns a description naming what it did ------------------------
def body_bit_flip(conn: Connection, rng: random.Random, p: Pristine) -> str:
    seq = _seq(rng)
    body = _flip_bit(p.bodies[seq], rng)
    conn.execute(update(t_events).where(t_events.c.seq == seq).values(body=body))
    return f"bit flip in body {seq}"


def body_rewrite(conn: Connection, rng: random.Random, p: Pristine) -> str:
    """A careful attacker: valid JSON, columns kept equal, only the purpose changed."""
    seq = _seq(rng)
    body = p.bodies[seq]
    new = body.replace(b'"purpose":', b'"purpose":"x",' + b'"was":', 1)
    conn.execute(update(t_events).where(t_events.c.seq == seq).values(body=new))
    return f"rewritten body {seq}"


def head_root_flip(conn: Connection, rng: random.Random, p: Pristine) -> str:
    size = rng.choice(list(p.heads))
    root = _flip_bit(bytes(p.heads[size].root), rng)
    conn.execute(update(t_heads).where(t_heads.c.tree_size == size).values(root=root))
    return f"bit flip in root of head {size}"


def head_signature_flip(conn: Connection, rng: random.Random, p: Pristine) -> str:
    size = rng.choice(list(p.heads))
    signature = _flip_bit(bytes(p.heads[size].signature), rng)
    conn.execute(update(t_heads).where(t_heads.c.tree_size == size).values(signature=signature))
    return f"bit flip in signature of head {size}"


def delete_middle_event(conn: Connection, rng: random.Random, p: Pristine) -> str:
    seq = rng.randrange(1, EVENTS - 1)
    conn.execute(delete(t_events).where(t_events.c.seq == seq))
    if rng.random() < 0.5:
        conn.execute(delete(t_objects).where(t_objects.c.seq == seq))
    return f"deleted event {seq}"


def delete_and_renumber(conn: Connection, rng: random.Random, p: Pristine) -> str:
    """Delete an event and close the gap: seq stays contiguous, the tree does not."""
    seq = rng.randrange(1, EVENTS - 1)
    conn.execute(delete(t_events).where(t_events.c.seq == seq))
    conn.execute(delete(t_objects).where(t_objects.c.seq == seq))
    for later in range(seq + 1, EVENTS):
        conn.execute(update(t_events).where(t_events.c.seq == later).values(seq=later - 1))
        conn.execute(update(t_objects).where(t_objects.c.seq == later).values(seq=later - 1))
    conn.execute(delete(t_heads).where(t_heads.c.tree_size == EVENTS))
    return f"deleted event {seq} and renumbered"


def swap_bodies(conn: Connection, rng: random.Random, p: Pristine) -> str:
    a, b = rng.sample(range(EVENTS), 2)
    conn.execute(update(t_events).where(t_events.c.seq == a).values(body=p.bodies[b]))
    conn.execute(update(t_events).where(t_events.c.seq == b).values(body=p.bodies[a]))
    return f"swapped bodies {a} and {b}"


def swap_rows(conn: Connection, rng: random.Random, p: Pristine) -> str:
    """Reorder whole rows (columns and objects follow): only the tree order changes."""
    a, b = rng.sample(range(EVENTS), 2)
    for here, there in ((a, b), (b, a)):
        row = p.rows[there]
        conn.execute(
            update(t_events)
            .where(t_events.c.seq == here)
            .values(
                at=row.at,
                actor=row.actor,
                role=row.role,
                action=row.action,
                outcome=row.outcome,
                body=p.bodies[there],
            )
        )
    conn.execute(update(t_objects).where(t_objects.c.seq == a).values(seq=-1))
    conn.execute(update(t_objects).where(t_objects.c.seq == b).values(seq=a))
    conn.execute(update(t_objects).where(t_objects.c.seq == -1).values(seq=b))
    return f"swapped rows {a} and {b}"


def truncate_tail(conn: Connection, rng: random.Random, p: Pristine) -> str:
    """Delete the last k events and every head past the cut: only a saved head tells."""
    k = rng.randint(1, 120)
    cut = EVENTS - k
    conn.execute(delete(t_events).where(t_events.c.seq >= cut))
    conn.execute(delete(t_objects).where(t_objects.c.seq >= cut))
    conn.execute(delete(t_heads).where(t_heads.c.tree_size > cut))
    return f"truncated the last {k} events"


def insert_event(conn: Connection, rng: random.Random, p: Pristine) -> str:
    """Insert a forged event in the middle, shifting the later ones."""
    seq = rng.randrange(1, EVENTS - 1)
    for later in range(EVENTS - 1, seq - 1, -1):
        conn.execute(update(t_events).where(t_events.c.seq == later).values(seq=later + 1))
    row = p.rows[seq]
    conn.execute(
        insert(t_events).values(
            seq=seq,
            at=row.at,
            actor=row.actor,
            role=row.role,
            action=row.action,
            outcome=row.outcome,
            body=p.bodies[seq].replace(b'"v":1', b'"v":1,"x":0'),
        )
    )
    return f"inserted an event at {seq}"


def forged_head_other_key(conn: Connection, rng: random.Random, p: Pristine) -> str:
    """A head at a new size, correct root, signed by another key."""
    size = rng.randrange(1, EVENTS)
    while size in p.heads:
        size = rng.randrange(1, EVENTS)
    root = _root_at(p, size)
    forger = Signer.from_seed(rng.randbytes(32))
    head = SignedTreeHead.sign(forger, size, root, p.heads[HEAD_EVERY].signed_at)
    conn.execute(insert(t_heads).values(_head_values(head)))
    return f"forged head {size} with another key"


def resigned_head_other_key(conn: Connection, rng: random.Random, p: Pristine) -> str:
    """An existing head re-signed by another key, under its own or the real key id."""
    size = rng.choice(list(p.heads))
    row = p.heads[size]
    forger = Signer.from_seed(rng.randbytes(32))
    head = SignedTreeHead.sign(forger, size, bytes(row.root), row.signed_at)
    key_id = head.key_id if rng.random() < 0.5 else row.key_id
    conn.execute(
        update(t_heads)
        .where(t_heads.c.tree_size == size)
        .values(key_id=key_id, signature=head.signature)
    )
    return f"re-signed head {size} with another key"


def head_size_or_time_changed(conn: Connection, rng: random.Random, p: Pristine) -> str:
    size = rng.choice(list(p.heads))
    if rng.random() < 0.5:
        new = size + rng.choice([-1, 1, 7])
        while new in p.heads or new < 0:
            new += 1
        conn.execute(update(t_heads).where(t_heads.c.tree_size == size).values(tree_size=new))
        return f"head {size} moved to size {new}"
    later = p.heads[size].signed_at + timedelta(seconds=rng.randint(1, 3600))
    conn.execute(update(t_heads).where(t_heads.c.tree_size == size).values(signed_at=later))
    return f"head {size} time changed"


def head_root_of_other_tree(conn: Connection, rng: random.Random, p: Pristine) -> str:
    """A head whose root is the root of another size (still a valid-looking hash)."""
    size = rng.choice([s for s in p.heads if s > 1])
    root = _root_at(p, size - rng.randint(1, min(size - 1, 40)))
    conn.execute(update(t_heads).where(t_heads.c.tree_size == size).values(root=root))
    return f"head {size} given another tree's root"


def column_edit(conn: Connection, rng: random.Random, p: Pristine) -> str:
    seq = _seq(rng)
    row = p.rows[seq]
    column = rng.choice(["actor", "role", "action", "outcome", "at"])
    value: Any
    if column == "at":
        value = row.at + timedelta(microseconds=rng.choice([-1, 1, 1_000_000]))
    else:
        value = getattr(row, column) + rng.choice(["x", "_", "0"])
    conn.execute(update(t_events).where(t_events.c.seq == seq).values({column: value}))
    return f"column {column} of event {seq} edited"


def objects_edit(conn: Connection, rng: random.Random, p: Pristine) -> str:
    kind = rng.choice(["delete", "change", "add", "orphan", "move", "misfile"])
    object_id, seq = rng.choice(p.objects)
    where = (t_objects.c.object_id == object_id) & (t_objects.c.seq == seq)
    if kind == "delete":
        conn.execute(delete(t_objects).where(where))
    elif kind == "change":
        conn.execute(update(t_objects).where(where).values(object_id=object_id[::-1] + "x"))
    elif kind == "move":
        target = rng.choice([s for s in range(EVENTS) if (object_id, s) not in p.objects])
        conn.execute(update(t_objects).where(where).values(seq=target))
    elif kind == "misfile":  # same row, under another block than its seq's
        conn.execute(update(t_objects).where(where).values(seq_block=rng.choice([-1, 1, 7])))
    elif kind == "add":
        added = _seq(rng)
        conn.execute(insert(t_objects).values(seq_block=added >> 12, object_id="f" * 32, seq=added))
    else:
        orphan = EVENTS + rng.randint(0, 9)
        conn.execute(
            insert(t_objects).values(seq_block=orphan >> 12, object_id="e" * 32, seq=orphan)
        )
    return f"audit_objects {kind} near event {seq}"


MUTATION_KINDS: list[Mutation] = [
    body_bit_flip,
    body_rewrite,
    head_root_flip,
    head_signature_flip,
    delete_middle_event,
    delete_and_renumber,
    swap_bodies,
    swap_rows,
    truncate_tail,
    insert_event,
    forged_head_other_key,
    resigned_head_other_key,
    head_size_or_time_changed,
    head_root_of_other_tree,
    column_edit,
    objects_edit,
]


def _root_at(p: Pristine, size: int) -> bytes:
    from etanche.crypto import merkle_root

    return merkle_root([leaf_hash(p.bodies[s]) for s in range(size)])


def _head_values(head: SignedTreeHead) -> dict[str, Any]:
    return {
        "tree_size": head.tree_size,
        "root": head.root,
        "signed_at": head.signed_at,
        "key_id": head.key_id,
        "signature": head.signature,
    }


class Fixture:
    def __init__(self, vault: Vault, log: AuditLog, saved: SignedTreeHead) -> None:
        self.vault = vault
        self.pem = log.public_key_pem()
        self.saved = saved

    def verify(self, conn: Connection) -> VerificationReport:
        return verify_log(conn, self.pem, against=self.saved, head_every=HEAD_EVERY)


def build(vault: Vault, clock: Any, events: Any) -> Fixture:
    log = AuditLog.for_vault(vault, head_every=HEAD_EVERY, head_interval_s=3600, clock=clock)
    rng = random.Random(11)
    done = 0
    while done < EVENTS:  # batches of varied sizes, a few single appends
        n = min(rng.choice([1, 1, 7, 23, 40]), EVENTS - done)
        log.append_many(events.many(n))
        done += n
    saved = log.sign_head()  # what a witness holds
    assert saved.tree_size == EVENTS
    return Fixture(vault, log, saved)


@pytest.fixture(scope="module")
def sqlite_log(tmp_path_factory: pytest.TempPathFactory, event_maker, clock_maker) -> Fixture:
    where = parse_location(str(Path(tmp_path_factory.mktemp("tamper")) / "vault"))
    vault = Vault.create(where, "tamper test passphrase", kdf_cost=KdfCost.fast_for_tests())
    clock = clock_maker()
    return build(vault, clock, event_maker(clock, seed=5))


def run_mutations(fixture: Fixture, count: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    missed: list[str] = []
    per_kind: dict[str, int] = {}
    with fixture.vault.engine.connect() as conn:
        pristine = Pristine(conn)
        conn.rollback()
        for i in range(count):
            kind = MUTATION_KINDS[i % len(MUTATION_KINDS)]
            try:
                what = kind(conn, rng, pristine)
                report = fixture.verify(conn)
            finally:
                conn.rollback()
            per_kind[kind.__name__] = per_kind.get(kind.__name__, 0) + 1
            if report.ok:
                missed.append(what)
        assert fixture.verify(conn).ok, "the rollbacks did not restore the log"
    assert not missed, f"{len(missed)} of {count} mutations undetected: {missed[:10]}"
    return per_kind


def test_untouched_log_verifies(sqlite_log: Fixture) -> None:
    report = verify_log(sqlite_log.vault.engine, sqlite_log.pem, against=sqlite_log.saved,
                        head_every=HEAD_EVERY)  # fmt: skip
    assert report.ok, report.problems
    assert (report.events, report.unsigned_tail) == (EVENTS, 0)
    assert report.heads >= EVENTS // HEAD_EVERY


def test_every_random_mutation_is_detected(sqlite_log: Fixture) -> None:
    per_kind = run_mutations(sqlite_log, MUTATIONS, seed=2026)
    assert sum(per_kind.values()) == MUTATIONS >= 1000
    assert set(per_kind) == {k.__name__ for k in MUTATION_KINDS}


def test_detected_without_a_saved_head_except_truncation(sqlite_log: Fixture) -> None:
    """The database alone catches every change to signed events or heads.

    Dropping the last heads and cutting or rewriting the events after the last
    remaining one is truncation: only a saved or witnessed head catches it.
    """
    rng = random.Random(7)
    last_kept = EVENTS - HEAD_EVERY  # the mutations drop head 300 at most
    with sqlite_log.vault.engine.connect() as conn:
        pristine = Pristine(conn)
        conn.rollback()
        for kind in MUTATION_KINDS:
            for _ in range(6):
                what = kind(conn, rng, pristine)
                report = verify_log(conn, sqlite_log.pem, head_every=HEAD_EVERY)
                conn.rollback()
                if kind is truncate_tail:
                    continue
                if kind is delete_and_renumber and int(what.split()[2]) >= last_kept:
                    continue
                assert not report.ok, what


def test_problems_name_the_place(sqlite_log: Fixture) -> None:
    rng = random.Random(3)
    with sqlite_log.vault.engine.connect() as conn:
        pristine = Pristine(conn)
        conn.rollback()
        expectations = {
            body_bit_flip: "root does not match",
            delete_middle_event: ": missing",
            truncate_tail: "(truncated)",
            forged_head_other_key: "signed by key",
            column_edit: "differs from the body",
            head_signature_flip: "signature does not verify",
        }
        for kind, phrase in expectations.items():
            what = kind(conn, rng, pristine)
            report = sqlite_log.verify(conn)
            conn.rollback()
            assert any(phrase in problem for problem in report.problems), (what, report.problems)


def test_mutations_on_both_backends(vault: Vault, event_maker, clock_maker) -> None:
    clock = clock_maker()
    fixture = build(vault, clock, event_maker(clock, seed=9))
    run_mutations(fixture, len(MUTATION_KINDS) * 2, seed=99)
