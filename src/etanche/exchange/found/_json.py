"""JSON documents (array of objects, FHIR Bundle, single object) and NDJSON, streamed.

Nested objects are flattened to dotted column names with list indices dropped
("name.given"), several values under one name joined by a space: the column
names stay hints a scanner can read ("telecom.value", "birthDate").
A FHIR Bundle yields its entries' resources as rows. Arrays are decoded one
element at a time, so a large export never sits whole in memory.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from etanche.errors import SourceError
from etanche.exchange.found._source import Source
from etanche.exchange.found._table import FoundTable

__all__ = ["json_table", "ndjson_table"]

_DECODER = json.JSONDecoder()
_BLOCK = 1 << 20
MAX_COLUMNS = 10_000  # distinct column names kept; later new names are dropped


# A column name under construction: (key, parent) links, joined only at a leaf.
_Path = tuple[str, "_Path"] | None


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """{"a": {"b": [1, 2]}} -> {"a.b": "1 2"}.

    An explicit stack, not recursion, and names joined at the leaves only:
    nesting depth is the file's choice and must cost linear time.
    """
    out: dict[str, str] = {}
    stack: list[tuple[Any, _Path]] = [(value, (prefix, None) if prefix else None)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, (str(k), path)) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((v, path) for v in reversed(item))
        elif item is not None:
            text = item if isinstance(item, str) else json.dumps(item)
            name = _join(path) or "value"
            out[name] = f"{out[name]} {text}" if name in out else text
    return out


def _join(path: _Path) -> str:
    parts = []
    while path is not None:
        parts.append(path[0])
        path = path[1]
    return ".".join(reversed(parts))


def _records(document: Any) -> Iterator[Any]:
    if isinstance(document, dict) and document.get("resourceType") == "Bundle":
        for entry in document.get("entry") or []:
            if isinstance(entry, dict) and "resource" in entry:
                yield entry["resource"]
    elif isinstance(document, list):
        yield from document
    else:
        yield document


def _array_items(source: Source, encoding: str) -> Iterator[Any]:
    """Elements of a top-level array decoded one by one, else each top-level value.

    A value cut by the end of the buffer is decoded again once more text is
    read; the read doubles with the value so one huge value costs linear time.
    Values after the first (NDJSON sniffed as JSON, concatenated documents) are
    read the same way, never the whole file at once.
    """
    with source.open() as raw, io.TextIOWrapper(raw, encoding=encoding, errors="replace") as text:
        buffer = text.read(_BLOCK).lstrip("\ufeff \t\r\n")
        in_array = buffer.startswith("[")
        position = 1 if in_array else 0
        while True:
            position = _skip(buffer, position)
            if in_array and position < len(buffer) and buffer[position] == "]":
                return
            end = -1
            if position < len(buffer):
                try:
                    item, end = _DECODER.raw_decode(buffer, position)
                except json.JSONDecodeError:
                    end = -1
                except RecursionError:
                    raise SourceError(f"{source.name}: JSON nested too deep") from None
            if end < 0:  # value cut by the buffer (or nothing left): read on
                more = text.read(max(_BLOCK, len(buffer) - position))
                if not more:
                    if position >= len(buffer) and not in_array:
                        return
                    raise SourceError(f"{source.name}: malformed or truncated JSON")
                buffer, position = buffer[position:] + more, 0
                continue
            yield from _records(item) if (_is_bundle(item) or not in_array) else (item,)
            position = end


def _is_bundle(item: Any) -> bool:
    return isinstance(item, dict) and item.get("resourceType") == "Bundle"


def _skip(buffer: str, position: int) -> int:
    while position < len(buffer) and buffer[position] in " \t\r\n,":
        position += 1
    return position


def _ndjson_items(source: Source, encoding: str) -> Iterator[Any]:
    with source.open() as raw, io.TextIOWrapper(raw, encoding=encoding, errors="replace") as text:
        for number, line in enumerate(text, start=1):
            stripped = line.strip()
            if not stripped:
                continue
            try:
                item = json.loads(stripped)
            except json.JSONDecodeError:
                raise SourceError(f"{source.name}: line {number}: malformed JSON") from None
            except RecursionError:  # too deep to decode: its text is still read, as text
                item = {"text": stripped}
            yield from _records(item) if _is_bundle(item) else (item,)


def _table(source: Source, items: Any, fmt: str) -> FoundTable:
    columns: dict[str, None] = {}
    for item in items():  # every record: a key first seen at record 10,000 is a column
        for name in flatten(item):
            if name not in columns and len(columns) < MAX_COLUMNS:
                columns[name] = None
    names = list(columns)

    def batches(size: int) -> Iterator[list[list[str]]]:
        batch: list[list[str]] = []
        for item in items():
            flat = flatten(item)
            batch.append([flat.get(name, "") for name in names])
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    return FoundTable(source.name, names, batches, fmt=fmt, size=source.size)


def json_table(source: Source, encoding: str) -> FoundTable:
    return _table(source, lambda: _array_items(source, encoding), "json")


def ndjson_table(source: Source, encoding: str) -> FoundTable:
    return _table(source, lambda: _ndjson_items(source, encoding), "ndjson")
