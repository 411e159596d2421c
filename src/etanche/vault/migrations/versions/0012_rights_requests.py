"""Patients' rights: requests, restrictions of processing, earlier versions of records.

Revision ID: 0012
Revises: 0011

``rights_requests``: the DPO's requests (GDPR art. 12, 15-21); the body (contact,
identity check, reasons, timeline) is sealed with the system key. ``patient_restrictions``:
records under a restriction of processing (art. 18). ``patient_versions``: what each
update replaced (art. 16), sealed under the patient's own keys so an erasure shreds it.
The clear columns are listed in docs/clear-columns.md.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rights_requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("lab_id", sa.String(16), nullable=True),
        sa.Column("patient_id", sa.String(32), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_rights_requests_status_due", "rights_requests", ["status", "due_at"])
    op.create_table(
        "patient_restrictions",
        sa.Column("patient_id", sa.String(32), primary_key=True),
        sa.Column("request_id", sa.String(32), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "patient_versions",
        sa.Column("patient_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_version", sa.Integer, nullable=False),
        sa.Column("admin", sa.LargeBinary, nullable=False),
        sa.Column("clinical", sa.LargeBinary, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("patient_versions")
    op.drop_table("patient_restrictions")
    op.drop_index("ix_rights_requests_status_due", table_name="rights_requests")
    op.drop_table("rights_requests")
