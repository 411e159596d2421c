"""Identity merges: an absorbed record points at the record that survives it.

Revision ID: 0014
Revises: 0011

A merge never rewrites a ciphertext: the absorbed record stays whole, under its
own keys, and only this pointer (a random id, not personal) marks it as merged,
so an unmerge restores both records exactly. The merge itself (who asked, who
approved, when) is a sealed document of kind ``identity_merge``; the service
checks the pointer against it (docs/identity.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("merged_into", sa.String(32), nullable=True))
    op.create_index("ix_patients_merged_into", "patients", ["merged_into"])


def downgrade() -> None:
    op.drop_index("ix_patients_merged_into", table_name="patients")
    # Plain ALTER TABLE (SQLite 3.35+, PostgreSQL): a batch copy of ``patients`` would
    # have to drop the table others point at, which SQLite's foreign keys refuse.
    op.execute("ALTER TABLE patients DROP COLUMN merged_into")
