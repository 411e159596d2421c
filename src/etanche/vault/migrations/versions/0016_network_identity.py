"""Network identities: records of one person in several labs, bound without telling whom.

Revision ID: 0016
Revises: 0011

When a lab links a patient known elsewhere, its new record and the other lab's
record share one random network identity id. Each row is keyed by a keyed hash
of a record id (meaningless without the vault's system key) and holds the
identity id and the record id sealed under the system key: a copy of the
database shows how many records are linked, never which ones nor to whom
(docs/key-hierarchy.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_identities",
        sa.Column("handle", sa.String(64), primary_key=True),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("network_identities")
