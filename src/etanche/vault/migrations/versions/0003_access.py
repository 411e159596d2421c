"""People, sessions and API tokens.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

from etanche.access._schema import metadata

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TABLES = ("users", "sessions", "api_tokens")


def upgrade() -> None:
    # Built from the room's table definitions; a later change to them needs its own
    # revision, and this file must then be given a frozen copy of today's tables.
    bind = op.get_bind()
    metadata.create_all(bind, tables=[metadata.tables[name] for name in _TABLES])


def downgrade() -> None:
    for name in reversed(_TABLES):
        op.drop_table(name)
