"""Audit log (Merkle leaves, signed tree heads), alerts and decoys.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

from etanche.audit._schema import metadata

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TABLES = ("audit_events", "audit_objects", "audit_heads", "alerts", "decoys")


def upgrade() -> None:
    # Built from the room's table definitions; a later change to them needs its own
    # revision, and this file must then be given a frozen copy of today's tables.
    bind = op.get_bind()
    metadata.create_all(bind, tables=[metadata.tables[name] for name in _TABLES])


def downgrade() -> None:
    for name in reversed(_TABLES):
        op.drop_table(name)
