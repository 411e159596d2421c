"""The seam every row leaving in a package passes through.

The package builder knows nothing of fingerprints: it hands each row to an
``Outbound``, which may render it per recipient, order the rows of a part and
add canary records (the leak-tracing room implements the marked one). The
unmarked default leaves rows as they are, for tests and for plans that ask for
no marks.

Rendering is split in two so that it can run in the validating workers: the
``renderer`` is stateless per row once the export key is known (forked workers
inherit it), and ``keep`` records in the main process what the ledger needs of
each rendered row (``render`` is the two in one, for canaries and tests).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

__all__ = ["Outbound", "OutboundFactory", "RowRenderer", "Unmarked", "unmarked"]

RowRenderer = Callable[[Mapping[str, Any], str], tuple[dict[str, Any], Any]]
"""(row, row key) -> (the row as the recipient receives it, what ``keep`` needs of it)."""


class Outbound(Protocol):
    """Renders the rows of one package; its ``state`` is kept for a resumed run."""

    def render(self, row: Mapping[str, Any], *, row_key: str) -> dict[str, Any]:
        """The row as this recipient receives it (same meaning, maybe other bytes)."""
        ...

    def renderer(self) -> RowRenderer:
        """``render`` without its bookkeeping: pure per row, safe in a forked worker."""
        ...

    def keep(self, row_key: str, lab: str, kept: Any) -> None:
        """Record what the renderer returned for one row (in the main process, in order)."""
        ...

    def order(self, row_keys: Sequence[str]) -> list[int]:
        """Positions of the rows of one part in the order they are written."""
        ...

    def canaries(self, part: int, records: int) -> list[tuple[str, dict[str, Any]]]:
        """(row key, row) of the canary records to mix into part ``part``."""
        ...

    def sealed_list(self) -> bytes:
        """What the recipient's importer needs to drop the canaries (JSON, then age)."""
        ...

    def finish(self, exported: Sequence[str]) -> None:
        """Record the export (ledger) once every row has left."""
        ...

    def to_state(self) -> dict[str, Any]:
        """What a resumed run needs (keys, canaries so far); the builder keeps it sealed.

        Whatever ``render`` accumulates per row need not be in it: a resumed run
        renders the rows of finished parts again, in order, before going on.
        """
        ...


OutboundFactory = Callable[[dict[str, Any] | None], Outbound]
"""Makes the Outbound of a package: fresh (None) or from the state of an interrupted run."""


class Unmarked:
    """No fingerprint, no canary: rows leave as they are, in source order."""

    def render(self, row: Mapping[str, Any], *, row_key: str) -> dict[str, Any]:
        return dict(row)

    def renderer(self) -> RowRenderer:
        return _as_is

    def keep(self, row_key: str, lab: str, kept: Any) -> None:
        return None

    def order(self, row_keys: Sequence[str]) -> list[int]:
        return list(range(len(row_keys)))

    def canaries(self, part: int, records: int) -> list[tuple[str, dict[str, Any]]]:
        return []

    def sealed_list(self) -> bytes:
        return b"[]"

    def finish(self, exported: Sequence[str]) -> None:
        return None

    def to_state(self) -> dict[str, Any]:
        return {}


def _as_is(row: Mapping[str, Any], row_key: str) -> tuple[dict[str, Any], Any]:
    return dict(row), None


def unmarked(state: dict[str, Any] | None) -> Outbound:
    """The factory of unmarked packages."""
    return Unmarked()
