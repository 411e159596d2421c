"""Accounts' grammatical gender: role labels worded for the person (« Déléguée », « Délégué »).

Revision ID: 0017
Revises: 0011

"F", "M" or NULL (not given: the pages show both forms). Staff data in clear,
like the account's full name (docs/clear-columns.md); never patient data.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("gender", sa.String(1), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+, PostgreSQL): a batch copy of ``users`` would
    # have to drop a table that sessions, tokens and requests point at.
    op.execute("ALTER TABLE users DROP COLUMN gender")
