"""One table found in a file: a name, its columns and its rows in batches."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import polars as pl

__all__ = ["FoundTable", "unique_columns"]

Batches = Callable[[int], Iterator[list[list[str]]]]
Frames = Callable[[int], Iterator[pl.DataFrame]]


def unique_columns(names: list[str]) -> list[str]:
    """Blank names become "column N", repeats get " (2)", " (3)": columns are keys."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for index, raw in enumerate(names, start=1):
        name = raw.strip() or f"column {index}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        seen.setdefault(name, 1)
        out.append(name)
    return out


class FoundTable:
    """A table of text cells read from a found file, streamed in batches.

    Every row has exactly ``len(columns)`` cells (short rows are padded with "",
    extra cells dropped); a missing value is "". ``batches`` can be called again:
    each call reads the source afresh, so memory stays bounded whatever its size.
    """

    def __init__(
        self,
        name: str,
        columns: list[str],
        batches: Batches,
        *,
        fmt: str,
        size: int = 0,
        frames: Frames | None = None,
    ) -> None:
        self.name = name
        self.columns = unique_columns(columns)
        self.format = fmt
        self.size = size  # bytes of the source this table came from (0: unknown)
        self._batches = batches
        self._frames = frames

    def __repr__(self) -> str:
        return f"FoundTable({self.name!r}, {len(self.columns)} columns, {self.format})"

    def batches(self, size: int = 50_000) -> Iterator[list[list[str]]]:
        """Rows of cells as text, ``size`` rows at a time."""
        width = len(self.columns)
        for batch in self._batches(size):
            yield [_fit(row, width) for row in batch]

    def frames(self, size: int = 200_000) -> Iterator[pl.DataFrame]:
        """The same rows as polars frames of strings named like ``columns``.

        Delimited files are parsed by polars itself (multi-threaded, chunked); the
        other formats are built from ``batches``. Missing cells are null.
        """
        if self._frames is not None:
            for frame in self._frames(size):
                yield _rename(frame, self.columns)
            return
        for batch in self.batches(size):
            data = {name: [row[i] or None for row in batch] for i, name in enumerate(self.columns)}
            yield pl.DataFrame(data, schema=dict.fromkeys(self.columns, pl.String))


def _fit(row: list[str], width: int) -> list[str]:
    if len(row) == width:
        return row
    if len(row) > width:
        return row[:width]
    return row + [""] * (width - len(row))


def _rename(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    width = len(columns)
    if frame.width > width:
        frame = frame.select(frame.columns[:width])
    elif frame.width < width:
        extra = [pl.lit(None, pl.String).alias(f"_pad{i}") for i in range(width - frame.width)]
        frame = frame.with_columns(extra)
    frame.columns = columns
    return frame.cast(pl.String)
