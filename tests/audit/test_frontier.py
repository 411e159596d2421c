"""Signed heads carry the Merkle frontier: a reopened writer replays only the tail.

Also the schema side: revision 0004 adds ``audit_heads.frontier`` to vaults made
before it, and the frozen revisions 0001-0003 plus 0004 build exactly the tables
the rooms declare today.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect, select, update

from etanche.access._schema import metadata as access_metadata
from etanche.audit import AuditLog, SignedTreeHead, verify_log
from etanche.audit._schema import audit_events as t_events
from etanche.audit._schema import audit_heads as t_heads
from etanche.audit._schema import metadata as audit_metadata
from etanche.crypto import MerkleFrontier, Signer, leaf_hash
from etanche.errors import IntegrityError
from etanche.vault import Vault
from etanche.vault._documents import documents_table
from etanche.vault._location import make_engine
from etanche.vault._schema import metadata as vault_metadata
from etanche.vault._store import _alembic_config
from etanche.vault._throttle import throttle_table

EVERY = 100


def make_log(vault: Vault, clock: Any, **kw: Any) -> AuditLog:
    kw.setdefault("head_every", EVERY)
    kw.setdefault("head_interval_s", 3600.0)
    return AuditLog.for_vault(vault, clock=clock, **kw)


def stored_frontiers(vault: Vault) -> dict[int, bytes | None]:
    with vault.engine.connect() as conn:
        rows = conn.execute(select(t_heads.c.tree_size, t_heads.c.frontier)).all()
    return {int(r.tree_size): None if r.frontier is None else bytes(r.frontier) for r in rows}


def build(vault: Vault, clock: Any, events: Any, n: int) -> AuditLog:
    log = make_log(vault, clock)
    for start in range(0, n, 500):
        log.append_many(events.many(min(500, n - start)))
    return log


def alter_body(vault: Vault, seq: int) -> None:
    with vault.engine.begin() as conn:
        conn.execute(update(t_events).where(t_events.c.seq == seq).values(body=b"{}"))


def test_every_head_stores_its_frontier(vault: Vault, audit_clock, audit_events) -> None:
    log = build(vault, audit_clock, audit_events, 250)
    log.close()
    frontiers = stored_frontiers(vault)
    assert sorted(frontiers) == [100, 200, 250]
    for head in log.heads():
        data = frontiers[head.tree_size]
        assert data is not None
        frontier = MerkleFrontier.from_bytes(data)
        assert (frontier.size, frontier.root()) == (head.tree_size, head.root)


def test_reopen_replays_only_the_tail(vault: Vault, audit_clock, audit_events) -> None:
    build(vault, audit_clock, audit_events, 3_040)  # heads up to 3,000, 40 unsigned
    reopened = make_log(vault, audit_clock)
    assert reopened.append(audit_events.one()) == 3_040
    assert reopened.replayed_on_load == 40  # not 3,040: the bodies under head 3,000 stay unread
    # proof that they were not read: an altered old body does not stop a resumed writer...
    alter_body(vault, 7)
    later = make_log(vault, audit_clock)
    assert later.append_many(audit_events.many(5)) == list(range(3_041, 3_046))
    assert later.replayed_on_load == 41
    # ...but the writer's tree is the signed one, so verification still sees it everywhere
    report = verify_log(vault.engine, later.public_key_pem(), head_every=EVERY)
    assert not report.ok
    assert report.problems[0] == "seq 7: body is not a valid event"
    assert "head 3000: root does not match the stored events" in report.problems


def test_resumed_heads_match_a_full_rebuild(vault: Vault, audit_clock, audit_events) -> None:
    build(vault, audit_clock, audit_events, 420)
    resumed = make_log(vault, audit_clock)
    resumed.append_many(audit_events.many(30))
    head = resumed.sign_head()
    with vault.engine.connect() as conn:
        bodies = [bytes(b) for (b,) in conn.execute(select(t_events.c.body).order_by("seq"))]
    frontier = MerkleFrontier()
    frontier.extend(leaf_hash(b) for b in bodies)
    assert (head.tree_size, head.root) == (450, frontier.root())
    assert verify_log(vault.engine, resumed.public_key_pem(), head_every=EVERY).ok


def test_without_frontiers_the_log_is_rebuilt_and_checked(
    vault: Vault, audit_clock, audit_events
) -> None:
    """Heads signed before revision 0004 have none: full rebuild, still fail closed."""
    build(vault, audit_clock, audit_events, 230)
    with vault.engine.begin() as conn:
        conn.execute(update(t_heads).values(frontier=None))
    log = make_log(vault, audit_clock)
    log.append(audit_events.one())
    assert log.replayed_on_load == 230
    log.sign_head()
    assert stored_frontiers(vault)[231] is not None  # new heads carry one again
    assert make_log(vault, audit_clock).sign_head().tree_size == 231
    with vault.engine.begin() as conn:
        conn.execute(update(t_heads).values(frontier=None))
    alter_body(vault, 4)
    with pytest.raises(IntegrityError, match="do not match head 231"):
        make_log(vault, audit_clock).append(audit_events.one())


def _corrupt(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_corrupt, id="flipped-bit"),
        pytest.param(lambda d: d[:-32], id="truncated"),
        pytest.param(lambda d: b"not a frontier", id="garbage"),
        pytest.param(lambda d: MerkleFrontier().to_bytes(), id="empty-tree"),
    ],
)
def test_a_frontier_that_misses_its_root_is_refused(
    vault: Vault, audit_clock, audit_events, caplog: pytest.LogCaptureFixture, change: Any
) -> None:
    """Refused with a warning; the writer then rebuilds from every event (and checks them)."""
    build(vault, audit_clock, audit_events, 340)
    frontiers = stored_frontiers(vault)
    with vault.engine.begin() as conn:
        conn.execute(
            update(t_heads)
            .where(t_heads.c.tree_size == 300)
            .values(frontier=change(frontiers[300]))
        )
    with caplog.at_level(logging.WARNING, logger="etanche.audit"):
        log = make_log(vault, audit_clock)
        assert log.append(audit_events.one()) == 340
    assert log.replayed_on_load == 340  # full rebuild
    assert "frontier stored with head 300 does not match" in caplog.text
    assert verify_log(vault.engine, log.public_key_pem(), head_every=EVERY).ok
    # the same refused frontier with an altered event: the rebuild fails closed
    alter_body(vault, 12)
    with pytest.raises(IntegrityError, match="do not match head"):
        make_log(vault, audit_clock).append(audit_events.one())


def test_a_forged_head_with_a_consistent_frontier_is_refused(
    vault: Vault, audit_clock, audit_events, caplog: pytest.LogCaptureFixture
) -> None:
    """Someone who can write the database makes a head and frontier of a tree of their own.

    The frontier hashes to the forged root, but the signature is not the log's key:
    refused, full rebuild, which then fails closed on the forged head.
    """
    build(vault, audit_clock, audit_events, 150)
    fake = MerkleFrontier()
    fake.extend(leaf_hash(b"forged %d" % i) for i in range(150))
    forged = SignedTreeHead.sign(Signer.from_seed(bytes(32)), 150, fake.root(), audit_clock())
    with vault.engine.begin() as conn:
        conn.execute(
            t_heads.insert().values(
                tree_size=150,
                root=forged.root,
                signed_at=forged.signed_at,
                key_id=forged.key_id,
                signature=forged.signature,
                frontier=fake.to_bytes(),
            )
        )
    with (
        caplog.at_level(logging.WARNING, logger="etanche.audit"),
        pytest.raises(IntegrityError, match="do not match head 150"),
    ):
        make_log(vault, audit_clock).append(audit_events.one())
    assert "frontier stored with head 150 does not match" in caplog.text


def test_a_head_beyond_the_stored_events_is_refused(
    vault: Vault, audit_clock, audit_events
) -> None:
    build(vault, audit_clock, audit_events, 210)
    with vault.engine.begin() as conn:
        conn.execute(t_events.delete().where(t_events.c.seq >= 150))
    with pytest.raises(IntegrityError, match="head 200 covers more events than stored"):
        make_log(vault, audit_clock).append(audit_events.one())


# -- schema ------------------------------------------------------------------------


def test_fresh_vault_schema_equals_the_rooms_tables(vault: Vault) -> None:
    """The frozen revisions plus 0004 to 0006 build exactly what the rooms declare."""
    declared = MetaData()
    for metadata in (
        vault_metadata,
        audit_metadata,
        access_metadata,
        documents_table.metadata,
        throttle_table.metadata,
    ):
        for table in metadata.tables.values():
            table.to_metadata(declared)
    with vault.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, declared) == []
        columns = {c["name"] for c in inspect(conn).get_columns("audit_heads")}
    assert "frontier" in columns


def test_revisions_before_0004_are_frozen(vault: Vault) -> None:
    """0002 and 0003 no longer read the rooms' live tables: 0003 has no frontier column."""
    engine = make_engine(vault.location)
    try:
        with engine.begin() as conn:
            for table in (
                *reversed(access_metadata.sorted_tables),
                *reversed(audit_metadata.sorted_tables),
                *reversed(vault_metadata.sorted_tables),
            ):
                table.drop(conn)
            conn.exec_driver_sql("DROP TABLE alembic_version")
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "0003")
        with engine.connect() as conn:
            found = inspect(conn)
            heads = {c["name"] for c in found.get_columns("audit_heads")}
            users = {c["name"] for c in found.get_columns("users")}
        assert "frontier" not in heads and "totp_last_step" in users
    finally:
        engine.dispose()


def test_0004_upgrades_a_log_written_before_it(vault: Vault, audit_clock, audit_events) -> None:
    """Down to 0003 (the column goes, rows stay), up to 0004: NULL frontiers, full rebuild."""
    build(vault, audit_clock, audit_events, 260)
    before = make_log(vault, audit_clock).heads()
    with vault.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0003")
    with vault.engine.connect() as conn:
        assert "frontier" not in {c["name"] for c in inspect(conn).get_columns("audit_heads")}
    with vault.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    assert set(stored_frontiers(vault).values()) == {None}
    log = make_log(vault, audit_clock)
    # the checkpoint signatures of revision 0010 went down with it
    assert log.heads() == [replace(h, checkpoint_sig=None) for h in before]
    log.append_many(audit_events.many(45))
    assert log.replayed_on_load == 260
    log.close()
    resumed = make_log(vault, audit_clock)
    resumed.sign_head()
    assert resumed.replayed_on_load == 0  # from head 305, signed with its frontier
    assert verify_log(vault.engine, log.public_key_pem(), head_every=EVERY).ok
