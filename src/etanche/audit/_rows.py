"""Plain SQL rows as driver tuples, streamed: the passes that read the whole log.

A pass over a million events spends more in building SQLAlchemy rows than in
hashing them. SQLite's own cursor builds plain tuples in C, on the connection's
own transaction (same snapshot); PostgreSQL streams through a named server-side
cursor in the current transaction (bounded memory, same snapshot).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

__all__ = ["raw_batches", "raw_rows"]

_BATCH = 20_000
_names = itertools.count()


def raw_rows(conn: Connection, sql: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
    """Rows of ``sql`` (``:name`` parameters) as the driver returns them."""
    for rows in raw_batches(conn, sql, params):
        yield from rows


def raw_batches(
    conn: Connection, sql: str, params: Mapping[str, Any] | None = None
) -> Iterator[Sequence[Any]]:
    """``raw_rows`` a batch at a time: one generator step per batch, not per row."""
    conn.exec_driver_sql("SELECT 1")  # the transaction (and its snapshot) begins here
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    if conn.dialect.name == "sqlite":
        cursor = dbapi.cursor()
        statement = sql  # sqlite3 takes :name parameters as they are
    else:
        cursor = dbapi.cursor(name=f"etanche_audit_{next(_names)}")
        statement = _pyformat(sql, params or {})
    try:
        cursor.execute(statement, dict(params or {}))
        while rows := cursor.fetchmany(_BATCH):
            yield rows
    finally:
        cursor.close()


def _pyformat(sql: str, params: Mapping[str, Any]) -> str:
    """``:name`` to psycopg's ``%(name)s``."""
    for name in params:
        sql = sql.replace(f":{name}", f"%({name})s")
    return sql
