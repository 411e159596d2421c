"""Sealed documents: migration plans, packages, certificates, export ledger, incidents.

Revision ID: 0005
Revises: 0004

One table for the records of the bulk-output and breach rooms. The body is JSON
sealed with the vault's system key and bound to (kind, id); only what listing and
automatic expiry need stays in clear (docs/clear-columns.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_documents_expiry", "documents", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_documents_expiry", table_name="documents")
    op.drop_table("documents")
