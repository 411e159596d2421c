"""Backfill of the front-desk indexes (prefix + birth year, French phonetic + birth year).

Records written before those indexes existed have no rows in them, so a front-desk
search misses them. The gap is cheap to measure (two counts over the index's
primary key against the live patients); the backfill decrypts the missing records
in batches under their own keys, in id order, each batch in its own transaction:
a rerun (or a crash) starts again with what is still missing, and a second run
finds nothing to do. Only digests are written; no value leaves this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, and_, delete, exists, func, insert, or_, select

from etanche.errors import EtancheError
from etanche.vault import _indexes
from etanche.vault._schema import patient_index, patients

if TYPE_CHECKING:
    from etanche.domain import Patient

_FRONT_DESK = sorted(_indexes.FRONT_DESK)


@dataclass(frozen=True, slots=True)
class ReindexReport:
    """What a backfill did: records indexed, batches committed, records it could not read."""

    indexed: int
    batches: int
    unreadable: int

    def to_dict(self) -> dict[str, int]:
        return {"indexed": self.indexed, "batches": self.batches, "unreadable": self.unreadable}


def front_desk_gap(engine: Engine) -> int:
    """Live records missing at least one front-desk index row (an upper bound's floor:
    each live record has exactly one row per front-desk index once indexed)."""
    with engine.connect() as conn:
        live = conn.execute(
            select(func.count()).select_from(patients).where(patients.c.erased_at.is_(None))
        ).scalar_one()
        gaps = [
            conn.execute(
                select(func.count()).select_from(patient_index).where(patient_index.c.name == name)
            ).scalar_one()
            for name in _FRONT_DESK
        ]
    return max(0, int(live) - min(int(g) for g in gaps))


def _missing(name: str) -> Any:
    return ~exists().where(
        and_(patient_index.c.patient_id == patients.c.id, patient_index.c.name == name)
    )


def reindex_front_desk(
    engine: Engine,
    decrypt: Callable[[Any], Patient],
    rows_of: Callable[[Patient], list[dict[str, Any]]],
    *,
    batch_size: int = 500,
    max_batches: int | None = None,
) -> ReindexReport:
    """Write the missing front-desk rows, ``batch_size`` records per transaction."""
    after = ""
    indexed = batches = unreadable = 0
    while max_batches is None or batches < max_batches:
        with engine.begin() as conn:
            rows = conn.execute(
                select(patients)
                .where(
                    patients.c.erased_at.is_(None),
                    patients.c.id > after,
                    or_(*(_missing(name) for name in _FRONT_DESK)),
                )
                .order_by(patients.c.id)
                .limit(batch_size)
            ).all()
            if not rows:
                break
            after = rows[-1].id
            new: list[dict[str, Any]] = []
            ids: list[str] = []
            for row in rows:
                try:
                    patient = decrypt(row)
                except EtancheError:  # a shredded or damaged row: counted, skipped
                    unreadable += 1
                    continue
                ids.append(patient.id)
                new += [r for r in rows_of(patient) if r["name"] in _indexes.FRONT_DESK]
            if ids:
                conn.execute(
                    delete(patient_index).where(
                        patient_index.c.patient_id.in_(ids),
                        patient_index.c.name.in_(_FRONT_DESK),
                    )
                )
            if new:
                conn.execute(insert(patient_index), new)
        indexed += len(ids)
        batches += 1
    return ReindexReport(indexed, batches, unreadable)
