"""Text of the PDF files fpdf2 writes, page by page, without a PDF library.

fpdf2 draws text with embedded TrueType subsets: each string is a run of
2-byte glyph codes, and each font carries a ToUnicode CMap back to the
characters. This reads exactly that much of PDF (objects, Flate streams, the
page tree in file order, ``Tf`` and ``Tj``), so tests can check what a person
would read in the letters and the draft. With the core-font fallback the
strings are plain Latin-1 and are read as such.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

_OBJ = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n", re.S)
_LENGTH = re.compile(rb"/Length (\d+)")
_REF = r"/{key} (\d+) 0 R"
_ESC = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _objects(data: bytes) -> dict[int, bytes]:
    return {int(n): body for n, body in _OBJ.findall(data)}


def _stream(body: bytes) -> bytes:
    """The stream's bytes, cut by its /Length (compressed data may end in CR or LF)."""
    found, length = _STREAM.search(body), _LENGTH.search(body)
    if found is None or length is None:
        return b""
    raw = body[found.end() : found.end() + int(length.group(1))]
    return zlib.decompress(raw) if b"/FlateDecode" in body else raw


def _ref(body: bytes, key: str) -> int | None:
    found = re.search(_REF.format(key=key).encode(), body)
    return int(found.group(1)) if found else None


def _cmap(text: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            start = int(dst, 16)
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code] = chr(start + offset)
    return mapping


def _literal(content: bytes, start: int) -> tuple[bytes, int]:
    """The PDF literal string opening at ``start`` (escapes and nesting), and its end."""
    out = bytearray()
    depth, i = 1, start + 1
    while True:
        c = content[i : i + 1]
        if c == b"\\":
            nxt = content[i + 1 : i + 2]
            if nxt in _ESC:
                out += _ESC[nxt]
                i += 2
            elif nxt.isdigit():
                digits = re.match(rb"[0-7]{1,3}", content[i + 1 : i + 4])
                assert digits is not None
                out.append(int(digits.group(0), 8))
                i += 1 + len(digits.group(0))
            else:
                out += nxt
                i += 2
            continue
        if c == b"(":
            depth += 1
        elif c == b")":
            depth -= 1
            if depth == 0:
                return bytes(out), i + 1
        out += c
        i += 1


def pages(path: Path) -> list[str]:
    """The text of each page, lines joined by newlines, in file order."""
    objects = _objects(path.read_bytes())
    cmaps: dict[int, dict[int, str]] = {}
    for number, body in objects.items():
        to_unicode = _ref(body, "ToUnicode")
        if to_unicode is not None:
            cmaps[number] = _cmap(_stream(objects[to_unicode]))
    found: list[str] = []
    for _, body in sorted(objects.items()):
        if not re.search(rb"/Type /Page\b(?!s)", body):
            continue
        resources = objects[_ref(body, "Resources") or -1]
        fonts = {
            name.decode(): int(ref) for name, ref in re.findall(rb"/(F\d+) (\d+) 0 R", resources)
        }
        content = _stream(objects[_ref(body, "Contents") or -1])
        lines: list[str] = []
        font: int | None = None
        i = 0
        while i < len(content):
            if content[i : i + 1] == b"/":
                match = re.match(rb"/(F\d+) [\d.]+ Tf", content[i:])
                if match:
                    font = fonts[match.group(1).decode()]
                    i += match.end()
                    continue
            if content[i : i + 1] == b"(":
                raw, i = _literal(content, i)
                mapping = cmaps.get(font or -1)
                if mapping:
                    codes = [int.from_bytes(raw[k : k + 2], "big") for k in range(0, len(raw), 2)]
                    lines.append("".join(mapping.get(code, "?") for code in codes))
                else:
                    lines.append(raw.decode("latin-1"))
                continue
            i += 1
        found.append("\n".join(lines))
    return found
