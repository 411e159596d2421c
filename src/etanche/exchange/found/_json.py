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
_KEY_SAMPLE = 100_000  # records scanned for column names beyond the first batch


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """{"a": {"b": [1, 2]}} -> {"a.b": "1 2"}."""
    out: dict[str, str] = {}
    _flatten_into(value, prefix, out)
    return out


def _flatten_into(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten_into(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list):
        for item in value:
            _flatten_into(item, prefix, out)
    elif value is not None:
        text = value if isinstance(value, str) else json.dumps(value)
        name = prefix or "value"
        out[name] = f"{out[name]} {text}" if name in out else text


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
    """Elements of a top-level array decoded one by one; other documents whole."""
    with source.open() as raw, io.TextIOWrapper(raw, encoding=encoding, errors="replace") as text:
        buffer = text.read(_BLOCK).lstrip("\ufeff \t\r\n")
        if not buffer.startswith("["):
            document = _load(source, buffer + text.read())
            yield from _records(document)
            return
        position = 1
        while True:
            position = _skip(buffer, position)
            if position < len(buffer) and buffer[position] == "]":
                return
            item: Any = None
            end = -1
            if position < len(buffer):
                try:
                    item, end = _DECODER.raw_decode(buffer, position)
                except json.JSONDecodeError:
                    end = -1
            if end < 0:  # element cut by the block: read on and decode again
                more = text.read(_BLOCK)
                if not more:
                    raise SourceError(f"{source.name}: malformed or truncated JSON array")
                buffer, position = buffer[position:] + more, 0
                continue
            yield from _records(item) if _is_bundle(item) else (item,)
            position = end


def _is_bundle(item: Any) -> bool:
    return isinstance(item, dict) and item.get("resourceType") == "Bundle"


def _skip(buffer: str, position: int) -> int:
    while position < len(buffer) and buffer[position] in " \t\r\n,":
        position += 1
    return position


def _load(source: Source, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{source.name}: malformed JSON (line {exc.lineno})") from None


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
            yield from _records(item) if _is_bundle(item) else (item,)


def _table(source: Source, items: Any, fmt: str) -> FoundTable:
    columns: dict[str, None] = {}
    for count, item in enumerate(items()):
        columns.update(dict.fromkeys(flatten(item)))
        if count >= _KEY_SAMPLE:
            break
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
