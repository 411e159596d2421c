"""SQL dumps (mysqldump, pg_dump, SQLite .dump): one table per INSERT or COPY target.

Only the data matters: column names come from the INSERT's or COPY's column list
or from the table's CREATE TABLE; values are read from the VALUES tuples
(strings with '' or backslash escapes, numbers, NULL) and from ``COPY … FROM
stdin`` blocks (tab-separated, ``\\N`` for NULL, ended by ``\\.``).

A found dump is hostile input: it is read by a hand-written tokenizer that looks
at every character a bounded number of times, block by block, so time is linear
in the size of the dump and memory bounded by the largest kept cell (a
backtracking regular expression over a statement took hours on one long
unquoted run). The only regular expressions used find one character of a class
or match a bounded prefix.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import TextIO

from etanche.errors import SourceError
from etanche.exchange.found._source import Source
from etanche.exchange.found._table import FoundTable

__all__ = ["looks_like_sql", "sql_tables"]

_BLOCK = 1 << 20  # characters read at a time
_MAX_TOKEN = 16 << 20  # characters kept of one string or word; the rest is skipped
_MAX_CELLS = 100_000  # cells kept of one tuple or column list
_MAX_PARTS = 1_000  # tokens kept of one cell (e.g. a function call)

# Token kinds.
_WORD, _STRING, _QUOTED, _BACKTICK, _PUNCT = range(5)
_Token = tuple[int, str]
# Events of a dump: ("create" | "target" | "row", table, names or cells).
_Event = tuple[str, str, list[str]]

# Whitespace then, maybe, punctuation or a word that cannot start a comment,
# a quote or a dollar quote: one pass, no nested quantifier.
_NEXT = re.compile(r"""(\s*)(?:([(),;])|([^\s(),;'"`\-/#$][^\s(),;'"`]*))?""")
_WORD_REST = re.compile(r"""[^\s(),;'"`]*""")
# A simple cell and the "," or ")" after it, whole in the current block: a string
# without quote or backslash inside, or a bare word. Anything else (and a cell cut
# by the end of the block) fails to match and goes through the tokenizer.
_CELL = re.compile(
    r"""\s*(?:'([^'\\]*)'|([^\s(),;'"`\-/#$][^\s(),;'"`]*|-(?!-)[^\s(),;'"`]*))\s*([,)])"""
)
_DOLLAR = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]{0,62})?\$")
_STOP = {
    ("'", True): re.compile(r"['\\]"),
    ("'", False): re.compile(r"'"),
    ('"', True): re.compile(r'["\\]'),
    ('"', False): re.compile(r'"'),
    ("`", False): re.compile(r"`"),
}
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "0": "\0", "Z": "\x1a", "b": "\b"}
_COPY_ESCAPE = re.compile(r"\\(?:x([0-9A-Fa-f]{1,2})|([0-7]{1,3})|(.))", re.S)
_BYTE = re.compile("[\udc80-\udcff]")
_COPY_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v"}

_INSERT_WORDS = {"LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE", "OR", "REPLACE"}
_INSERT_WORDS |= {"ROLLBACK", "ABORT", "FAIL"}
_CREATE_WORDS = {"TEMPORARY", "TEMP", "UNLOGGED", "GLOBAL", "LOCAL", "OR", "REPLACE"}
_NAME_STOPS = {"VALUES", "VALUE", "SELECT", "DEFAULT", "SET", "FROM", "AS", "IF", "LIKE"}
_CONSTRAINTS = {"PRIMARY", "UNIQUE", "KEY", "INDEX", "CONSTRAINT", "FOREIGN", "CHECK"}
_CONSTRAINTS |= {"FULLTEXT", "SPATIAL", "EXCLUDE", "LIKE", "PERIOD"}

_SQL_START = re.compile(
    r"\s*(?:--|/\*|#|(?:CREATE|INSERT|REPLACE|COPY|SET|DROP|LOCK|USE|BEGIN|PRAGMA|START)\b)",
    re.I,
)
# Data in the first block, or the banner of a dump tool: pg_dump writes every
# CREATE TABLE before the first COPY, often more than a block of them.
_DATA_STATEMENT = re.compile(
    r"\b(?:INSERT|REPLACE)\b[^;(]{0,200}?\bINTO\b|\bCOPY\b[^;\n]{0,2000}?\bFROM\s+stdin\b"
    r"|^-- (?:PostgreSQL database|MySQL|MariaDB) dump\b|^PRAGMA foreign_keys=OFF;",
    re.I | re.M,
)


