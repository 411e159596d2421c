"""Spreadsheets (XLSX, XLSM, XLS, ODS): one table per sheet.

python-calamine reads a sheet whole (fast, but about 20 bytes of memory per byte
of workbook); a workbook larger than ``STREAM_ABOVE`` in the XLSX format is read
with openpyxl in read-only mode instead, row by row from the sheet's XML, so
memory stays bounded whatever the sheet's size.
"""

from __future__ import annotations

import io
from collections.abc import Generator, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any, BinaryIO

import openpyxl
from python_calamine import CalamineWorkbook

from etanche.errors import SourceError
from etanche.exchange.found._archive import is_spreadsheet
from etanche.exchange.found._source import Source
from etanche.exchange.found._table import FoundTable

__all__ = ["STREAM_ABOVE", "cell_text", "sheet_tables"]

STREAM_ABOVE = 16 << 20  # bytes of an XLSX workbook above which its sheets are streamed


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


def _streamed(source: Source) -> bool:
    return source.size > STREAM_ABOVE and is_spreadsheet(source, ("xl/workbook.xml",))


def sheet_tables(source: Source) -> Iterator[FoundTable]:
    """Each sheet is a table; its first non-empty row is the header."""
    streamed = _streamed(source)
    if streamed:
        with source.open() as handle:
            book = _open_streamed(source, handle)
            names = list(book.sheetnames)
            book.close()
    else:
        calamine = _workbook(source)
        names = list(calamine.sheet_names)
        calamine.close()
    read = _streamed_rows if streamed else _rows
    for sheet_name in names:
        rows = read(source, sheet_name)
        header = next(rows, None)
        if header is None:
            continue
        rows.close()

        def batches(size: int, sheet_name: str = sheet_name) -> Iterator[list[list[str]]]:
            rows = read(source, sheet_name)
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


def _open_streamed(source: Source, handle: BinaryIO) -> Any:
    try:
        return openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise SourceError(f"{source.name}: unreadable spreadsheet ({type(exc).__name__})") from None


def _streamed_rows(source: Source, sheet_name: str) -> Generator[list[str], None, None]:
    with source.open() as handle:
        book = _open_streamed(source, handle)
        try:
            for values in book[sheet_name].iter_rows(values_only=True):
                row = [cell_text(v) for v in values]
                if any(cell.strip() for cell in row):
                    yield row
        except SourceError:
            raise
        except Exception as exc:  # a damaged sheet part
            raise SourceError(f"{source.name}: unreadable sheet ({type(exc).__name__})") from None
        finally:
            book.close()
