"""Privileged accounts wait for a second person: RPPS numbers and account requests.

Revision ID: 0009
Revises: 0008

Accounts that exist before this revision were made under the old rules; they
keep working (``approved_at`` is set to their creation time). From now on a
privileged account or role takes effect only once ``account_requests`` records
a second person's approval.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("rpps", sa.String(11), nullable=True))
    op.add_column("users", sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE users SET approved_at = created_at")
    op.create_table(
        "account_requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("labs", sa.Text, nullable=False),
        sa.Column("rpps", sa.String(11), nullable=True),
        sa.Column("requested_by", sa.String(32), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("decided_by", sa.String(32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("custodians", sa.Text, nullable=True),
    )
    op.create_index("ix_account_requests_user", "account_requests", ["user_id", "decision"])


def downgrade() -> None:
    op.drop_index("ix_account_requests_user", table_name="account_requests")
    op.drop_table("account_requests")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("approved_at")
        batch.drop_column("rpps")
