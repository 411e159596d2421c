"""Initial vault schema: keys, labs, encrypted patients, blind indexes, specimens.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vault_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )
    op.create_table(
        "data_keys",
        sa.Column("owner", sa.String(16), primary_key=True),
        sa.Column("purpose", sa.String(16), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("kek_id", sa.String(64), nullable=False),
        sa.Column("wrapped", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "labs",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("finess", sa.String(9), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("key_version", sa.Integer, nullable=False),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("lab_id", sa.String(16), sa.ForeignKey("labs.id"), nullable=False),
        sa.Column("key_version", sa.Integer, nullable=False),
        sa.Column("admin_key", sa.LargeBinary, nullable=True),
        sa.Column("clinical_key", sa.LargeBinary, nullable=True),
        sa.Column("admin", sa.LargeBinary, nullable=True),
        sa.Column("clinical", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_patients_lab_version", "patients", ["lab_id", "key_version"])
    op.create_table(
        "patient_index",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("digest", sa.LargeBinary, primary_key=True),
        sa.Column("patient_id", sa.String(32), sa.ForeignKey("patients.id"), primary_key=True),
    )
    op.create_index("ix_patient_index_patient", "patient_index", ["patient_id"])
    op.create_table(
        "specimens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("patient_id", sa.String(32), sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("lab_id", sa.String(16), sa.ForeignKey("labs.id"), nullable=False),
        sa.Column("collected_on", sa.Date, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_specimens_lab_date", "specimens", ["lab_id", "collected_on"])
    op.create_index("ix_specimens_patient", "specimens", ["patient_id"])


def downgrade() -> None:
    for table in ("specimens", "patient_index", "patients", "labs", "data_keys", "vault_meta"):
        op.drop_table(table)
