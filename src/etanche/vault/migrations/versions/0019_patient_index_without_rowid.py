"""Blind-index rows without a rowid on SQLite: two B-trees per row instead of three.

Revision ID: 0019
Revises: 0018

``patient_index`` is only ever reached through its primary key (name, digest,
patient id) or its patient index; on SQLite a rowid table also keeps a third tree
(the rowid one) that nothing reads. A ``WITHOUT ROWID`` table stores the rows in
the primary-key tree itself: a bulk load writes a third less into this table and
the file is smaller. Same columns, same rows, same digests; PostgreSQL has no
rowid and is left as it is.
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def _rebuild(without_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    suffix = " WITHOUT ROWID" if without_rowid else ""
    op.execute(
        "CREATE TABLE patient_index_rebuilt ("
        "name VARCHAR(16) NOT NULL, digest BLOB NOT NULL, "
        "patient_id VARCHAR(32) NOT NULL REFERENCES patients (id), "
        f"PRIMARY KEY (name, digest, patient_id)){suffix}"
    )
    op.execute(
        "INSERT INTO patient_index_rebuilt (name, digest, patient_id) "
        "SELECT name, digest, patient_id FROM patient_index"
    )
    op.execute("DROP TABLE patient_index")  # and its patient index
    op.execute("ALTER TABLE patient_index_rebuilt RENAME TO patient_index")
    op.execute("CREATE INDEX ix_patient_index_patient ON patient_index (patient_id)")


def upgrade() -> None:
    _rebuild(without_rowid=True)


def downgrade() -> None:
    _rebuild(without_rowid=False)
