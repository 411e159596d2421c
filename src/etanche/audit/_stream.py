"""Every logged event of one action, oldest first, streamed (never all in memory).

The vault's revision check replays the ``vault.write`` events of the whole log;
``AuditLog.events`` pages for people, this streams for a verifier.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Engine, select

from etanche.audit._events import AuditEvent
from etanche.audit._schema import audit_events

_STREAM_ROWS = 2_000


def events_of(engine: Engine, action: str) -> Iterator[tuple[int, AuditEvent]]:
    """(seq, event) of every stored event of ``action``, by seq."""
    query = (
        select(audit_events.c.seq, audit_events.c.body)
        .where(audit_events.c.action == action)
        .order_by(audit_events.c.seq)
    )
    with engine.connect() as conn:
        for seq, body in conn.execute(query.execution_options(yield_per=_STREAM_ROWS)):
            yield int(seq), AuditEvent.from_canonical(bytes(body))
