"""Earlier versions of a patient's record (rectification history, GDPR art. 16).

Each update keeps what it replaced: the previous admin payload with the note of
the change (who, why, which request, which fields) sealed under the patient's
admin key, and the previous clinical payload with its changed fields under the
clinical key. The same patient keys as the record: erasing the patient shreds
its history too, and a receptionist's session never opens the clinical part.
Only the patient id, the sequence number, the time and the key version stay in
clear (docs/clear-columns.md).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)

from etanche.crypto import Context, open_sealed, seal
from etanche.domain import Patient
from etanche.vault._schema import metadata

__all__ = ["Change", "Version", "changed_fields", "versions_table"]

versions_table = Table(
    "patient_versions",
    metadata,
    Column("patient_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("key_version", Integer, nullable=False),
    Column("admin", LargeBinary, nullable=False),
    Column("clinical", LargeBinary, nullable=True),
)

_TABLE = "patient_versions"
_ADMIN = "admin"
_CLINICAL = "clinical"


@dataclass(frozen=True, slots=True)
class Change:
    """Why a record is changed: the person, the reason, the rights request it answers."""

    by: str
    reason: str | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Version:
    """One earlier version as the history lists it (no value, only field names)."""

    seq: int
    at: datetime
    by: str
    reason: str | None
    request_id: str | None
    fields: tuple[str, ...]


def changed_fields(before: Patient, after: Patient) -> tuple[list[str], list[str]]:
    """(admin fields, clinical fields) whose value differs, by name."""
    admin = [
        f.name
        for f in fields(Patient)
        if f.name != "clinical" and getattr(before, f.name) != getattr(after, f.name)
    ]
    clinical = [
        f"clinical.{f.name}"
        for f in fields(before.clinical)
        if getattr(before.clinical, f.name) != getattr(after.clinical, f.name)
    ]
    return admin, clinical


def _ctx(patient_id: str, seq: int, lab_id: str, compartment: str, key_version: int) -> Context:
    return Context(_TABLE, f"{patient_id}:{seq}", lab_id, compartment, key_version)


def _packed(payload: dict[str, Any], before: bytes) -> bytes:
    body = {**payload, "before": base64.b64encode(before).decode()}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def keep(
    conn: Connection,
    *,
    patient_id: str,
    lab_id: str,
    key_version: int,
    change: Change,
    admin: tuple[bytes, bytes, list[str]],
    clinical: tuple[bytes, bytes, list[str]] | None,
) -> int:
    """Store the replaced payloads: (key, previous plaintext, changed fields) per compartment."""
    table = versions_table
    last = conn.execute(
        select(func.max(table.c.seq)).where(table.c.patient_id == patient_id)
    ).scalar()
    seq = int(last or 0) + 1
    admin_key, admin_before, admin_fields = admin
    note = {"by": change.by, "reason": change.reason, "request": change.request_id}
    row: dict[str, Any] = {
        "patient_id": patient_id,
        "seq": seq,
        "at": datetime.now(UTC),
        "key_version": key_version,
        "admin": seal(
            admin_key,
            _packed({"note": note, "fields": admin_fields}, admin_before),
            _ctx(patient_id, seq, lab_id, _ADMIN, key_version),
        ),
        "clinical": None,
    }
    if clinical is not None:
        clinical_key, clinical_before, clinical_fields = clinical
        row["clinical"] = seal(
            clinical_key,
            _packed({"fields": clinical_fields}, clinical_before),
            _ctx(patient_id, seq, lab_id, _CLINICAL, key_version),
        )
    conn.execute(insert(table), [row])
    return seq


def listed(
    conn: Connection,
    *,
    patient_id: str,
    lab_id: str,
    admin_key: bytes,
    clinical_key: bytes | None,
) -> list[Version]:
    """The record's earlier versions, oldest first; clinical field names only with its key."""
    table = versions_table
    rows = conn.execute(
        select(table).where(table.c.patient_id == patient_id).order_by(table.c.seq)
    ).all()
    found = []
    for row in rows:
        admin = _open(admin_key, row, _ADMIN, lab_id)
        names = list(admin["fields"])
        if clinical_key is not None and row.clinical is not None:
            names += _open(clinical_key, row, _CLINICAL, lab_id)["fields"]
        note = admin["note"]
        at = row.at if row.at.tzinfo is not None else row.at.replace(tzinfo=UTC)
        found.append(
            Version(row.seq, at, note["by"], note["reason"], note["request"], tuple(names))
        )
    return found


def _open(key: bytes, row: Any, compartment: str, lab_id: str) -> dict[str, Any]:
    blob = row.admin if compartment == _ADMIN else row.clinical
    ctx = _ctx(row.patient_id, row.seq, lab_id, compartment, row.key_version)
    opened: dict[str, Any] = json.loads(open_sealed(key, bytes(blob), ctx))
    return opened


def reseal(
    conn: Connection,
    *,
    patient_id: str,
    lab_id: str,
    old: tuple[bytes, bytes | None, int],
    new: tuple[bytes, bytes | None, int],
) -> None:
    """Re-encrypt the history under fresh patient keys (lab key rotation)."""
    table = versions_table
    (old_admin, old_clinical, old_version), (new_admin, new_clinical, version) = old, new
    for row in _rows(conn, patient_id):
        values: dict[str, Any] = {"key_version": version}
        plain = open_sealed(
            old_admin, bytes(row.admin), _ctx(patient_id, row.seq, lab_id, _ADMIN, old_version)
        )
        values["admin"] = seal(new_admin, plain, _ctx(patient_id, row.seq, lab_id, _ADMIN, version))
        if row.clinical is not None and old_clinical is not None and new_clinical is not None:
            plain = open_sealed(
                old_clinical,
                bytes(row.clinical),
                _ctx(patient_id, row.seq, lab_id, _CLINICAL, old_version),
            )
            values["clinical"] = seal(
                new_clinical, plain, _ctx(patient_id, row.seq, lab_id, _CLINICAL, version)
            )
        conn.execute(
            update(table)
            .where((table.c.patient_id == patient_id) & (table.c.seq == row.seq))
            .values(**values)
        )


def _rows(conn: Connection, patient_id: str) -> Iterator[Any]:
    table = versions_table
    yield from conn.execute(select(table).where(table.c.patient_id == patient_id)).all()


def forget(conn: Connection, patient_ids: Sequence[str]) -> None:
    """Drop shredded patients' history (their keys are gone already)."""
    conn.execute(delete(versions_table).where(versions_table.c.patient_id.in_(patient_ids)))
