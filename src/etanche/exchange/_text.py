"""Decoded lines of a source file, chunk by chunk, with per-line decoding problems.

Old lab exports come in cp1252, latin-1, UTF-8 or UTF-8 with a BOM. A cheap test
decides: a BOM, else does the sample decode as UTF-8, else which of cp1252 and
latin-1 can decode its 0x80-0x9F bytes. A line that does not decode (or exceeds
``MAX_LINE``) becomes a ``BadLine`` and reading goes on: one bad byte must not
cost a 500,000-row import.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from etanche.errors import SourceError, UsageError

__all__ = ["BadLine", "TextSource", "detect_encoding"]

SAMPLE = 1 << 20
CHUNK = 1 << 20
MAX_LINE = 1 << 22
_CP1252_HOLES = frozenset(b"\x81\x8d\x8f\x90\x9d")
_C1 = bytes(range(0x80, 0xA0))
_ANY_NEWLINE = re.compile(r"\r\n|\r|\n")
_ANY_NEWLINE_BYTES = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that could not be read; ``reason`` never quotes its bytes."""

    reason: str


def detect_encoding(sample: bytes, *, complete: bool = True) -> str:
    """``utf-8-sig``, ``utf-8``, ``cp1252`` or ``latin-1`` for a file's first bytes.

    ``complete=False`` when the sample was cut: a UTF-8 sequence may end unfinished.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    c1 = set(sample.translate(None, bytes(b for b in range(256) if b not in _C1)))
    return "latin-1" if c1 & _CP1252_HOLES else "cp1252"


def _is_ascii_only(sample: bytes) -> bool:
    return sample.isascii() and not sample.startswith(codecs.BOM_UTF8)


class TextSource:
    """Iterate the lines of ``path``: text, or ``BadLine`` for an unreadable one.

    ``csv_lines`` keeps the "\\n" terminators and splits on "\\n" only (what the
    csv module wants); otherwise lines split on CR, LF or CRLF and lose them
    (HPRIM and HL7 end segments with CR).
    """

    def __init__(self, path: Path, encoding: str | None, *, csv_lines: bool) -> None:
        self.path = path
        self.csv_lines = csv_lines
        try:
            self._handle: BinaryIO = path.open("rb")
            sample = self._handle.read(SAMPLE)
        except OSError as exc:
            raise SourceError(
                f"{path.name}: cannot be read ({exc.strerror or 'I/O error'})"
            ) from None
        if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            self._handle.close()
            raise SourceError(f"{path.name}: UTF-16 files are not supported (convert to UTF-8)")
        if encoding is not None:
            try:
                codecs.lookup(encoding)
            except LookupError:
                self._handle.close()
                raise UsageError(f"encoding: unknown encoding {encoding!r}") from None
        self.encoding = encoding or detect_encoding(sample, complete=len(sample) < SAMPLE)
        # An all-ASCII sample says nothing: switch once if a later chunk disagrees.
        self._provisional = encoding is None and _is_ascii_only(sample)
        utf8 = codecs.lookup(self.encoding).name in ("utf-8", "utf-8-sig")
        self._handle.seek(3 if utf8 and sample.startswith(codecs.BOM_UTF8) else 0)
        self._codec = "utf-8" if utf8 else self.encoding
        self.empty = not sample

    def close(self) -> None:
        self._handle.close()

    def __iter__(self) -> Iterator[str | BadLine]:
        try:
            yield from self._lines()
        except OSError as exc:
            raise SourceError(
                f"{self.path.name}: read failed ({exc.strerror or 'I/O error'})"
            ) from None
        finally:
            self._handle.close()

    def _first_newline(self, buf: bytes) -> int:
        ends = (buf.find(b"\n"),) if self.csv_lines else (buf.find(b"\n"), buf.find(b"\r"))
        return min((i for i in ends if i >= 0), default=-1)

    def _lines(self) -> Iterator[str | BadLine]:
        read = self._handle.read
        buf = b""
        skipping = False  # inside a line too long to keep
        too_long = BadLine(f"line longer than {MAX_LINE} bytes")
        while chunk := read(CHUNK):
            buf += chunk
            first = self._first_newline(buf)
            if skipping:
                if first < 0:
                    buf = b""
                    continue
                buf = buf[first + 1 :]
                skipping = False
                first = self._first_newline(buf)
            if first < 0:
                if len(buf) > MAX_LINE:
                    yield too_long
                    skipping = True
                    buf = b""
                continue
            if first > MAX_LINE:  # only the line carried over can be this long
                yield too_long
                buf = buf[first + 1 :]
            cut = buf.rfind(b"\n")
            if not self.csv_lines:
                cut = max(cut, buf.rfind(b"\r"))
            if cut < 0:
                continue
            head, buf = buf[: cut + 1], buf[cut + 1 :]
            yield from self._decode(head)
        if buf and not skipping:
            if len(buf) > MAX_LINE:
                yield too_long
            else:
                yield from self._decode(buf)

    def _decode(self, block: bytes) -> Iterator[str | BadLine]:
        try:
            text = block.decode(self._codec)
        except UnicodeDecodeError:
            if self._provisional:
                self._provisional = False
                self.encoding = self._codec = detect_encoding(block)
                yield from self._decode(block)
                return
            yield from self._decode_lines(block)
            return
        yield from self._split(text)

    def _split(self, text: str) -> Iterator[str]:
        if self.csv_lines:
            lines = text.split("\n")
            last = lines.pop()
            for line in lines:
                yield line + "\n"
            if last:
                yield last
        else:
            lines = _ANY_NEWLINE.split(text)
            if lines and not lines[-1]:
                lines.pop()
            yield from lines

    def _decode_lines(self, block: bytes) -> Iterator[str | BadLine]:
        if self.csv_lines:
            raws = block.split(b"\n")
            ends = [b"\n"] * (len(raws) - 1) + [b""]
        else:
            raws = _ANY_NEWLINE_BYTES.split(block)
            ends = [b""] * len(raws)
        if raws and not raws[-1]:
            raws.pop()
            ends.pop()
        for raw, end in zip(raws, ends, strict=True):
            try:
                yield (raw + end).decode(self._codec)
            except UnicodeDecodeError:
                yield BadLine(f"bytes that are not {self.encoding}")
