"""Exports, scans and traces as people run them: decided once, audited once, here.

``export`` (migration operator, ``export.create``, see ``_exports``) writes the
lab of an approved export plan, marked and age-encrypted, on the service's
host; ``match`` (DPO, ``leak.scan``) counts our patients among the
identifiers of a scan made where the found files are; ``trace`` (DPO,
``leak.trace``) reads found files on the service's host and names their source.
Identifiers and paths are never written to an audit event or a log.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from etanche.access import Action
from etanche.audit import DetailValue, Outcome
from etanche.errors import UsageError
from etanche.leak.trace import Ledger
from etanche.leak.trace._files import FileTrace, trace_file
from etanche.service._exports import ExportOperations

__all__ = ["LeakService"]

_T = TypeVar("_T")


class LeakService(ExportOperations):
    """One person's exports, scans and traces on one vault session."""

    # -- scan --vault -------------------------------------------------------------------
    def match(
        self,
        identifiers: Sequence[Sequence[str | None]],
        *,
        files: int,
        tables: int,
        rows: int,
    ) -> dict[str, int]:
        """Our patients per lab among a scan's normalised identifiers (blind index only).

        No compartment key is unwrapped; the matched ids stay here.
        """
        action = Action.LEAK_SCAN
        details: dict[str, DetailValue] = {"files": files}
        self._decide(action, "leak", None, details)
        from etanche.leak.scan import match_identifiers, per_lab

        matched = self._run(action, details, lambda: match_identifiers(self.vault, identifiers))
        counts = {lab: len(ids) for lab, ids in sorted(per_lab(matched).items())}
        details.update(rows=rows, tables=tables, matched=len(matched), labs=len(counts))
        self._record(action, Outcome.OK, details)
        return counts

    # -- trace ----------------------------------------------------------------------------
    def trace(self, paths: Sequence[str]) -> list[FileTrace]:
        """Score every ledger entry against found files read on this host.

        Blind indexes and the ledger only: no compartment key is unwrapped.
        """
        action = Action.LEAK_TRACE
        details: dict[str, DetailValue] = {"files": len(paths)}
        self._decide(action, "leak", None, details)

        def work() -> tuple[int, list[FileTrace]]:
            found = [self._found(p) for p in paths]
            ledger = Ledger(self.vault)
            ledger.purge_expired()
            entries = ledger.entries()
            return len(entries), [trace_file(p, entries, vault=self.vault) for p in found]

        scored, traces = self._run(action, details, work)
        details.update(
            exports_scored=scored,
            rows=sum(t.result.found_rows for t in traces),
            identified=sum(t.result.identified for t in traces),
            accused=",".join(s.export_id for t in traces for s in t.result.sources) or None,
        )
        self._record(action, Outcome.OK, details)
        return traces

    def _found(self, given: str) -> Path:
        """A found file or folder: absolute, existing, and not the vault's own files."""
        path = _absolute(given, "trace")
        if not path.exists():
            raise UsageError(f"trace: {given}: no such file or folder on the service's host")
        home = self.vault.location.directory
        if home is not None:
            resolved, vault_dir = path.resolve(), Path(home).resolve()
            if resolved == vault_dir or vault_dir in resolved.parents:
                raise UsageError(f"trace: {given}: inside the vault's folder; copy it out first")
        return path

    # -- internals --------------------------------------------------------------------------


def _absolute(given: str, what: str) -> Path:
    path = Path(given)
    if not path.is_absolute():
        raise UsageError(f"{what}: {given}: give an absolute path on the service's host")
    return path