def looks_like_sql(head: str) -> bool:
    """A dump starts like SQL and holds data (INSERT or COPY) or a dump tool's banner."""
    return bool(_SQL_START.match(head)) and _DATA_STATEMENT.search(head) is not None


class _Text:
    """Pieces of one token, joined once; beyond ``_MAX_TOKEN`` they are dropped."""

    __slots__ = ("pieces", "size")

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.size = 0

    def add(self, piece: str) -> None:
        if self.size < _MAX_TOKEN:
            self.pieces.append(piece)
            self.size += len(piece)

    def text(self) -> str:
        return "".join(self.pieces)


class _Lexer:
    """SQL tokens of a text stream read block by block.

    Invariant that keeps it linear: when a block is appended, what is left of
    the previous one is at most a few characters (a token running across blocks
    is kept as pieces), so no character is scanned more than a bounded number of
    times. ``backslash`` says whether backslash escapes in quoted strings (MySQL,
    and PostgreSQL E'' strings) or is an ordinary character (standard SQL).
    """

    def __init__(self, text: TextIO) -> None:
        self._text = text
        self._buf = ""
        self._pos = 0
        self._eof = False
        self.backslash = True

    def _more(self) -> bool:
        if self._eof:
            return False
        block = self._text.read(_BLOCK)
        if not block:
            self._eof = True
            return False
        self._buf = self._buf[self._pos :] + block
        self._pos = 0
        return True

    def _ensure(self, count: int) -> bool:
        while len(self._buf) - self._pos < count:
            if not self._more():
                return False
        return True

    def next(self) -> _Token | None:
        """The next token (comments skipped), None at the end of the stream."""
        while True:
            buf, pos = self._buf, self._pos
            if pos >= len(buf):
                if not self._more():
                    return None
                continue
            match = _NEXT.match(buf, pos)
            assert match is not None  # the pattern matches the empty string
            end = match.end()
            if (punct := match.group(2)) is not None:
                self._pos = end
                return _PUNCT, punct
            if (word := match.group(3)) is not None:
                self._pos = end
                return self._word(word, end == len(buf))
            self._pos = end
            if end == len(buf):
                continue
            char = buf[end]
            if char in "'\"`":
                self._pos = end + 1
                kind = _STRING if char == "'" else _QUOTED if char == '"' else _BACKTICK
                return kind, self._quoted(char, self.backslash and char != "`")
            if char == "-" or char == "/":
                if self._ensure(2) and self._buf[self._pos : self._pos + 2] in ("--", "/*"):
                    self._skip_comment(self._buf[self._pos + 1])
                    continue
            elif char == "#":
                self._skip_comment("-")
                continue
            elif char == "$":
                self._ensure(66)
                if (dollar := _DOLLAR.match(self._buf, self._pos)) is not None:
                    self._pos = dollar.end()
                    return _STRING, self._until(dollar.group(0))
            rest = _WORD_REST.match(self._buf, self._pos + 1)
            assert rest is not None
            self._pos = rest.end()
            return self._word(char + rest.group(0), self._pos == len(self._buf))

    def _word(self, start: str, at_end: bool) -> _Token:
        """A bare word, continued across blocks; E'…' is a string with escapes."""
        if at_end and not self._eof:
            text = _Text()
            text.add(start)
            while self._more():
                rest = _WORD_REST.match(self._buf, self._pos)
                assert rest is not None
                text.add(rest.group(0))
                self._pos = rest.end()
                if self._pos < len(self._buf):
                    break
            start = text.text()
        if start in ("E", "e") and self._ensure(1) and self._buf[self._pos] == "'":
            self._pos += 1
            return _STRING, self._quoted("'", True)
        return _WORD, start

    def _quoted(self, quote: str, backslash: bool) -> str:
        """The content of a quoted string or name, the opening quote just read."""
        stop = _STOP[quote, backslash]
        text = _Text()
        while True:
            buf, pos = self._buf, self._pos
            match = stop.search(buf, pos)
            if match is None:
                text.add(buf[pos:])
                self._pos = len(buf)
                if not self._more():
                    return text.text()  # unterminated: the rest of the dump
                continue
            at = match.start()
            text.add(buf[pos:at])
            self._pos = at + 1
            if buf[at] == quote:
                if self._ensure(1) and self._buf[self._pos] == quote:
                    text.add(quote)
                    self._pos += 1
                    continue
                return text.text()
            if not self._ensure(1):
                text.add("\\")
                return text.text()
            char = self._buf[self._pos]
            text.add(_ESCAPES.get(char, char))
            self._pos += 1

    def _until(self, end: str) -> str:
        """Everything up to ``end`` (consumed), e.g. a dollar-quoted body."""
        text = _Text()
        while True:
            buf, pos = self._buf, self._pos
            at = buf.find(end, pos)
            if at >= 0:
                text.add(buf[pos:at])
                self._pos = at + len(end)
                return text.text()
            cut = max(pos, len(buf) - len(end) + 1)
            text.add(buf[pos:cut])
            self._pos = cut
            if not self._more():
                text.add(self._buf[self._pos :])
                self._pos = len(self._buf)
                return text.text()

    def _skip_comment(self, kind: str) -> None:
        """Skips ``--`` or ``#`` (kind "-") to the end of the line, or ``/* … */``."""
        if kind == "*":
            self._pos += 2
            end = "*/"
        else:
            end = "\n"
        while True:
            buf, pos = self._buf, self._pos
            at = buf.find(end, pos)
            if at >= 0:
                self._pos = at + len(end)
                return
            self._pos = max(pos, len(buf) - len(end) + 1)
            if not self._more():
                self._pos = len(self._buf)
                return

    def cells(self, row: list[str]) -> bool:
        """Appends the simple cells starting here (see ``_CELL``); True if ")" ended them.

        A fast path for the bulk of a dump, one match per cell; a failed match
        scans at most one cell, which the tokenizer then reads: still linear.
        """
        buf, pos = self._buf, self._pos
        match = _CELL.match(buf, pos)
        while match is not None:
            quoted, bare, end = match.groups()
            if quoted is None:
                quoted = "" if len(bare) == 4 and bare.upper() == "NULL" else bare
            if len(row) < _MAX_CELLS:
                row.append(quoted)
            pos = match.end()
            if end == ")":
                self._pos = pos
                return True
            match = _CELL.match(buf, pos)
        self._pos = pos
        return False

    def line(self) -> str | None:
        """The rest of the current line (no newline), None at the end of the stream."""
        text = _Text()
        seen = False
        while True:
            buf, pos = self._buf, self._pos
            at = buf.find("\n", pos)
            if at >= 0:
                text.add(buf[pos:at])
                self._pos = at + 1
                return text.text()
            if pos < len(buf):
                seen = True
                text.add(buf[pos:])
            self._pos = len(buf)
            if not self._more():
                return text.text() if seen else None


