"""Retention purge: each patient's retention clock in clear, and the DPO's legal holds.

Revision ID: 0013
Revises: 0011

``patients.last_visit_on`` is the day the ``patient_admin`` retention clock
starts (the last visit, sealed in ``admin`` too): the purge selects expired
patients by an index instead of decrypting every record. NULL for rows written
before this revision: the purge fills them once by decrypting in the service.
``retention_holds`` lists patients under a legal hold (never purged); the reason
is sealed by the vault's system key, bound to the patient id, so a hold written
straight into the table by someone without the key is told apart
(docs/clear-columns.md, docs/retention.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("last_visit_on", sa.Date, nullable=True))
    op.create_index("ix_patients_last_visit", "patients", ["last_visit_on"])
    op.create_table(
        "retention_holds",
        sa.Column("patient_id", sa.String(32), sa.ForeignKey("patients.id"), primary_key=True),
        sa.Column("reason", sa.LargeBinary, nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("retention_holds")
    op.drop_index("ix_patients_last_visit", table_name="patients")
    op.execute("ALTER TABLE patients DROP COLUMN last_visit_on")
