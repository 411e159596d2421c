"""Merkle frontier stored with each signed head (audit_heads.frontier).

Revision ID: 0004
Revises: 0003

A writer reopening the log starts from the latest head's frontier (size and the
O(log n) subtree roots) instead of rehashing every stored event. Heads signed
before this revision keep NULL: a log without any frontier is rebuilt in full.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_heads", sa.Column("frontier", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_heads") as batch:  # SQLite rebuilds the table
        batch.drop_column("frontier")