def _is(token: _Token | None, kind: int, *texts: str) -> bool:
    return token is not None and token[0] == kind and (not texts or token[1].upper() in texts)


def _skip_statement(lexer: _Lexer, token: _Token | None = None) -> None:
    while token is not None or (token := lexer.next()) is not None:
        if token == (_PUNCT, ";"):
            return
        token = None


def _name(lexer: _Lexer, token: _Token | None) -> tuple[str | None, _Token | None]:
    """The last part of a possibly qualified, possibly quoted name; the token after it."""
    last: str | None = None
    while token is not None:
        kind, text = token
        if kind in (_QUOTED, _BACKTICK):
            last = text
        elif kind == _WORD and text.upper() not in _NAME_STOPS:
            parts = [part for part in text.split(".") if part]
            if parts:
                last = parts[-1].strip("[]")
        else:
            break
        token = lexer.next()
    return last, token


def _items(lexer: _Lexer) -> tuple[list[_Token], bool]:
    """First token of every item of a parenthesised list (the "(" just read).

    Also says whether the statement ended inside the list (";" or end of stream).
    """
    firsts: list[_Token] = []
    depth, fresh = 0, True
    while (token := lexer.next()) is not None:
        kind, text = token
        if kind == _PUNCT:
            if text == ";":
                return firsts, True
            if text == "(":
                depth += 1
            elif text == ")":
                if depth == 0:
                    return firsts, False
                depth -= 1
            elif text == "," and depth == 0:
                fresh = True
            continue
        if fresh and depth == 0 and len(firsts) < _MAX_CELLS:
            firsts.append(token)
        fresh = False
    return firsts, True


