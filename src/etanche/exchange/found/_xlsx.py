"""Spreadsheets (XLSX, XLSM, XLS, ODS) through python-calamine: one table per sheet."""

from __future__ import annotations

import io
from collections.abc import Generator, Iterator
from datetime import date, datetime, time, timedelta

from python_calamine import CalamineWorkbook

from etanche.errors import SourceError
from etanche.exchange.found._source import Source
from etanche.exchange.found._table import FoundTable

__all__ = ["cell_text", "sheet_tables"]


def cell_text(value: object) -> str:
    """Cells as a person would read them: integral floats without ".0", dates in ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _workbook(source: Source) -> CalamineWorkbook:
    try:
        if source.path is not None:
            return CalamineWorkbook.from_path(str(source.path))
        with source.open() as handle:
            return CalamineWorkbook.from_filelike(io.BytesIO(handle.read()))
    except Exception as exc:  # calamine raises its own untyped errors
        raise SourceError(f"{source.name}: unreadable spreadsheet ({type(exc).__name__})") from None


def sheet_tables(source: Source) -> Iterator[FoundTable]:
    """Each sheet is a table; its first non-empty row is the header."""
    book = _workbook(source)
    names = list(book.sheet_names)
    book.close()
    for sheet_name in names:
        rows = _rows(source, sheet_name)
        header = next(rows, None)
        if header is None:
            continue
        rows.close()

        def batches(size: int, sheet_name: str = sheet_name) -> Iterator[list[list[str]]]:
            rows = _rows(source, sheet_name)
            next(rows, None)
            batch: list[list[str]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= size:
                    yield batch
                    batch = []
            if batch:
                yield batch

        yield FoundTable(
            f"{source.name}:{sheet_name}", header, batches, fmt="xlsx", size=source.size
        )


def _rows(source: Source, sheet_name: str) -> Generator[list[str], None, None]:
    book = _workbook(source)
    try:
        sheet = book.get_sheet_by_name(sheet_name)
        for values in sheet.iter_rows():
            row = [cell_text(v) for v in values]
            if any(cell.strip() for cell in row):
                yield row
    finally:
        book.close()
