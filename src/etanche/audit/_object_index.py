"""The ``audit_objects`` index: which events name an object, keyed so that appends stay local.

Rows are ``(seq_block, object_id, seq)`` with ``seq_block = seq >> SEQ_BLOCK_BITS``:
a commit of 1,000 events writes its rows into the pages of one block instead of
about two random pages of one big index per event (the write cost of the log on
SQLite). A lookup by object id seeks once per block, from 0 to the block of the
latest event; the block count is bounded by the events, never by the rows, so a
row filed under a made-up block cannot make lookups loop. The index is not part
of the Merkle tree: ``verify`` checks every row against the event bodies.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, literal_column, select

from etanche.audit._schema import SEQ_BLOCK_BITS, audit_events, audit_objects

__all__ = ["block_of", "object_rows", "seqs_naming"]


def block_of(seq: int) -> int:
    return seq >> SEQ_BLOCK_BITS


def object_rows(seq: int, object_ids: Iterable[str]) -> list[tuple[int, str, int]]:
    """The index rows of event ``seq``: one per distinct object id."""
    block = seq >> SEQ_BLOCK_BITS
    return [(block, object_id, seq) for object_id in set(object_ids)]


def seqs_naming(match: ColumnElement[bool]) -> Select[Any]:
    """``SELECT seq`` of the index rows matching ``match`` (on object_id), block by block."""
    # A literal: PostgreSQL has bigint >> integer, not bigint >> bigint (a bound int).
    shift: ColumnElement[int] = literal_column(str(SEQ_BLOCK_BITS))
    top = select(func.max(audit_events.c.seq).op(">>")(shift)).scalar_subquery()
    blocks = select(literal(0).label("b")).cte("blocks", recursive=True)
    blocks = blocks.union_all(select(blocks.c.b + 1).where(blocks.c.b < top))
    return select(audit_objects.c.seq).where(
        audit_objects.c.seq_block.in_(select(blocks.c.b)), match
    )
