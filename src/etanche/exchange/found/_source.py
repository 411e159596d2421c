"""Where found bytes come from: a file on disk or a member of an archive.

Archive members are read straight from the archive, never extracted: a found
file is personal data and must not be copied into a temporary file.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = ["HEAD", "Source", "detect_encoding", "transcode"]

HEAD = 64 * 1024  # bytes read to sniff format, encoding and delimiter


@dataclass(frozen=True, slots=True)
class Source:
    """A named byte stream that can be opened again (one pass per reading)."""

    name: str
    open: Callable[[], BinaryIO]
    size: int
    path: Path | None = None

    def head(self, size: int = HEAD) -> bytes:
        with self.open() as handle:
            return handle.read(size)


# Bytes 0x80-0x9F: where cp1252 differs from latin-1 (which decodes at memcpy speed).
_C1 = bytes(range(0x80, 0xA0))
_NOT_C1 = bytes(range(0x80)) + bytes(range(0xA0, 0x100))


def detect_encoding(head: bytes) -> str:
    """utf-8 (with or without BOM), utf-16 by BOM, cp1252, else what charset-normalizer says.

    French exports are mostly cp1252: it is the fallback when the guess is not
    one of the usual Western encodings, and the answer without asking when no
    8-bit byte falls in 0x80-0x9F (every one is then a Latin-1 letter or sign,
    read the same in cp1252; DOS and Mac French put their accents in that range).
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    if not head.translate(None, _NOT_C1):
        return "cp1252"
    import charset_normalizer  # 70 ms of imports, for the files that need a guess

    best = charset_normalizer.from_bytes(head[:16_384]).best()
    guess = best.encoding if best is not None else ""
    if guess in {"utf_8", "cp1252", "latin_1", "iso8859_15", "cp850", "mac_roman"}:
        return "cp1252" if guess in {"latin_1", "iso8859_15"} else guess
    return "cp1252"


def transcode(data: bytes, encoding: str) -> bytes:
    """``data`` re-encoded as UTF-8 (bad bytes replaced), fast for the usual cases."""
    if encoding in {"utf-8", "utf-8-sig"}:
        if data.isascii():
            return data
        return data.decode("utf-8", "replace").encode("utf-8")
    if encoding == "cp1252" and data.isascii():
        return data
    if encoding == "cp1252" and not data.translate(None, _NOT_C1):
        return data.decode("latin-1").encode("utf-8")
    return data.decode(encoding, "replace").encode("utf-8")
