"""Did a cut commit land? Asked before a write is retried after a lost connection.

Record ids are made by the client (``new_record_id``), so a retry can look its
own row up: present means the first attempt committed (on the primary that
died and, with synchronous replication, on the one that took over). The
patient's stored values are then handed to the write journal, as the lost
attempt would have done after its commit, so the rollback check finds every
stored value logged.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from etanche.vault._revisions import Write, writes_of
from etanche.vault._schema import patients, specimens


def patient_writes(conn: Connection, patient_id: str) -> list[Write] | None:
    """The stored writes of a patient row, or None when it is not there."""
    row = conn.execute(
        select(
            patients.c.admin_revision,
            patients.c.admin,
            patients.c.clinical_revision,
            patients.c.clinical,
        ).where(patients.c.id == patient_id)
    ).first()
    if row is None:
        return None
    values: list[tuple[str, int, bytes | None]] = [("admin", row.admin_revision, bytes(row.admin))]
    if row.clinical is not None:
        values.append(("clinical", row.clinical_revision, bytes(row.clinical)))
    return writes_of(patient_id, values)


def specimen_stored(conn: Connection, specimen_id: str) -> bool:
    found = conn.execute(select(specimens.c.id).where(specimens.c.id == specimen_id)).first()
    return found is not None
