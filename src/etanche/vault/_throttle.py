"""Attempts counted per keyed client digest, shared by every worker process.

A limit kept in one process's memory is reset by forking more workers (each
counts alone) or by restarting; kept in the vault, every worker of a service
sees every attempt. The key is a keyed hash of the client address (``Vault.
client_digest``), never the address: a copy of the table says nothing about
who tried.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
)

__all__ = ["SlidingWindow", "throttle_table"]

_metadata = MetaData()
throttle_table = Table(
    "throttle_hits",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scope", String(32), nullable=False),
    Column("key", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_throttle_hits_key", "scope", "key", "at"),
    Index("ix_throttle_hits_at", "at"),
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SlidingWindow:
    """At most ``limit`` hits per ``window`` for each key of one ``scope``."""

    def __init__(self, engine: Engine, scope: str, limit: int, window: timedelta) -> None:
        self._engine = engine
        self.scope = scope
        self.limit = limit
        self.window = window

    def open(self, key: str, now: datetime | None = None) -> bool:
        """Whether ``key`` is under the limit, without counting a hit."""
        since = (now or _utc_now()) - self.window
        table = throttle_table
        with self._engine.connect() as conn:
            hits = conn.execute(
                select(func.count())
                .select_from(table)
                .where(table.c.scope == self.scope, table.c.key == key, table.c.at > since)
            ).scalar_one()
        return int(hits) < self.limit

    def count(self, key: str, now: datetime | None = None) -> None:
        """Count one hit of ``key``; hits older than the window are forgotten."""
        moment = now or _utc_now()
        table = throttle_table
        with self._engine.begin() as conn:
            conn.execute(delete(table).where(table.c.at <= moment - self.window))
            conn.execute(insert(table).values(scope=self.scope, key=key, at=moment))
