"""One pass over a run of events and their object rows: the per-row checks of ``verify``.

Shared by the one-process check (the whole log) and the segment workers (one
aligned range each). A problem names a seq, never a value. ``marks`` keeps the
frontier at the requested sizes (local to the run), so a caller can rebuild the
root of the whole log at every head.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Connection

from etanche.audit._heads import format_time
from etanche.audit._rows import raw_batches
from etanche.audit._schema import SEQ_BLOCK, SEQ_BLOCK_BITS
from etanche.crypto import MerkleFrontier

# (seq, at, actor, role, action, outcome, body): one audit_events row as stored.
EventRow = tuple[int, Any, str, str, str, str, bytes]
# (block, {seq: object ids}): the audit_objects rows of one block of SEQ_BLOCK events.
Block = tuple[int, dict[int, list[str]]]
Add = Callable[[str], None]
_EVENTS_SQL = "SELECT seq, at, actor, role, action, outcome, body FROM audit_events"
_OBJECTS_SQL = "SELECT seq_block, object_id, seq FROM audit_objects"
_NO_ROWS: dict[int, list[str]] = {}
_ZERO = timedelta(0)


class _Body(msgspec.Struct, gc=False):
    """The fields of an event body that its columns and object rows copy; others skipped."""

    at: str
    actor: Any
    role: Any
    action: Any
    outcome: Any
    objects: list[Any]


_decode_body = msgspec.json.Decoder(_Body).decode


@dataclass(slots=True)
class Scanned:
    """What a pass saw: event count, frontier marks at the asked sizes, the latest times."""

    count: int
    frontier: MerkleFrontier
    marks: dict[int, Any] = field(default_factory=dict)
    tail: deque[tuple[int, str]] = field(default_factory=deque)


def scan(
    events: Iterator[EventRow],
    blocks: Iterator[Block],
    sizes: set[int],
    add: Add,
    *,
    first: int = 0,
    keep: int = 1000,
    mark: Callable[[MerkleFrontier], Any] = MerkleFrontier.root,
) -> Scanned:
    """Check events (by seq, from ``first``) against their bodies and object rows.

    ``sizes`` are counts of events from ``first``; at each, ``mark(frontier)`` is
    kept. ``keep`` is how many of the latest (seq, time) pairs are returned.
    """
    frontier = MerkleFrontier()
    append = frontier.append_leaf
    decode = _decode_body
    marks: dict[int, Any] = {}
    tail: deque[tuple[int, str]] = deque(maxlen=keep)
    upcoming = next(blocks, None)
    block, current = -1, _NO_ROWS
    expected, size = first, 0
    for seq, at, actor, role, action, outcome, raw in events:
        if seq != expected:
            add(f"seq {expected}" + (f" to {seq - 1}" if seq - 1 > expected else "") + ": missing")
            expected = seq
        expected += 1
        body = bytes(raw)
        append(body)
        size += 1
        if size in sizes:
            marks[size] = mark(frontier)
        if seq >> SEQ_BLOCK_BITS != block:
            _orphans(current, add)
            block, current = seq >> SEQ_BLOCK_BITS, _NO_ROWS
            while upcoming is not None and upcoming[0] <= block:
                if upcoming[0] == block:
                    current = upcoming[1]
                else:
                    _orphans(upcoming[1], add)
                upcoming = next(blocks, None)
        mine = current.pop(seq, None) if current else None
        try:  # a JSON object with these fields, ``at`` a string and ``objects`` a list
            doc = decode(body)
        except msgspec.DecodeError:
            add(f"seq {seq}: body is not a valid event")
            continue
        columns = (doc.actor, doc.role, doc.action, doc.outcome)
        body_at, body_objects = doc.at, doc.objects
        if columns != (actor, role, action, outcome) or not _same_time(at, body_at):
            _columns_differ(seq, (at, actor, role, action, outcome), body_at, columns, add)
        if mine != body_objects and not _same_set(mine or [], body_objects):
            add(f"seq {seq}: audit_objects rows differ from the body")
        tail.append((seq, body_at))
    _orphans(current, add)
    while upcoming is not None:
        _orphans(upcoming[1], add)
        upcoming = next(blocks, None)
    return Scanned(frontier.size, frontier, marks, tail)


def _columns_differ(
    seq: int, stored: tuple[Any, ...], body_at: str, columns: tuple[Any, ...], add: Add
) -> None:
    names = [
        n
        for n, a, b in zip(("actor", "role", "action", "outcome"), stored[1:], columns, strict=True)
        if a != b
    ]
    if not _same_time(stored[0], body_at):
        names.insert(0, "at")
    add(f"seq {seq}: column {', '.join(names)} differs from the body")


def _orphans(rows: dict[int, list[str]], add: Add) -> None:
    """Object rows of a block that no event took: rows without an event."""
    for seq in sorted(rows):
        add(f"seq {seq}: audit_objects row without an event")


def range_queries(lo: int | None, hi: int | None) -> tuple[str, str, dict[str, int]]:
    """SQL for the events with ``lo <= seq < hi`` and the object rows of their blocks.

    ``None`` leaves a side open (the first range takes any negative seq, the last
    any seq past the end), so ranges that meet cover every stored row. Both
    queries walk their primary key in order: a range scan, no sort. ``lo`` and
    ``hi`` are multiples of SEQ_BLOCK. No parameter name starts another (psycopg's
    ``%(name)s`` is made by replacing ``:name``).
    """
    where: list[tuple[str, str]] = []
    params: dict[str, int] = {}
    if lo is not None:
        where.append(("seq >= :first_seq", "seq_block >= :first_block"))
        params |= {"first_seq": lo, "first_block": lo >> SEQ_BLOCK_BITS}
    if hi is not None:
        where.append(("seq < :end_seq", "seq_block < :end_block"))
        params |= {"end_seq": hi, "end_block": hi >> SEQ_BLOCK_BITS}
    events = " AND ".join(e for e, _ in where)
    objects = " AND ".join(o for _, o in where)
    return (
        f"{_EVENTS_SQL}{' WHERE ' + events if where else ''} ORDER BY seq",
        f"{_OBJECTS_SQL}{' WHERE ' + objects if where else ''} ORDER BY seq_block, object_id, seq",
        params,
    )


def stored_blocks(
    conn: Connection, sql: str, add: Add, params: Mapping[str, Any] | None = None
) -> Iterator[Block]:
    """The audit_objects index block by block, in its key order (no sort).

    A row filed under another block than its seq's is a problem: lookups by
    object id would still find it, but no honest writer puts it there.
    """
    block: Any = None
    group: dict[int, list[str]] = {}
    low = high = 0  # the seqs of ``block``
    for rows in raw_batches(conn, sql, params):
        for seq_block, object_id, seq in rows:
            if seq_block != block:
                if group:
                    yield block, group
                block, group = seq_block, {}
                low = int(seq_block) << SEQ_BLOCK_BITS
                high = low + SEQ_BLOCK
            if not low <= seq < high:
                add(f"seq {seq}: audit_objects row filed under block {seq_block}")
                continue
            ids = group.get(seq)
            if ids is None:
                group[seq] = [object_id]
            else:
                ids.append(object_id)
    if group:
        yield block, group


def _same_set(rows: list[str], body: list[Any]) -> bool:
    try:
        return set(rows) == set(body)
    except TypeError:  # unhashable items: not a list of ids
        return False


def _same_time(column: Any, body_at: str) -> bool:
    """The ``at`` column (SQLite text in UTC, or a PostgreSQL timestamptz) equals the body's."""
    if isinstance(column, str):
        if column == f"{body_at[:10]} {body_at[11:-1]}":
            return True
        try:
            column = datetime.fromisoformat(column)
        except ValueError:
            return False
    if isinstance(column, datetime):
        # a UTC timestamptz: its ISO text is format_time's up to the "Z", but costs less
        if (
            column.utcoffset() == _ZERO
            and len(body_at) == 27
            and body_at[26] == "Z"
            and column.isoformat(timespec="microseconds")[:26] == body_at[:26]
        ):
            return True
        return format_time(column) == body_at
    return False
