"""`trace` over files: found tables in, observations out, then the in-memory core.

File reading is contract C's (``etanche.exchange.found``); this module only
walks the tables and hands rows to the observer, so scoring never touches I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from etanche.exchange.found import read_tables
from etanche.leak.trace._identify import Identifier, VaultIdentifier, identify_rows
from etanche.leak.trace._ledger import LedgerEntry
from etanche.leak.trace._observe import FoundRow, map_columns, observe_rows
from etanche.leak.trace._score import ExportModel, TraceResult, attribute
from etanche.vault import Vault

__all__ = ["FileTrace", "model_of", "observe_file", "trace_file"]


@dataclass(frozen=True)
class FileTrace:
    """The trace of one found file (all its tables, in reading order)."""

    path: str
    tables: tuple[str, ...]
    result: TraceResult


def observe_file(path: Path) -> tuple[list[FoundRow], list[str]]:
    """Observations of every row of every table of ``path``, and the table names."""
    rows: list[FoundRow] = []
    names: list[str] = []
    for table in read_tables(path):
        names.append(table.name)
        mapping = map_columns(table.columns)
        for batch in table.batches(20_000):
            rows.extend(observe_rows(table.columns, batch, mapping=mapping, start=len(rows)))
    return rows, names


def model_of(entry: LedgerEntry) -> ExportModel:
    by_token = None
    if entry.identities:
        by_token = {t: key for key, tokens in entry.identities.items() for t in tokens}
    return ExportModel(
        export_id=entry.export_id,
        recipient=entry.recipient,
        mark=entry.mark,
        rows=frozenset(entry.rows),
        canaries=frozenset(entry.canaries),
        created_at=entry.created_at,
        by_token=by_token,
    )


def trace_file(
    path: Path,
    entries: Sequence[LedgerEntry],
    *,
    vault: Vault | None = None,
    identifier: Identifier | None = None,
) -> FileTrace:
    """Score every ledger entry against one found file."""
    if identifier is None:
        if vault is None:
            raise ValueError("trace_file needs a vault or an identifier")
        identifier = VaultIdentifier(vault)
    found, names = observe_file(path)
    tokens = any(e.identities for e in entries)
    identified = identify_rows(found, identifier, tokens=tokens)
    result = attribute(identified, [model_of(e) for e in entries], found_rows=len(found))
    return FileTrace(str(path), tuple(names), result)
