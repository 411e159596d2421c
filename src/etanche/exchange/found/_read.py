"""``read_tables``: whatever the shape of a found file, its tables of text cells."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from etanche.errors import SourceError
from etanche.exchange.found._archive import (
    COMPRESSED,
    compressed_member,
    is_spreadsheet,
    members,
)
from etanche.exchange.found._delimited import delimited_table, sniff_delimiter
from etanche.exchange.found._json import json_table, ndjson_table
from etanche.exchange.found._sevenzip import MAGIC as SEVEN_ZIP
from etanche.exchange.found._sevenzip import seven_zip_members
from etanche.exchange.found._source import Source, detect_encoding
from etanche.exchange.found._sql import looks_like_sql, sql_tables
from etanche.exchange.found._table import FoundTable
from etanche.exchange.found._text import text_table
from etanche.exchange.found._xlsx import sheet_tables

__all__ = ["found_files", "read_tables", "sniff_format"]

MAX_DEPTH = 4  # archives inside archives
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls


def found_files(path: Path) -> list[Path]:
    """The files under ``path`` (itself if a file), sorted, hidden ones skipped."""
    if path.is_dir():
        return sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
    if not path.exists():
        raise SourceError(f"{path}: no such file or directory")
    return [path]


def read_tables(path: Path) -> Iterator[FoundTable]:
    """Tables of ``path`` (a file, a directory walked recursively, or a zip archive).

    CSV/TSV with any delimiter and encoding, XLSX (one table per sheet), JSON
    (array of objects, FHIR Bundle), NDJSON, SQL INSERT dumps (one table per
    target), plain text (one column "text"), zip and 7z archives and gzip / bzip2 /
    xz streams recursively, decompressed as they are read. Raises
    SourceError naming the file, never a value, when a file cannot be read.
    """
    for file in found_files(path):
        source = Source(str(file), _file_opener(file), file.stat().st_size, file)
        yield from _tables(source, 0)


def _file_opener(file: Path) -> Callable[[], BinaryIO]:
    return lambda: file.open("rb")


def sniff_format(source: Source) -> tuple[str, str]:
    """(format, encoding): zip, 7z, compressed, xlsx, json, ndjson, sql, csv, text or empty."""
    head = source.head()
    if not head.strip():
        return "empty", "utf-8"
    if head.startswith(b"PK\x03\x04"):
        return ("xlsx" if is_spreadsheet(source) else "zip"), "binary"
    if head.startswith(_OLE):
        return "xlsx", "binary"
    if any(head.startswith(magic) for magic in COMPRESSED):
        return "compressed", "binary"
    if head.startswith(SEVEN_ZIP):
        return "7z", "binary"
    encoding = detect_encoding(head)
    if b"\0" in head and not encoding.startswith("utf-16"):
        return "binary", "binary"
    text = head.decode(encoding, "replace").lstrip("\ufeff \t\r\n")
    if text.startswith(("{", "[")):
        lines = [line for line in text.splitlines()[:5] if line.strip()]
        if len(lines) > 1 and all(_json_line(line) for line in lines[:-1]):
            return "ndjson", encoding
        return "json", encoding
    if looks_like_sql(text):
        return "sql", encoding
    if sniff_delimiter(text) is not None:
        return "csv", encoding
    return "text", encoding


def _json_line(line: str) -> bool:
    """A line that opens and closes a JSON object or array (string tests, no regex)."""
    bare = line.strip()
    return len(bare) >= 2 and bare[0] in "{[" and bare[-1] in "}]"


def _tables(source: Source, depth: int) -> Iterator[FoundTable]:
    fmt, encoding = sniff_format(source)
    if fmt == "empty":
        return
    if fmt == "binary":
        raise SourceError(f"{source.name}: binary file, not a table or text")
    if fmt == "zip":
        if depth >= MAX_DEPTH:
            raise SourceError(f"{source.name}: archives nested too deep")
        for member in members(source):
            yield from _tables(member, depth + 1)
    elif fmt == "7z":
        if depth >= MAX_DEPTH:
            raise SourceError(f"{source.name}: archives nested too deep")
        for member in seven_zip_members(source):
            yield from _tables(member, depth + 1)
    elif fmt == "compressed":
        if depth >= MAX_DEPTH:
            raise SourceError(f"{source.name}: archives nested too deep")
        magic = next(m for m in COMPRESSED if source.head(8).startswith(m))
        yield from _tables(compressed_member(source, magic), depth + 1)
    elif fmt == "xlsx":
        yield from sheet_tables(source)
    elif fmt == "json":
        yield json_table(source, encoding)
    elif fmt == "ndjson":
        yield ndjson_table(source, encoding)
    elif fmt == "sql":
        yield from sql_tables(source, encoding)
    elif fmt == "csv":
        head = source.head().decode(encoding, "replace").lstrip("\ufeff")
        delimiter = sniff_delimiter(head)
        assert delimiter is not None
        yield delimited_table(source, encoding, delimiter, head)
    else:
        yield text_table(source, encoding)
