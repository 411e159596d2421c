"""SQL dumps (mysqldump, pg_dump --inserts, SQLite .dump): one table per INSERT target.

Only the data matters: column names come from the INSERT's column list or from
the table's CREATE TABLE; values are read from the VALUES tuples (strings with
'' or backslash escapes, numbers, NULL). Statements are cut one at a time from
a text stream, so a dump larger than memory is fine.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

from etanche.errors import SourceError
from etanche.exchange.found._source import Source
from etanche.exchange.found._table import FoundTable

__all__ = ["looks_like_sql", "sql_tables"]

_BLOCK = 1 << 20
_STATEMENT = re.compile(r"""(?:[^;'"`]+|'(?:[^'\\]|\\.|'')*'|"[^"]*"|`[^`]*`)*;""", re.S)
_IDENT = r"""(?:`[^`]+`|"[^"]+"|\[[^\]]+\]|[\w$]+)"""
_NAME = rf"({_IDENT}(?:\s*\.\s*{_IDENT})*)"
_INSERT = re.compile(
    rf"\s*INSERT\s+(?:IGNORE\s+)?INTO\s+{_NAME}\s*(?:\(([^)]*)\))?\s*VALUES\s*", re.I | re.S
)
_CREATE = re.compile(
    rf"\s*CREATE\s+(?:TEMPORARY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?{_NAME}\s*\((.*)\)",
    re.I | re.S,
)
_TOKEN = re.compile(
    r"""\s*(?:'((?:[^'\\]|\\.|'')*)'|(NULL)\b|([^,()\s']+)|([(),;]))""", re.I | re.S
)
_CONSTRAINT = re.compile(r"(PRIMARY|UNIQUE|KEY|INDEX|CONSTRAINT|FOREIGN|CHECK|FULLTEXT)\b", re.I)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "0": "\0", "Z": "\x1a"}
_SQL_START = re.compile(
    r"^\s*(--|/\*|#|(CREATE|INSERT|SET|DROP|LOCK|USE|BEGIN|PRAGMA|START)\b)", re.I | re.M
)


def looks_like_sql(head: str) -> bool:
    return bool(_SQL_START.match(head)) and re.search(r"\bINSERT\s+INTO\b", head, re.I) is not None


def _unquote(name: str) -> str:
    parts = [p.strip().strip('`"[]') for p in re.split(r"\s*\.\s*(?=[`\"\[\w$])", name)]
    return parts[-1]


def _split_columns(text: str) -> list[str]:
    depth, current, out = 0, "", []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            out.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        out.append(current)
    return out


def _statements(source: Source, encoding: str) -> Iterator[str]:
    with source.open() as raw, io.TextIOWrapper(raw, encoding=encoding, errors="replace") as text:
        buffer = ""
        while True:
            block = text.read(_BLOCK)
            buffer += block
            position = 0
            while (match := _STATEMENT.match(buffer, position)) is not None:
                position = match.end()
                yield match.group(0)
            buffer = buffer[position:]
            if not block:
                break
        if buffer.strip() and re.search(r"\bINSERT\b", buffer, re.I):
            yield buffer + ";"


def _strip_comments(statement: str) -> str:
    return re.sub(r"^\s*(?:--[^\n]*\n|#[^\n]*\n|/\*.*?\*/;?)+", "", statement, flags=re.S)


def _value(match: re.Match[str]) -> str:
    quoted, null, bare = match.group(1), match.group(2), match.group(3)
    if quoted is not None:
        if "\\" in quoted:
            quoted = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), quoted)
        return quoted.replace("''", "'")
    if null is not None:
        return ""
    return bare or ""


def _tuples(body: str, where: str) -> Iterator[list[str]]:
    row: list[str] | None = None
    for match in _TOKEN.finditer(body):
        punct = match.group(4)
        if punct == "(":
            row = []
        elif punct == ")":
            if row is None:
                raise SourceError(f"{where}: malformed VALUES list")
            yield row
            row = None
        elif punct in {",", ";"}:
            continue
        elif row is not None:
            row.append(_value(match))


def _scan(source: Source, encoding: str) -> dict[str, list[str] | None]:
    """Table name -> column names (None: unknown yet) for every INSERT target."""
    created: dict[str, list[str]] = {}
    targets: dict[str, list[str] | None] = {}
    for statement in _statements(source, encoding):
        statement = _strip_comments(statement)
        if (create := _CREATE.match(statement)) is not None:
            names = [
                _unquote(part.split()[0])
                for part in _split_columns(create.group(2))
                if part.split() and not _CONSTRAINT.match(part.strip())
            ]
            created[_unquote(create.group(1))] = names
        elif (insert := _INSERT.match(statement)) is not None:
            table = _unquote(insert.group(1))
            listed = insert.group(2)
            if listed:
                targets.setdefault(table, [_unquote(c) for c in _split_columns(listed)])
            else:
                targets.setdefault(table, None)
    return {t: cols if cols is not None else created.get(t) for t, cols in targets.items()}


def sql_tables(source: Source, encoding: str) -> Iterator[FoundTable]:
    tables = _scan(source, encoding)
    if not tables:
        raise SourceError(f"{source.name}: no INSERT statement found")
    for table, known in tables.items():
        columns = known or _first_width(source, encoding, table)

        def batches(size: int, table: str = table) -> Iterator[list[list[str]]]:
            batch: list[list[str]] = []
            for number, statement in enumerate(_statements(source, encoding), start=1):
                insert = _INSERT.match(_strip_comments(statement))
                if insert is None or _unquote(insert.group(1)) != table:
                    continue
                body = _strip_comments(statement)[insert.end() :]
                for row in _tuples(body, f"{source.name}: statement {number}"):
                    batch.append(row)
                    if len(batch) >= size:
                        yield batch
                        batch = []
            if batch:
                yield batch

        yield FoundTable(f"{source.name}:{table}", columns, batches, fmt="sql", size=source.size)


def _first_width(source: Source, encoding: str, table: str) -> list[str]:
    for statement in _statements(source, encoding):
        insert = _INSERT.match(_strip_comments(statement))
        if insert is not None and _unquote(insert.group(1)) == table:
            body = _strip_comments(statement)[insert.end() :]
            for row in _tuples(body, source.name):
                return [f"column {i}" for i in range(1, len(row) + 1)]
    return ["column 1"]
