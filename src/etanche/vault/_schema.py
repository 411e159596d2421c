"""Tables of the vault (SQLAlchemy Core).

Only what an index must filter or order on stays in clear; every personal value
is inside the ``admin`` / ``clinical`` ciphertexts. docs/clear-columns.md lists
each clear column with its reason. Alembic migrations create these tables
(``migrations/versions``); this module is what queries are written against.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
)

metadata = MetaData()

vault_meta = Table(
    "vault_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)

data_keys = Table(
    "data_keys",
    metadata,
    Column("owner", String(16), primary_key=True),  # lab id, or "*"
    Column("purpose", String(16), primary_key=True),  # compartment, or "index"
    Column("version", Integer, primary_key=True),
    Column("kek_id", String(64), nullable=False),
    Column("wrapped", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

labs = Table(
    "labs",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("finess", String(9), nullable=False),
    Column("city", String(100), nullable=False),
    Column("street", String(200), nullable=True),
    Column("postcode", String(10), nullable=True),
    Column("legal_name", String(200), nullable=True),
    Column("legal_address", String(300), nullable=True),
    Column("siren", String(9), nullable=True),
    Column("key_version", Integer, nullable=False),
)

patients = Table(
    "patients",
    metadata,
    Column("id", String(32), primary_key=True),  # UUIDv7 (time-ordered), pseudonymous
    Column("lab_id", String(16), ForeignKey("labs.id"), nullable=False),
    Column("key_version", Integer, nullable=False),
    Column("admin_key", LargeBinary, nullable=True),  # NULL once shredded
    Column("clinical_key", LargeBinary, nullable=True),
    Column("admin", LargeBinary, nullable=True),
    Column("clinical", LargeBinary, nullable=True),
    # Which write of each compartment this is (bound in its associated data, and
    # logged with the ciphertext's hash): 0 before revisions existed or never written.
    Column("admin_revision", Integer, nullable=False, server_default="0"),
    Column("clinical_revision", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=True),
    # Day the patient_admin retention clock starts (last visit, or creation): the
    # purge's index. The same date is sealed in ``admin``; NULL once shredded.
    Column("last_visit_on", Date, nullable=True),
    # the record this one was merged into (None: not merged); ciphertexts untouched
    Column("merged_into", String(32), nullable=True),
    # The two exact-lookup blind indexes (NIR; birth name + first name + birth
    # date), one value per patient: kept on the row so a lookup probes one table
    # and a load writes two index rows fewer (revision 0020). NULL: no NIR, or shredded.
    Column("nir_digest", LargeBinary, nullable=True),
    Column("name_dob_digest", LargeBinary, nullable=True),
    Index("ix_patients_lab_version", "lab_id", "key_version"),
    Index("ix_patients_last_visit", "last_visit_on"),
    Index("ix_patients_merged_into", "merged_into"),
    Index("ix_patients_nir_digest", "nir_digest"),
    Index("ix_patients_name_dob_digest", "name_dob_digest"),
)

patient_index = Table(
    "patient_index",
    metadata,
    Column("name", String(16), primary_key=True),
    Column("digest", LargeBinary, primary_key=True),
    Column("patient_id", String(32), ForeignKey("patients.id"), primary_key=True),
    Index("ix_patient_index_patient", "patient_id"),
    sqlite_with_rowid=False,  # rows live in the primary-key tree (revision 0019)
)

specimens = Table(
    "specimens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("patient_id", String(32), ForeignKey("patients.id"), nullable=False),
    Column("lab_id", String(16), ForeignKey("labs.id"), nullable=False),
    Column("collected_on", Date, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Index("ix_specimens_lab_date", "lab_id", "collected_on"),
    Index("ix_specimens_patient", "patient_id"),
)

# Patients under a legal hold: the purge keeps them. ``reason`` is sealed by the
# vault's system key, bound to the patient id (a hold typed into the table is told apart).
retention_holds = Table(
    "retention_holds",
    metadata,
    Column("patient_id", String(32), ForeignKey("patients.id"), primary_key=True),
    Column("reason", LargeBinary, nullable=False),
    Column("set_by", String(64), nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
)

# Records of one person in several labs share a random network identity id. The
# handle is a keyed hash of one record id; ``sealed`` holds (identity, record id)
# under the system key: linked, but not who to whom, without the keys.
network_identities = Table(
    "network_identities",
    metadata,
    Column("handle", String(64), primary_key=True),
    Column("sealed", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
