"""Revisions of the compartments: rollback of a ciphertext becomes visible.

Revision ID: 0008
Revises: 0007

Each compartment gets the number of its last write, bound in the associated
data of new ciphertexts. Rows written before this revision keep revision 0 and
their old associated data, so they stay readable without any key here; the
service logs their current ciphertexts once (``revision_log`` = ``adopt``) the
first time it opens the vault, and from then on every write is logged.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_FLAG = "revision_log"


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.add_column(
            sa.Column("admin_revision", sa.Integer, nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("clinical_revision", sa.Integer, nullable=False, server_default="0")
        )
    meta = sa.table("vault_meta", sa.column("key", sa.String), sa.column("value", sa.String))
    op.execute(sa.delete(meta).where(meta.c.key == _FLAG))
    op.execute(sa.insert(meta).values(key=_FLAG, value="adopt"))


def downgrade() -> None:
    meta = sa.table("vault_meta", sa.column("key", sa.String), sa.column("value", sa.String))
    op.execute(sa.delete(meta).where(meta.c.key == _FLAG))
    # Plain ALTER TABLE (SQLite 3.35+, PostgreSQL): a batch copy of ``patients`` would
    # have to drop the table others point at, which SQLite's foreign keys refuse.
    op.execute("ALTER TABLE patients DROP COLUMN clinical_revision")
    op.execute("ALTER TABLE patients DROP COLUMN admin_revision")
