"""The merge pointer of patient records: which record absorbed which.

A merge changes one clear column of the absorbed row and nothing else, so its
ciphertexts, revisions and specimens stay byte for byte what they were, and an
unmerge is the pointer set back to NULL. Each move is one conditional statement:
two officers racing on the same record cannot both win.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select, update

from etanche.errors import RecordNotFound, VaultError
from etanche.vault._schema import patients

if TYPE_CHECKING:
    from etanche.vault._store import Vault

__all__ = ["Merges"]


_INVOLVEMENT = (  # on every sheet: built once
    select(patients.c.id, patients.c.merged_into)
    .where(
        (patients.c.id == bindparam("patient_id"))
        | (patients.c.merged_into == bindparam("patient_id"))
    )
    .where(patients.c.erased_at.is_(None))
    .order_by(patients.c.id)
)


class Merges:
    """Merge pointers over an open vault (clear columns: no key needed)."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def merged_into(self, patient_id: str) -> str | None:
        """The survivor this live record was merged into, or None."""
        with self._vault.engine.connect() as conn:
            row = conn.execute(
                select(patients.c.merged_into, patients.c.erased_at).where(
                    patients.c.id == patient_id
                )
            ).first()
        if row is None or row.erased_at is not None:
            raise RecordNotFound(f"patient {patient_id}: not found")
        return None if row.merged_into is None else str(row.merged_into)

    def involvement(self, patient_id: str) -> tuple[str | None, list[str]]:
        """In one query: the survivor this live record was merged into (or None), and
        the live records merged into it. Most records take part in no merge."""
        with self._vault.engine.connect() as conn:
            rows = conn.execute(_INVOLVEMENT, {"patient_id": patient_id}).all()
        own = [r for r in rows if r.id == patient_id]
        if not own:
            raise RecordNotFound(f"patient {patient_id}: not found")
        into = own[0].merged_into
        absorbed = [str(r.id) for r in rows if r.id != patient_id]
        return (None if into is None else str(into)), absorbed

    def absorbed_by(self, survivor_id: str) -> list[str]:
        """Live records merged into ``survivor_id``, in id order."""
        with self._vault.engine.connect() as conn:
            rows = conn.execute(
                select(patients.c.id)
                .where(patients.c.merged_into == survivor_id)
                .where(patients.c.erased_at.is_(None))
                .order_by(patients.c.id)
            ).all()
        return [str(r.id) for r in rows]

    def mark(self, absorbed_id: str, survivor_id: str) -> None:
        """Point ``absorbed_id`` at ``survivor_id``; refused if either is merged already."""
        if absorbed_id == survivor_id:
            raise VaultError(f"patient {absorbed_id}: cannot be merged into itself")
        with self._vault.engine.begin() as conn:
            survivor = conn.execute(
                select(patients.c.merged_into, patients.c.erased_at).where(
                    patients.c.id == survivor_id
                )
            ).first()
            if survivor is None or survivor.erased_at is not None:
                raise RecordNotFound(f"patient {survivor_id}: not found")
            if survivor.merged_into is not None:
                raise VaultError(f"patient {survivor_id}: already merged into another record")
            holds = select(patients.c.id).where(patients.c.merged_into == absorbed_id).limit(1)
            if conn.execute(holds).first() is not None:
                raise VaultError(f"patient {absorbed_id}: other records are merged into it")
            done = conn.execute(
                update(patients)
                .where(patients.c.id == absorbed_id)
                .where(patients.c.merged_into.is_(None))
                .where(patients.c.erased_at.is_(None))
                .values(merged_into=survivor_id)
            )
            if done.rowcount != 1:
                raise VaultError(f"patient {absorbed_id}: not found, erased or already merged")

    def unmark(self, absorbed_id: str, survivor_id: str) -> None:
        """Set the pointer back; refused unless it points at ``survivor_id``."""
        with self._vault.engine.begin() as conn:
            done = conn.execute(
                update(patients)
                .where(patients.c.id == absorbed_id)
                .where(patients.c.merged_into == survivor_id)
                .values(merged_into=None)
            )
        if done.rowcount != 1:
            raise VaultError(f"patient {absorbed_id}: not merged into {survivor_id}")

    def pointers(self) -> dict[str, str]:
        """Every merge pointer, erased records' included: absorbed id → survivor id
        (an erasure leaves the pointer on the tombstone, as the sealed merge says)."""
        with self._vault.engine.connect() as conn:
            rows = conn.execute(
                select(patients.c.id, patients.c.merged_into).where(
                    patients.c.merged_into.is_not(None)
                )
            ).all()
        return {str(r.id): str(r.merged_into) for r in rows}
