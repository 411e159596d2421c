"""Tables of the audit log and of supervision (alerts, decoys).

An event's ``body`` is the exact leaf of the Merkle tree (canonical JSON); the
other columns copy fields of the body for filtering and are checked against it
on verification. No personal value is ever stored here: object ids are the
vault's random ids.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # leaf index, from 0
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    Column("action", String(48), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("body", LargeBinary, nullable=False),  # canonical JSON: the Merkle leaf
    Index("ix_audit_events_actor_at", "actor", "at"),
    Index("ix_audit_events_action_at", "action", "at"),
    Index("ix_audit_events_at", "at"),
)

# Object ids are random, so a B-tree keyed by them alone takes each commit's rows
# at random places all over the index (about two dirty pages per event). Keyed by
# the event's block of SEQ_BLOCK events first, a commit writes into the few pages
# of the current block; a lookup by object id probes each block (one seek each).
SEQ_BLOCK_BITS = 12
SEQ_BLOCK = 1 << SEQ_BLOCK_BITS  # events per block of audit_objects

audit_objects = Table(
    "audit_objects",
    metadata,
    Column("seq_block", BigInteger, primary_key=True, autoincrement=False),  # seq >> 12
    Column("object_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,  # the key is the table: one B-tree, not a table and an index
)

audit_heads = Table(
    "audit_heads",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary, nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", LargeBinary, nullable=False),
    # MerkleFrontier.to_bytes() at tree_size: lets a writer resume without rehashing
    # the log. Not signed: trusted only when its root equals the signed root.
    Column("frontier", LargeBinary, nullable=True),
    # The log's Ed25519 signed-note signature of this head as a C2SP checkpoint
    # (revision 0010; NULL for heads signed before).
    Column("checkpoint_sig", LargeBinary, nullable=True),
)

# Witnesses' cosignature/v1 of a head, as returned (key ID, POSIX time, time || signature).
audit_cosignatures = Table(
    "audit_cosignatures",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("witness", String(255), primary_key=True),
    Column("key_hash", LargeBinary, nullable=False),
    Column("cosigned_at", BigInteger, nullable=False),
    Column("signature", LargeBinary, nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("rule", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=True),
    Column("summary", Text, nullable=False),  # never a personal value
    Column("event_seq", BigInteger, nullable=True),
    Column("dedup_key", String(200), nullable=False),
    Column("acknowledged_at", DateTime(timezone=True), nullable=True),
    Column("acknowledged_by", String(64), nullable=True),
    Column("ack_note", Text, nullable=True),
    Index("ix_alerts_dedup", "dedup_key"),
    Index("ix_alerts_open", "acknowledged_at", "created_at"),
)

decoys = Table(
    "decoys",
    metadata,
    Column("digest", LargeBinary, primary_key=True),  # keyed HMAC of the patient id
    Column("created_at", DateTime(timezone=True), nullable=False),
)
