"""Labs' postal address: the sender of the letters to patients after a breach.

Revision ID: 0006
Revises: 0005

Nullable: a lab added before, or without an address, keeps its letters' sender
to its name and city. A lab's address is not personal data (docs/clear-columns.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("labs") as batch:
        batch.add_column(sa.Column("street", sa.String(200), nullable=True))
        batch.add_column(sa.Column("postcode", sa.String(10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("labs") as batch:
        batch.drop_column("postcode")
        batch.drop_column("street")
