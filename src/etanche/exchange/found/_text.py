"""Plain text: one table with one column "text", one row per non-blank line."""

from __future__ import annotations

import io
from collections.abc import Iterator

from etanche.exchange.found._source import Source
from etanche.exchange.found._table import FoundTable

__all__ = ["text_table"]


def text_table(source: Source, encoding: str) -> FoundTable:
    def batches(size: int) -> Iterator[list[list[str]]]:
        batch: list[list[str]] = []
        with (
            source.open() as raw,
            io.TextIOWrapper(raw, encoding=encoding, errors="replace") as text,
        ):
            for line in text:
                stripped = line.strip()
                if stripped:
                    batch.append([stripped])
                    if len(batch) >= size:
                        yield batch
                        batch = []
        if batch:
            yield batch

    return FoundTable(source.name, ["text"], batches, fmt="text", size=source.size)
