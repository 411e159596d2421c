"""The identity-vigilance queue: candidate duplicate pairs, ids and level codes only.

A row says that two pseudonymous records may be one person, with the model's
match weight and probability and which comparison levels drove it ("surname:
one_edit"), never a value: a copy of the table names no one
(docs/clear-columns.md). Each linkage run replaces the queue.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
)

from etanche.vault._index_store import entries_of
from etanche.vault._schema import metadata

__all__ = ["StoredPair", "index_digests", "pairs_table", "read_pairs", "replace_pairs"]

pairs_table = Table(
    "identity_pairs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False),
    Column("left_id", String(32), nullable=False),
    Column("right_id", String(32), nullable=False),
    Column("left_lab", String(16), nullable=False),
    Column("right_lab", String(16), nullable=False),
    Column("match_weight", Float, nullable=False),
    Column("match_probability", Float, nullable=False),
    Column("levels", Text, nullable=False),  # JSON {comparison: level code}
    Column("found_at", DateTime(timezone=True), nullable=False),
    Index("ix_identity_pairs_weight", "match_weight"),
)


@dataclass(frozen=True, slots=True)
class StoredPair:
    left_id: str
    right_id: str
    left_lab: str
    right_lab: str
    match_weight: float
    match_probability: float
    levels: dict[str, str]
    run_id: str
    found_at: datetime


def replace_pairs(engine: Engine, pairs: Iterable[StoredPair]) -> int:
    """The queue becomes ``pairs`` in one transaction (a run is all or nothing)."""
    rows = [
        {
            "run_id": p.run_id,
            "left_id": p.left_id,
            "right_id": p.right_id,
            "left_lab": p.left_lab,
            "right_lab": p.right_lab,
            "match_weight": p.match_weight,
            "match_probability": p.match_probability,
            "levels": json.dumps(p.levels, sort_keys=True),
            "found_at": p.found_at,
        }
        for p in pairs
    ]
    with engine.begin() as conn:
        conn.execute(delete(pairs_table))
        for start in range(0, len(rows), 5_000):
            conn.execute(insert(pairs_table), rows[start : start + 5_000])
    return len(rows)


def read_pairs(
    engine: Engine, *, labs: Sequence[str] | None = None, limit: int = 100, offset: int = 0
) -> tuple[int, list[StoredPair]]:
    """(total, one page) of the queue, strongest first; ``labs`` keeps pairs touching them."""
    where = []
    if labs is not None:
        where.append(pairs_table.c.left_lab.in_(labs) | pairs_table.c.right_lab.in_(labs))
    t = pairs_table
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(t).where(*where)).scalar_one())
        found = conn.execute(
            select(t)
            .where(*where)
            .order_by(t.c.match_weight.desc(), t.c.left_id, t.c.right_id)
            .limit(limit)
            .offset(offset)
        ).all()
    return total, [
        StoredPair(
            r.left_id,
            r.right_id,
            r.left_lab,
            r.right_lab,
            float(r.match_weight),
            float(r.match_probability),
            dict(json.loads(r.levels)),
            r.run_id,
            r.found_at if r.found_at.tzinfo else r.found_at.replace(tzinfo=UTC),
        )
        for r in found
    ]


def index_digests(engine: Engine, names: Sequence[str]) -> dict[str, dict[str, str]]:
    """patient id -> {index name: digest hex} for live patients, as the vault stores them."""
    out: dict[str, dict[str, str]] = {}
    with engine.connect() as conn:
        for pid, name, digest in entries_of(conn, names):
            out.setdefault(pid, {})[name] = digest.hex()
    return out
