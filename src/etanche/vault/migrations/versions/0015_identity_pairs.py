"""The identity-vigilance queue: candidate duplicate pairs from linkage.

Revision ID: 0015
Revises: 0011

Pseudonymous record ids, their labs, the model's weight and probability and the
comparison level codes that drove it: no personal value (docs/clear-columns.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_pairs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("left_id", sa.String(32), nullable=False),
        sa.Column("right_id", sa.String(32), nullable=False),
        sa.Column("left_lab", sa.String(16), nullable=False),
        sa.Column("right_lab", sa.String(16), nullable=False),
        sa.Column("match_weight", sa.Float, nullable=False),
        sa.Column("match_probability", sa.Float, nullable=False),
        sa.Column("levels", sa.Text, nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_identity_pairs_weight", "identity_pairs", ["match_weight"])


def downgrade() -> None:
    op.drop_index("ix_identity_pairs_weight", table_name="identity_pairs")
    op.drop_table("identity_pairs")
