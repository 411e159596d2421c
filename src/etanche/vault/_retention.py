"""What the retention purge reads and writes in the store, without decrypting.

Expired patients and specimens are selected on clear day columns
(``patients.last_visit_on``, ``specimens.collected_on``); legal holds are rows
whose reason is sealed by the vault's system key, bound to the patient id, so a
hold typed into the table without the key is told apart. The service checks
the clear days against the sealed ones before it shreds (``Vault.sealed_dates``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from etanche.errors import CryptoError, IntegrityError, RecordNotFound, UsageError
from etanche.vault._schema import patients, retention_holds, specimens, vault_meta
from etanche.vault._store import Vault

__all__ = [
    "ExpiredPatient",
    "ExpiredSpecimen",
    "claim_purge",
    "delete_specimens",
    "expired_patients",
    "expired_specimens",
    "fill_clocks",
    "holds",
    "release_hold",
    "set_hold",
]

_HOLDS = "retention_holds"
_BATCH = 500
MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class ExpiredPatient:
    """A live patient whose clock (newest of last visit and specimens) started before the cutoff."""

    id: str
    lab_id: str
    last_visit_on: date
    started: date


@dataclass(frozen=True, slots=True)
class ExpiredSpecimen:
    id: str
    patient_id: str
    lab_id: str
    collected_on: date


def expired_patients(vault: Vault, cutoff: date) -> list[ExpiredPatient]:
    """Live patients whose last visit and every specimen are older than ``cutoff``."""
    newer = exists().where(
        specimens.c.patient_id == patients.c.id, specimens.c.collected_on >= cutoff
    )
    newest = (
        select(func.max(specimens.c.collected_on))
        .where(specimens.c.patient_id == patients.c.id)
        .scalar_subquery()
    )
    query = (
        select(patients.c.id, patients.c.lab_id, patients.c.last_visit_on, newest.label("newest"))
        .where(
            patients.c.erased_at.is_(None),
            patients.c.last_visit_on < cutoff,
            ~newer,
        )
        .order_by(patients.c.lab_id, patients.c.id)
    )
    with vault.engine.connect() as conn:
        return [
            ExpiredPatient(
                r.id, r.lab_id, r.last_visit_on, max(r.last_visit_on, r.newest or r.last_visit_on)
            )
            for r in conn.execute(query)
        ]


def expired_specimens(vault: Vault, cutoff: date) -> list[ExpiredSpecimen]:
    """Specimens of live patients collected before ``cutoff``, each on its own."""
    query = (
        select(specimens.c.id, specimens.c.patient_id, specimens.c.lab_id, specimens.c.collected_on)
        .join(patients, patients.c.id == specimens.c.patient_id)
        .where(patients.c.erased_at.is_(None), specimens.c.collected_on < cutoff)
        .order_by(specimens.c.lab_id, specimens.c.id)
    )
    with vault.engine.connect() as conn:
        return [
            ExpiredSpecimen(r.id, r.patient_id, r.lab_id, r.collected_on)
            for r in conn.execute(query)
        ]


def delete_specimens(vault: Vault, specimen_ids: Sequence[str]) -> int:
    """Delete specimen rows (their ciphertexts) by batch; returns how many went."""
    gone = 0
    for start in range(0, len(specimen_ids), _BATCH):
        chunk = list(specimen_ids[start : start + _BATCH])
        with vault.engine.begin() as conn:
            gone += conn.execute(delete(specimens).where(specimens.c.id.in_(chunk))).rowcount
    return gone


def fill_clocks(vault: Vault) -> int:
    """Set the retention day of rows written before it existed, decrypting in the service.

    Needs the admin compartment. The day is the sealed last visit, or the
    creation day of a record without one.
    """
    query = select(patients.c.id, patients.c.created_at).where(
        patients.c.erased_at.is_(None), patients.c.last_visit_on.is_(None)
    )
    with vault.engine.connect() as conn:
        rows = conn.execute(query).all()
    for start in range(0, len(rows), _BATCH):
        chunk = rows[start : start + _BATCH]
        created = {r.id: r.created_at.date() for r in chunk}
        found = vault.get_many(list(created))
        with vault.engine.begin() as conn:
            for patient in found:
                conn.execute(
                    update(patients)
                    .where(patients.c.id == patient.id)
                    .values(last_visit_on=patient.last_visit or created[patient.id])
                )
    return len(rows)


def set_hold(vault: Vault, patient_id: str, reason: str, by: str) -> None:
    """Put a live patient under a legal hold (replacing an earlier reason)."""
    reason = " ".join(reason.split())
    if not reason:
        raise UsageError("reason: a legal hold needs a reason")
    if len(reason) > MAX_REASON:
        raise UsageError(f"reason: longer than {MAX_REASON} characters")
    sealed = vault.seal_system(_HOLDS, patient_id, reason.encode("utf-8"))
    row = {"reason": sealed, "set_by": by[:64], "set_at": datetime.now(UTC)}
    with vault.engine.begin() as conn:
        live = conn.execute(select(patients.c.erased_at).where(patients.c.id == patient_id)).first()
        if live is None or live.erased_at is not None:
            raise RecordNotFound(f"patient {patient_id}: not found")
        changed = conn.execute(
            update(retention_holds).where(retention_holds.c.patient_id == patient_id).values(**row)
        ).rowcount
        if not changed:
            conn.execute(insert(retention_holds), [{"patient_id": patient_id, **row}])


def release_hold(vault: Vault, patient_id: str) -> None:
    """Lift a legal hold; RecordNotFound if the patient had none."""
    with vault.engine.begin() as conn:
        gone = conn.execute(
            delete(retention_holds).where(retention_holds.c.patient_id == patient_id)
        ).rowcount
    if not gone:
        raise RecordNotFound(f"patient {patient_id}: no legal hold")


def holds(vault: Vault) -> tuple[frozenset[str], frozenset[str]]:
    """(every held patient id, those whose sealed reason does not open).

    A hold that does not open was not written by the service: it is still
    honoured (keeping is the safe side) and reported.
    """
    with vault.engine.connect() as conn:
        rows = conn.execute(select(retention_holds.c.patient_id, retention_holds.c.reason)).all()
    forged: set[str] = set()
    for row in rows:
        try:
            vault.open_system(_HOLDS, row.patient_id, row.reason)
        except (CryptoError, IntegrityError):
            forged.add(row.patient_id)
    return frozenset(r.patient_id for r in rows), frozenset(forged)


_CLAIM = "purge_last"


def claim_purge(vault: Vault, interval_s: float, now: datetime | None = None) -> bool:
    """Whether this process runs the scheduled purge now: one worker per interval.

    Every worker ticks; the first to move ``vault_meta.purge_last`` past the
    interval (one conditional UPDATE, atomic in SQLite and PostgreSQL) runs it.
    """
    moment = now or datetime.now(UTC)
    stamp = moment.isoformat()
    due_before = (moment - timedelta(seconds=interval_s * 0.9)).isoformat()
    with vault.engine.begin() as conn:
        claimed = conn.execute(
            update(vault_meta)
            .where(vault_meta.c.key == _CLAIM, vault_meta.c.value < due_before)
            .values(value=stamp)
        ).rowcount
        if claimed:
            return True
        if conn.execute(select(vault_meta.c.key).where(vault_meta.c.key == _CLAIM)).first():
            return False
    try:
        with vault.engine.begin() as conn:
            conn.execute(insert(vault_meta), [{"key": _CLAIM, "value": stamp}])
    except SQLAlchemyError:  # another worker inserted it first
        return False
    return True
