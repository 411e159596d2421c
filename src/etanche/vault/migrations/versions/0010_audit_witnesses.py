"""Witnessed checkpoints: the log's C2SP checkpoint signature and witnesses' cosignatures.

Revision ID: 0010
Revises: 0009

``audit_heads.checkpoint_sig`` is the log's Ed25519 signed-note signature of the
head as a C2SP checkpoint (heads signed before this revision keep NULL);
``audit_cosignatures`` keeps each witness's cosignature/v1 of a head, as the
witness returned it (name, key ID, time, timestamp || signature). Nothing here
is personal: sizes, hashes and witnesses' names.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_heads", sa.Column("checkpoint_sig", sa.LargeBinary, nullable=True))
    op.create_table(
        "audit_cosignatures",
        sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("witness", sa.String(255), primary_key=True),
        sa.Column("key_hash", sa.LargeBinary, nullable=False),
        sa.Column("cosigned_at", sa.BigInteger, nullable=False),
        sa.Column("signature", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_cosignatures")
    with op.batch_alter_table("audit_heads") as batch:  # SQLite rebuilds the table
        batch.drop_column("checkpoint_sig")
