"""Fast bulk inserts for the bulk paths: COPY on PostgreSQL, executemany on SQLite.

SQLAlchemy's per-row parameter processing costs more than the database's own
insert at half a million rows. On SQLite the Core ``insert`` is compiled once,
bind processors are applied only to the columns that have one (dates, times),
and rows go to the driver's ``executemany`` as they are. On PostgreSQL rows go
through psycopg 3's ``COPY … FROM STDIN`` in binary format: one stream per batch,
no statement per row, no text escaping of the ciphertexts (``bytea``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, LargeBinary, Table, insert

if TYPE_CHECKING:
    import psycopg


class BulkInsert:
    """A compiled multi-row insert of fixed columns into one table."""

    def __init__(self, conn: Connection, table: Table, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        self._copy: _Copy | None = None
        if conn.dialect.name == "postgresql":
            self._copy = _Copy(conn, table, self.columns)
            return
        compiled = insert(table).compile(dialect=conn.dialect, column_keys=list(self.columns))
        self._sql = str(compiled)
        self._positional = bool(compiled.positional)
        order = compiled.positiontup if self._positional else None
        self._order = tuple(order) if order else self.columns
        self._processors: list[tuple[int, Callable[[Any], Any]]] = []
        for position, name in enumerate(self._order):
            column_type = table.c[name].type
            if isinstance(column_type, LargeBinary):
                continue  # bytes go to the driver as they are
            processor = column_type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
            if processor is not None:
                self._processors.append((position, processor))
        self._pick = itemgetter(*self._order)

    def run(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        self.write(conn, self.prepare(rows))

    def prepare(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        """Rows as the driver takes them (no connection needed: a sealing worker
        prepares, the writer only writes)."""
        if self._copy is not None:
            return self._copy.prepare(rows)
        pick, processors = self._pick, self._processors
        if not processors and self._positional:
            return [pick(row) for row in rows]
        prepared: list[Any] = []
        for row in rows:
            values = pick(row)
            if processors:
                changed = list(values)
                for position, processor in processors:
                    if changed[position] is not None:
                        changed[position] = processor(changed[position])
                values = tuple(changed)
            if not self._positional:
                values = dict(zip(self._order, values, strict=True))
            prepared.append(values)
        return prepared

    def write(self, conn: Connection, prepared: list[Any]) -> None:
        """Insert rows ``prepare`` made, in this connection's transaction."""
        if not prepared:
            return
        if self._copy is not None:
            self._copy.write(conn, prepared)
            return
        conn.exec_driver_sql(self._sql, prepared)


class _Copy:
    """``COPY table (columns) FROM STDIN (FORMAT BINARY)`` with the columns' types."""

    def __init__(self, conn: Connection, table: Table, columns: tuple[str, ...]) -> None:
        preparer = conn.dialect.identifier_preparer
        names = ", ".join(preparer.quote(name) for name in columns)
        self._sql = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN (FORMAT BINARY)"
        # Binary COPY needs each column's PostgreSQL type: "VARCHAR(32)" -> "varchar".
        self._types = [
            _MODIFIER.sub("", table.c[name].type.compile(dialect=conn.dialect)).lower()
            for name in columns
        ]
        self._pick = itemgetter(*columns)
        self._single = len(columns) == 1

    def prepare(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        pick = self._pick
        if self._single:
            return [(pick(row),) for row in rows]
        return [pick(row) for row in rows]

    def write(self, conn: Connection, prepared: list[Any]) -> None:
        driver = cast("psycopg.Connection[Any]", conn.connection.dbapi_connection)
        with driver.cursor() as cursor, cursor.copy(self._sql) as copy:
            copy.set_types(self._types)
            for values in prepared:
                copy.write_row(values)


_MODIFIER = re.compile(r"\(.*?\)")
