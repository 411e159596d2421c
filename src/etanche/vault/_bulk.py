"""Fast executemany for the bulk paths (SQLAlchemy Core statement, DBAPI rows).

SQLAlchemy's per-row parameter processing costs more than SQLite's own insert
at half a million rows. Here the Core ``insert`` is compiled once per dialect,
bind processors are applied only to the columns that have one (dates, times on
SQLite), and rows go to the driver's ``executemany`` as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, LargeBinary, Table, insert


class BulkInsert:
    """A compiled multi-row insert of fixed columns into one table."""

    def __init__(self, conn: Connection, table: Table, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        compiled = insert(table).compile(dialect=conn.dialect, column_keys=list(self.columns))
        self._sql = str(compiled)
        self._positional = bool(compiled.positional)
        order = compiled.positiontup if self._positional else None
        self._order = tuple(order) if order else self.columns
        self._processors: list[tuple[int, Callable[[Any], Any]]] = []
        for position, name in enumerate(self._order):
            column_type = table.c[name].type
            if isinstance(column_type, LargeBinary):
                continue  # bytes go to both drivers as they are
            processor = column_type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
            if processor is not None:
                self._processors.append((position, processor))
        self._pick = itemgetter(*self._order)

    def run(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        pick, processors = self._pick, self._processors
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
        conn.exec_driver_sql(self._sql, prepared)
