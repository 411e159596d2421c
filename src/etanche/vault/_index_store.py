"""Where each blind index's digests are kept, and the statements that read them.

The two exact-lookup indexes hold one digest a patient (the NIR; the INS-trait
triple): they are columns of ``patients`` (revision 0020), so a lookup probes
one table and a load writes two index rows fewer per patient. Phones, emails
and the front-desk buckets may hold several values a patient: rows of
``patient_index``. Same keys, same digests, same truncation either way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Select, bindparam, literal, select

from etanche.vault._indexes import NAME_DOB, NIR
from etanche.vault._schema import patient_index, patients

ON_ROW: dict[str, Column[Any]] = {NIR: patients.c.nir_digest, NAME_DOB: patients.c.name_dob_digest}
CLEARED = {column.name: None for column in ON_ROW.values()}  # a shredded row's digests


def split(
    patient_id: str, entries: Sequence[tuple[str, bytes]]
) -> tuple[dict[str, bytes | None], list[dict[str, Any]]]:
    """A patient's (index, digest) entries as ``patients`` column values and index rows."""
    columns: dict[str, bytes | None] = dict(CLEARED)
    rows: list[dict[str, Any]] = []
    for name, digest in entries:
        column = ON_ROW.get(name)
        if column is not None:
            columns[column.name] = digest
        else:
            rows.append({"name": name, "digest": digest, "patient_id": patient_id})
    return columns, rows


def find_statement(index: str) -> Select[Any]:
    """Patient rows under one digest (bind ``index`` and ``digest``), built once."""
    return _FIND.get(index, _FIND_BY_ROW)


def live_digests(index: str, digests: Sequence[bytes]) -> Select[Any]:
    """(digest, patient_id, lab_id) of live patients under any of ``digests``."""
    column = ON_ROW.get(index)
    if column is not None:
        return select(
            column.label("digest"), patients.c.id.label("patient_id"), patients.c.lab_id
        ).where(column.in_(list(digests)), patients.c.erased_at.is_(None))
    return (
        select(patient_index.c.digest, patient_index.c.patient_id, patients.c.lab_id)
        .join(patients, patients.c.id == patient_index.c.patient_id)
        .where(
            patient_index.c.name == index,
            patient_index.c.digest.in_(list(digests)),
            patients.c.erased_at.is_(None),
        )
    )


def entries_of(
    conn: Connection,
    names: Sequence[str] | None = None,
    patient_ids: Sequence[str] | None = None,
) -> Iterator[tuple[str, str, bytes]]:
    """(patient id, index name, digest) stored for live patients: those indexes
    (or all), those patients (or all)."""
    query = (
        select(patient_index.c.patient_id, patient_index.c.name, patient_index.c.digest)
        .join(patients, patients.c.id == patient_index.c.patient_id)
        .where(patients.c.erased_at.is_(None))
    )
    if names is not None:
        query = query.where(patient_index.c.name.in_([n for n in names if n not in ON_ROW]))
    if names is None or any(name not in ON_ROW for name in names):
        if patient_ids is not None:
            query = query.where(patient_index.c.patient_id.in_(list(patient_ids)))
        for pid, name, digest in conn.execute(query):
            yield pid, name, bytes(digest)
    for name, column in ON_ROW.items():
        if names is not None and name not in names:
            continue
        query = select(patients.c.id, literal(name), column).where(
            column.is_not(None), patients.c.erased_at.is_(None)
        )
        if patient_ids is not None:
            query = query.where(patients.c.id.in_(list(patient_ids)))
        for pid, _, digest in conn.execute(query):
            yield pid, name, bytes(digest)


# Built once: statement construction would otherwise cost as much as the lookup.
_FIND = {
    name: select(patients).where(column == bindparam("digest")) for name, column in ON_ROW.items()
}
_FIND_BY_ROW = (
    select(patients)
    .join(patient_index, patient_index.c.patient_id == patients.c.id)
    .where(
        patient_index.c.name == bindparam("index"), patient_index.c.digest == bindparam("digest")
    )
)
