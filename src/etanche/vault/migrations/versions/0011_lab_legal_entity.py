"""Labs' legal entity: the controller named in the art. 33 notification to the CNIL.

Revision ID: 0011
Revises: 0010

A lab site (FINESS) is run by a legal entity (a SELAS, SELARL...) that is the
controller of its patients' data; the notification names it with its SIREN and
registered office. Nullable: a lab added before keeps "À COMPLÉTER" in the draft.
Public company data, not personal (docs/clear-columns.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("labs") as batch:
        batch.add_column(sa.Column("legal_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("legal_address", sa.String(300), nullable=True))
        batch.add_column(sa.Column("siren", sa.String(9), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+, PostgreSQL): a batch copy of ``labs`` would
    # have to drop the table patients point at, which SQLite's foreign keys refuse.
    for column in ("siren", "legal_address", "legal_name"):
        op.execute(f"ALTER TABLE labs DROP COLUMN {column}")
