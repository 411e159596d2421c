"""The audit_objects index keyed by block of events first, so appends write few pages.

Revision ID: 0018
Revises: 0017

``audit_objects`` becomes ``(seq_block, object_id, seq)`` with ``seq_block = seq >> 12``,
a ``WITHOUT ROWID`` table on SQLite (the key is the table). Keyed by the random
object id alone, each commit of the log wrote its rows at random places of the
whole index; keyed by block first, it writes into the pages of the current block.
Existing rows are copied with their block; the events, heads and their signatures
are untouched (the index is not part of the Merkle tree), so an existing log
verifies as before. Nothing here is personal: pseudonymous ids and sequence numbers.
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# seq >> 12: a frozen copy of etanche.audit._schema.SEQ_BLOCK_BITS


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute(
        "CREATE TABLE audit_objects_0018 ("
        "seq_block BIGINT NOT NULL, object_id VARCHAR(64) NOT NULL, seq BIGINT NOT NULL, "
        "PRIMARY KEY (seq_block, object_id, seq))" + (" WITHOUT ROWID" if sqlite else "")
    )
    op.execute(
        "INSERT INTO audit_objects_0018 (seq_block, object_id, seq) "
        "SELECT seq >> 12, object_id, seq FROM audit_objects ORDER BY seq, object_id"
    )
    op.execute("DROP TABLE audit_objects")
    op.execute("ALTER TABLE audit_objects_0018 RENAME TO audit_objects")
    if not sqlite:  # the primary key's name, as a fresh PostgreSQL vault has it
        op.execute(
            "ALTER TABLE audit_objects RENAME CONSTRAINT audit_objects_0018_pkey "
            "TO audit_objects_pkey"
        )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute(
        "CREATE TABLE audit_objects_0017 ("
        "object_id VARCHAR(64) NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (object_id, seq))"
    )
    op.execute(
        "INSERT INTO audit_objects_0017 (object_id, seq) SELECT object_id, seq FROM audit_objects"
    )
    op.execute("DROP TABLE audit_objects")
    op.execute("ALTER TABLE audit_objects_0017 RENAME TO audit_objects")
    if not sqlite:
        op.execute(
            "ALTER TABLE audit_objects RENAME CONSTRAINT audit_objects_0017_pkey "
            "TO audit_objects_pkey"
        )
