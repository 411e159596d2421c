"""Delimited text (CSV, TSV, any delimiter, any usual encoding), streamed.

``batches`` goes through the csv module; ``frames`` cuts the raw bytes into
chunks at record boundaries (even number of quotes before the cut), transcodes
each chunk to UTF-8 and lets polars parse it on every core: a file larger than
memory is read in bounded memory either way.
"""

from __future__ import annotations

import csv
import io
import re
import sys
import threading
from collections.abc import Iterator
from queue import Empty, Full, Queue

import polars as pl

from etanche.errors import SourceError
from etanche.exchange.found._source import Source, transcode
from etanche.exchange.found._table import FoundTable

__all__ = ["delimited_table", "sniff_delimiter"]

DELIMITERS = (";", ",", "\t", "|")
CHUNK = 32 * 1024 * 1024
# The first chunk is small so a reader starts work sooner; the next one completes
# it to CHUNK, so every later cut falls where it would with CHUNK alone. When the
# small chunk holds fewer than FIRST_ROWS rows (what a scan samples to classify
# columns), it is handed over joined to the next: the first frame is then the same.
FIRST_CHUNK = 4 * 1024 * 1024
FIRST_ROWS = 5_000
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

_FOUR_DIGITS = re.compile(r"\d{4}")  # fixed width: one pass whatever the cell
_NUMBER_PUNCTUATION = str.maketrans("", "", ".,+- /:")


def sniff_delimiter(text: str) -> str | None:
    """The delimiter splitting the first lines into the same number (>= 2) of fields."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if len(text) >= 60_000 and len(lines) > 1:
        lines = lines[:-1]  # probably cut in the middle
    if not lines:
        return None
    best: tuple[float, str] | None = None
    for delimiter in DELIMITERS:
        rows = list(csv.reader(lines, delimiter=delimiter))
        widths = [len(r) for r in rows]
        top = max(set(widths), key=widths.count)
        if top < 2:
            continue
        agreement = widths.count(top) / len(widths)
        if agreement < 0.8:
            continue
        score = agreement * 1000 + top
        if best is None or score > best[0]:
            best = (score, delimiter)
    return best[1] if best else None


def _data_like(cell: str) -> bool:
    """An e-mail, four digits in a row, or only digits and number punctuation.

    Plain string tests: the regular expression these replace backtracked in
    quadratic time on a long cell of spaces and digits (a header row of a
    leaked file is whatever the leaker made it).
    """
    if "@" in cell or _FOUR_DIGITS.search(cell):
        return True
    bare = cell.strip()
    digits = bare.translate(_NUMBER_PUNCTUATION)
    return bool(bare) and (not digits or digits.isdecimal())


def _looks_like_header(first: list[str], second: list[str] | None) -> bool:
    cells = [c.strip() for c in first if c.strip()]
    if not cells:
        return False
    if any(_data_like(c) for c in cells):
        return False
    if len(set(cells)) < len(cells):
        return False
    return second is None or first != second


def _text_rows(source: Source, encoding: str, delimiter: str) -> Iterator[list[str]]:
    with (
        source.open() as raw,
        io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="") as text,
    ):
        try:
            yield from csv.reader(text, delimiter=delimiter)
        except csv.Error as exc:
            raise SourceError(f"{source.name}: malformed delimited text ({exc})") from None


def delimited_table(source: Source, encoding: str, delimiter: str, head: str) -> FoundTable:
    """One table; the header is the first row when it looks like names, not data."""
    rows = list(csv.reader(head.splitlines()[:2], delimiter=delimiter))
    first = rows[0] if rows else []
    header = _looks_like_header(first, rows[1] if len(rows) > 1 else None)
    columns = first if header else [f"column {i}" for i in range(1, len(first) + 1)]
    width = len(columns)

    def batches(size: int) -> Iterator[list[list[str]]]:
        rows = _text_rows(source, encoding, delimiter)
        if header:
            next(rows, None)
        batch: list[list[str]] = []
        for row in rows:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            batch.append(row)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def parsed() -> Iterator[pl.DataFrame]:
        first_chunk = True
        pending: pl.DataFrame | None = None
        for chunk in _chunks(source, CHUNK, FIRST_CHUNK):
            frame = _parse(transcode(chunk, encoding), delimiter, width, source.name)
            if first_chunk and header:
                frame = frame.slice(1)
            if first_chunk and frame.height < FIRST_ROWS:
                first_chunk, pending = False, frame
                continue
            first_chunk = False
            if pending is not None:
                frame, pending = pl.concat([pending, frame]), None
            if frame.height:
                yield frame
        if pending is not None and pending.height:
            yield pending

    def frames(size: int) -> Iterator[pl.DataFrame]:
        del size  # chunks are cut by bytes, not rows
        return _read_ahead(parsed())

    utf16 = encoding.startswith("utf-16")
    return FoundTable(
        source.name,
        columns,
        batches,
        fmt="tsv" if delimiter == "\t" else "csv",
        size=source.size,
        frames=None if utf16 else frames,
    )


def _read_ahead(frames: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """Parse the next chunk in a thread while the caller works on this one.

    At most one frame waits in the queue, so memory stays at about two chunks.
    """
    queue: Queue[pl.DataFrame | BaseException | None] = Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for frame in frames:
                while not stop.is_set():
                    try:
                        queue.put(frame, timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put(None)
        except BaseException as exc:  # handed to the consumer, raised there
            queue.put(exc)

    worker = threading.Thread(target=produce, name="found-read-ahead", daemon=True)
    worker.start()
    try:
        while (item := queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                queue.get_nowait()
            except Empty:
                worker.join(timeout=0.1)


def _chunks(source: Source, size: int, first: int | None = None) -> Iterator[bytes]:
    """Raw chunks ending on a record boundary (a newline after an even number of quotes).

    ``first`` (smaller than ``size``) is the size of the first read; the second
    read makes up the rest of ``size``.

    Without a quote in sight the cut is the last newline and each chunk is copied
    once (no count over the whole chunk): the common case of a large export.
    """
    carry = b""
    reads = [first, size - first] if first is not None and 0 < first < size else []
    with source.open() as handle:
        while True:
            block = handle.read(reads.pop(0) if reads else size)
            if not block:
                break
            if b'"' not in carry and b'"' not in block:
                cut = block.rfind(b"\n")
                if cut < 0:
                    carry += block
                    continue
                yield b"".join((carry, memoryview(block)[: cut + 1]))
                carry = block[cut + 1 :]
                continue
            data = carry + block
            cut = _last_boundary(data)
            if cut < 0:
                carry = data
                continue
            carry = data[cut + 1 :]
            yield data[: cut + 1]
    if carry.strip():
        yield carry


def _last_boundary(data: bytes) -> int:
    quotes_even = data.count(b'"') % 2 == 0
    cut = len(data)
    while True:
        cut = data.rfind(b"\n", 0, cut)
        if cut < 0:
            return -1
        # quotes after the cut change the parity of those before it
        if (data.count(b'"', cut) % 2 == 0) == quotes_even:
            return cut


def _parse(data: bytes, delimiter: str, width: int, name: str) -> pl.DataFrame:
    schema = {f"c{i}": pl.String for i in range(max(width, 1))}
    try:
        return pl.read_csv(
            data,
            has_header=False,
            separator=delimiter,
            schema=schema,
            truncate_ragged_lines=True,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError:
        raise SourceError(f"{name}: malformed delimited text") from None