def _column_name(token: _Token) -> str:
    return token[1].strip("[]") if token[0] == _WORD else token[1]


def _cell(strings: list[str], words: list[str]) -> str:
    if strings:
        return "".join(strings)
    if len(words) == 1:
        word = words[0]
        return "" if len(word) == 4 and word.upper() == "NULL" else word
    return " ".join(words)


def _tuple(lexer: _Lexer) -> tuple[list[str], bool]:
    """Cells of one VALUES tuple (the "(" just read); True if the statement ended in it."""
    row: list[str] = []
    strings: list[str] = []
    words: list[str] = []
    depth = 0
    if lexer.cells(row):
        return row, False
    while (token := lexer.next()) is not None:
        kind, text = token
        if kind == _PUNCT:
            if depth == 0 and text in ",);":
                if len(row) < _MAX_CELLS:
                    row.append(_cell(strings, words))
                if text != ",":
                    return row, text == ";"
                strings, words = [], []
                if lexer.cells(row):
                    return row, False
                continue
            depth += text == "("
            depth -= text == ")"
            if text == ";":
                break
        if len(strings) + len(words) >= _MAX_PARTS:
            continue
        if kind in (_STRING, _QUOTED):
            strings.append(text)
        else:
            words.append(text)
    if strings or words or row:
        row.append(_cell(strings, words))
    return row, True


def _insert(lexer: _Lexer) -> Iterator[_Event]:
    token = lexer.next()
    while _is(token, _WORD, *_INSERT_WORDS):
        token = lexer.next()
    if not _is(token, _WORD, "INTO"):
        return _skip_statement(lexer, token)
    table, token = _name(lexer, lexer.next())
    columns: list[str] = []
    if token == (_PUNCT, "("):
        items, ended = _items(lexer)
        if ended:
            return None
        columns = [_column_name(item) for item in items]
        token = lexer.next()
    if table is None or not _is(token, _WORD, "VALUES", "VALUE"):
        return _skip_statement(lexer, token)
    yield "target", table, columns
    while (token := lexer.next()) is not None:
        if token == (_PUNCT, "("):
            row, ended = _tuple(lexer)
            if row:
                yield "row", table, row
            if ended:
                return None
        elif token != (_PUNCT, ","):
            return _skip_statement(lexer, token)
    return None


def _create(lexer: _Lexer) -> Iterator[_Event]:
    token = lexer.next()
    while _is(token, _WORD, *_CREATE_WORDS):
        token = lexer.next()
    if not _is(token, _WORD, "TABLE"):
        return _skip_statement(lexer, token)
    token = lexer.next()
    if _is(token, _WORD, "IF"):
        for _ in range(3):  # IF NOT EXISTS
            token = lexer.next()
    table, token = _name(lexer, token)
    if table is None or token != (_PUNCT, "("):
        return _skip_statement(lexer, token)
    items, ended = _items(lexer)
    names = [
        _column_name(item)
        for item in items
        if item[0] != _PUNCT and not (item[0] == _WORD and item[1].upper() in _CONSTRAINTS)
    ]
    yield "create", table, names
    if not ended:
        _skip_statement(lexer)
    return None


def _copy_field(field: str) -> str:
    if field == "\\N":
        return ""
    if "\\" not in field:
        return field
    text = _COPY_ESCAPE.sub(_copy_escape, field)
    if _BYTE.search(text) is not None:  # byte escapes: UTF-8 bytes once joined
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


