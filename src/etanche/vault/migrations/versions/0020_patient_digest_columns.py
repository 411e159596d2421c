"""The NIR and INS-trait blind indexes as columns of ``patients``.

Revision ID: 0020
Revises: 0019

Each patient has at most one NIR digest and one (birth name, first name, birth
date) digest: they move from ``patient_index`` rows to two indexed columns of
the patient row, so an exact lookup probes one table and a load writes two
index rows fewer per patient. The digests are copied, never recomputed: same
keys, same truncation. The downgrade copies them back into ``patient_index``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_MOVED = (("nir", "nir_digest"), ("name_dob", "name_dob_digest"))


def upgrade() -> None:
    for name, column in _MOVED:
        op.add_column("patients", sa.Column(column, sa.LargeBinary(), nullable=True))
        op.execute(
            f"UPDATE patients SET {column} = (SELECT i.digest FROM patient_index i "  # noqa: S608
            f"WHERE i.name = '{name}' AND i.patient_id = patients.id LIMIT 1)"
        )
        op.execute(f"DELETE FROM patient_index WHERE name = '{name}'")  # noqa: S608
        op.create_index(f"ix_patients_{column}", "patients", [column])


def downgrade() -> None:
    for name, column in _MOVED:
        op.execute(
            "INSERT INTO patient_index (name, digest, patient_id) "  # noqa: S608
            f"SELECT '{name}', {column}, id FROM patients WHERE {column} IS NOT NULL"
        )
        op.drop_index(f"ix_patients_{column}", table_name="patients")
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE patients DROP COLUMN {column}")
        else:
            op.drop_column("patients", column)
