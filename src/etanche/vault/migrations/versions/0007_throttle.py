"""Login throttling shared by every worker: hits per keyed client digest.

Revision ID: 0007
Revises: 0006

A per-process counter is reset by forking more workers; this table is seen by
all of them. ``key`` is a keyed hash of the client address, never the address
(docs/clear-columns.md); rows older than the window are deleted as hits come.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "throttle_hits",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_throttle_hits_key", "throttle_hits", ["scope", "key", "at"])
    op.create_index("ix_throttle_hits_at", "throttle_hits", ["at"])


def downgrade() -> None:
    op.drop_index("ix_throttle_hits_at", table_name="throttle_hits")
    op.drop_index("ix_throttle_hits_key", table_name="throttle_hits")
    op.drop_table("throttle_hits")
