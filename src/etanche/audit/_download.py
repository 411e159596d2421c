"""The audit log as stored, in pages: what an outside verifier downloads and checks.

The service sends its rows exactly as they are in the database (event bodies
byte for byte, the filter columns, the object rows, the signed heads); the
verifier recomputes everything with the pinned public key, so a service that
lies about its log is caught like a database edited by hand.

A download is a snapshot (the heads and the size of the log at one moment)
followed by pages of ``[start, stop)`` seqs. Each page carries the object rows
of its seq range, the last one every object row up to the snapshot's bound, so
rows without an event are seen too.
"""

from __future__ import annotations

import base64
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, text

from etanche.audit._heads import SignedTreeHead
from etanche.audit._log import read_heads_with_cosignatures
from etanche.audit._object_index import block_of
from etanche.audit._scan import EventRow
from etanche.audit._schema import audit_events, audit_objects
from etanche.audit._verify import ObjectRow
from etanche.errors import SourceError, UsageError

MAX_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class LogSnapshot:
    """The stored heads and the seq bound (max seq + 1, of events or object rows)."""

    size: int
    heads: tuple[SignedTreeHead, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "heads": [h.to_dict() for h in self.heads]}


def read_snapshot(engine: Engine) -> LogSnapshot:
    """Heads and bound read in one transaction, so pages below the bound are consistent."""
    with engine.begin() as conn:
        heads = tuple(read_heads_with_cosignatures(conn))
        top_event = conn.execute(select(func.max(audit_events.c.seq))).scalar()
        top_object = conn.execute(select(func.max(audit_objects.c.seq))).scalar()
    tops = [int(t) for t in (top_event, top_object) if t is not None]
    return LogSnapshot(max(tops) + 1 if tops else 0, heads)


def read_page(engine: Engine, start: int, stop: int, limit: int = MAX_PAGE) -> dict[str, Any]:
    """Events with ``start <= seq < stop`` (at most ``limit``), and their range's object rows.

    ``next`` is where the following page starts, or None after the last one.
    """
    if start < 0 or stop < start:
        raise UsageError("page: expected 0 <= start <= stop")
    if not 1 <= limit <= MAX_PAGE:
        raise UsageError(f"limit: expected 1 to {MAX_PAGE} events per page")
    # Plain SQL: the values come back as the driver stores them (the verifier
    # compares the ``at`` text itself, not a parsed copy of it).
    query = text(_PAGE_SQL).bindparams(start=start, stop=stop, limit=limit)
    with engine.begin() as conn:
        rows = conn.execute(query).all()
        full = len(rows) == limit
        end = int(rows[-1][0]) + 1 if full else stop
        objects = conn.execute(
            select(audit_objects.c.seq, audit_objects.c.object_id)
            .where(
                audit_objects.c.seq_block >= block_of(start),
                audit_objects.c.seq_block <= block_of(max(start, end - 1)),
                audit_objects.c.seq >= start,
                audit_objects.c.seq < end,
            )
            .order_by(audit_objects.c.seq, audit_objects.c.object_id)
        ).all()
    return {
        "start": start,
        "next": end if full and end < stop else None,
        "events": [_event_to_wire(row) for row in rows],
        "objects": [[int(seq), object_id] for seq, object_id in objects],
    }


_PAGE_SQL = (
    "SELECT seq, at, actor, role, action, outcome, body FROM audit_events "
    "WHERE seq >= :start AND seq < :stop ORDER BY seq LIMIT :limit"
)


def _event_to_wire(row: Any) -> list[Any]:
    seq, at, actor, role, action, outcome, body = row
    return [
        int(seq),
        at.isoformat() if isinstance(at, datetime) else str(at),
        actor,
        role,
        action,
        outcome,
        base64.b64encode(bytes(body)).decode("ascii"),
    ]


def heads_from_wire(snapshot: Mapping[str, Any]) -> list[SignedTreeHead]:
    """The signed heads of a downloaded snapshot (SourceError names a malformed one)."""
    docs = snapshot.get("heads")
    if not isinstance(docs, list):
        raise SourceError("audit log: heads: expected a list")
    return [SignedTreeHead.from_dict(doc, f"head #{i}") for i, doc in enumerate(docs)]


class DownloadedRows:
    """Events and object rows of downloaded pages, as two iterators that advance in step.

    The verifier reads object rows ahead of events; whichever iterator runs dry
    fetches the next page, so at most about two pages are held at once.
    """

    def __init__(self, pages: Iterable[Mapping[str, Any]]) -> None:
        self._pages = iter(pages)
        self._events: deque[EventRow] = deque()
        self._objects: deque[ObjectRow] = deque()

    def _fill(self) -> bool:
        page = next(self._pages, None)
        if page is None:
            return False
        events, objects = page.get("events"), page.get("objects")
        if not isinstance(events, list) or not isinstance(objects, list):
            raise SourceError("audit log page: expected lists of events and objects")
        self._events.extend(_event_from_wire(item) for item in events)
        self._objects.extend(_object_from_wire(item) for item in objects)
        return True

    def events(self) -> Iterator[EventRow]:
        while self._events or self._fill():
            if self._events:
                yield self._events.popleft()

    def objects(self) -> Iterator[ObjectRow]:
        while self._objects or self._fill():
            if self._objects:
                yield self._objects.popleft()


def _event_from_wire(item: Any) -> EventRow:
    try:
        seq, at, actor, role, action, outcome, body = item
        if not isinstance(seq, int) or not isinstance(at, str):
            raise TypeError
        return seq, at, str(actor), str(role), str(action), str(outcome), base64.b64decode(body)
    except (TypeError, ValueError):
        raise SourceError("audit log page: an event row is malformed") from None


def _object_from_wire(item: Any) -> ObjectRow:
    try:
        seq, object_id = item
        if not isinstance(seq, int) or not isinstance(object_id, str):
            raise TypeError
    except (TypeError, ValueError):
        raise SourceError("audit log page: an object row is malformed") from None
    return seq, object_id