def _copy_escape(match: re.Match[str]) -> str:
    """One COPY escape; \\ooo and \\xhh are bytes, kept as surrogates until decoded."""
    hexa, octal, char = match.groups()
    if hexa is not None or octal is not None:
        byte = int(hexa, 16) if hexa is not None else int(octal, 8) & 0xFF
        return chr(byte) if byte < 0x80 else chr(0xDC00 + byte)
    return _COPY_ESCAPES.get(char, char)


def _copy(lexer: _Lexer) -> Iterator[_Event]:
    """``COPY name (cols) FROM stdin;`` then tab-separated lines up to ``\\.``."""
    table, token = _name(lexer, lexer.next())
    columns: list[str] = []
    if token == (_PUNCT, "("):
        items, ended = _items(lexer)
        if ended:
            return None
        columns = [_column_name(item) for item in items]
        token = lexer.next()
    if table is None or not _is(token, _WORD, "FROM"):
        return _skip_statement(lexer, token)
    token = lexer.next()
    if not _is(token, _WORD, "STDIN"):
        return _skip_statement(lexer, token)
    _skip_statement(lexer)  # options, if any
    yield "target", table, columns
    lexer.line()  # the end of the COPY line
    while (line := lexer.line()) is not None:
        if line.endswith("\r"):
            line = line[:-1]
        if line == "\\.":
            break
        yield "row", table, [_copy_field(field) for field in line.split("\t")]
    return None


def _set(lexer: _Lexer) -> None:
    """PostgreSQL says whether backslash is an escape: standard_conforming_strings."""
    token = lexer.next()
    if not _is(token, _WORD, "STANDARD_CONFORMING_STRINGS"):
        return _skip_statement(lexer, token)
    value = ""
    while (token := lexer.next()) is not None and token != (_PUNCT, ";"):
        value = token[1].lower()
    lexer.backslash = value not in ("on", "true")
    return None


def _events(source: Source, encoding: str) -> Iterator[_Event]:
    """CREATE TABLE columns, INSERT/COPY targets and their rows, in dump order."""
    with source.open() as raw, io.TextIOWrapper(raw, encoding=encoding, errors="replace") as text:
        lexer = _Lexer(text)
        while (token := lexer.next()) is not None:
            if token[0] != _WORD:
                if token != (_PUNCT, ";"):
                    _skip_statement(lexer)
                continue
            keyword = token[1].upper()
            if keyword in ("INSERT", "REPLACE"):
                yield from _insert(lexer)
            elif keyword == "COPY":
                yield from _copy(lexer)
            elif keyword == "CREATE":
                yield from _create(lexer)
            elif keyword == "SET":
                _set(lexer)
            else:
                if keyword == "PRAGMA":  # SQLite: backslash is an ordinary character
                    lexer.backslash = False
                _skip_statement(lexer)


def _scan(source: Source, encoding: str) -> dict[str, list[str]]:
    """Table name -> column names ([]: unknown) for every INSERT or COPY target."""
    created: dict[str, list[str]] = {}
    targets: dict[str, list[str]] = {}
    for kind, table, names in _events(source, encoding):
        if kind == "create":
            created[table] = names
        elif kind == "target" and not targets.get(table):
            targets[table] = names
    return {t: cols or created.get(t, []) for t, cols in targets.items()}


def sql_tables(source: Source, encoding: str) -> Iterator[FoundTable]:
    tables = _scan(source, encoding)
    if not tables:
        raise SourceError(f"{source.name}: no INSERT or COPY data found")
    for table, known in tables.items():
        columns = known or _first_width(source, encoding, table)

        def batches(size: int, table: str = table) -> Iterator[list[list[str]]]:
            batch: list[list[str]] = []
            for kind, name, cells in _events(source, encoding):
                if kind == "row" and name == table:
                    batch.append(cells)
                    if len(batch) >= size:
                        yield batch
                        batch = []
            if batch:
                yield batch

        yield FoundTable(f"{source.name}:{table}", columns, batches, fmt="sql", size=source.size)


def _first_width(source: Source, encoding: str, table: str) -> list[str]:
    for kind, name, cells in _events(source, encoding):
        if kind == "row" and name == table:
            return [f"column {i}" for i in range(1, len(cells) + 1)]
    return ["column 1"]
