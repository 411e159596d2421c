"""Revisions of encrypted values: what each write leaves in the audit log, and the check.

Every write of a compartment (add, update, erase, re-encryption) bumps its
revision, which the associated data binds, and yields a ``Write``: table, row
id, compartment, revision and the SHA-256 of the ciphertext (None when NULL
was written: an erasure). The service logs them; ``check`` compares what the
tables hold now with each value's last logged write, so a ciphertext written
back from an old backup, or a value set to NULL, is reported by row, never by
content. Nothing here needs a key.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from etanche.crypto import ciphertext_digest
from etanche.errors import IntegrityError
from etanche.vault._schema import patients

TABLE = "patients"
COMPARTMENTS = ("admin", "clinical")
_SHORT = {"admin": "a", "clinical": "c"}
_LONG = {v: k for k, v in _SHORT.items()}
_NULL = "-"
_STREAM_ROWS = 5_000
_DIGEST_BYTES = 32


@dataclass(frozen=True, slots=True)
class Write:
    """One value written: where, which revision, and the hash of what was stored."""

    row_id: str
    compartment: str
    revision: int
    digest: bytes | None  # SHA-256 of the ciphertext; None: NULL written (erased)


@dataclass(frozen=True, slots=True)
class WriteBatch:
    """The writes of one commit, encoded compactly for one audit event."""

    table: str
    count: int
    encoded: str


Journal = Callable[[WriteBatch], None]


@dataclass(frozen=True, slots=True)
class Finding:
    """A value whose stored state is not its last logged write (no personal value)."""

    table: str
    row_id: str
    compartment: str
    problem: str

    def __str__(self) -> str:
        return f"{self.table} {self.row_id} {self.compartment}: {self.problem}"


def writes_of(row_id: str, values: Iterable[tuple[str, int, bytes | None]]) -> list[Write]:
    """The writes of one row: (compartment, revision, ciphertext or None) each."""
    return [
        Write(row_id, c, rev, None if blob is None else ciphertext_digest(blob))
        for c, rev, blob in values
    ]


def encode(writes: Sequence[Write]) -> WriteBatch:
    """``row,c,revision,digest`` joined by ``;`` (digest base64url, ``-`` for NULL)."""
    parts = [
        f"{w.row_id},{_SHORT[w.compartment]},{w.revision},"
        + (_NULL if w.digest is None else base64.urlsafe_b64encode(w.digest).decode().rstrip("="))
        for w in writes
    ]
    return WriteBatch(TABLE, len(parts), ";".join(parts))


def decode(encoded: str) -> Iterator[Write]:
    """The writes of one logged batch; a malformed record is an integrity error."""
    if not encoded:
        return
    for part in encoded.split(";"):
        try:
            row_id, short, revision, digest = part.split(",")
            yield Write(row_id, _LONG[short], int(revision), _digest(digest))
        except (ValueError, KeyError):
            raise IntegrityError("audit log: a vault write record is malformed") from None


def _digest(text: str) -> bytes | None:
    if text == _NULL:
        return None
    raw = base64.b64decode(text + "=", altchars=b"-_", validate=True)
    if len(raw) != _DIGEST_BYTES:
        raise ValueError("not a SHA-256 digest")
    return raw


class Ledger:
    """The last logged write of every value, built from the log in order."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], tuple[int, bytes | None]] = {}

    def add(self, writes: Iterable[Write]) -> None:
        last = self._last
        for w in writes:
            last[(w.row_id, w.compartment)] = (w.revision, w.digest)

    def has(self, row_id: str, compartment: str) -> bool:
        return (row_id, compartment) in self._last

    def __len__(self) -> int:
        return len(self._last)

    def check(self, conn: Connection) -> tuple[int, list[Finding]]:
        """(values checked, findings): every stored value against its last logged write."""
        seen: set[tuple[str, str]] = set()
        findings: list[Finding] = []
        checked = 0
        for row_id, compartment, revision, blob in _stored(conn):
            checked += 1
            key = (row_id, compartment)
            seen.add(key)
            problem = _problem(self._last.get(key), revision, blob)
            if problem is not None:
                findings.append(Finding(TABLE, row_id, compartment, problem))
        for row_id, compartment in sorted(self._last.keys() - seen):
            findings.append(Finding(TABLE, row_id, compartment, "row missing (deleted)"))
        return checked, findings

    def unlogged(self, conn: Connection) -> Iterator[Write]:
        """Writes for the stored values that have none logged (adoption of older rows)."""
        for row_id, compartment, revision, blob in _stored(conn):
            if blob is not None and (row_id, compartment) not in self._last:
                yield from writes_of(row_id, [(compartment, revision, blob)])


def _stored(conn: Connection) -> Iterator[tuple[str, str, int, bytes | None]]:
    query = select(
        patients.c.id,
        patients.c.admin_revision,
        patients.c.admin,
        patients.c.clinical_revision,
        patients.c.clinical,
    ).order_by(patients.c.id)
    for row in conn.execute(query.execution_options(yield_per=_STREAM_ROWS)):
        yield row.id, "admin", row.admin_revision, _bytes(row.admin)
        yield row.id, "clinical", row.clinical_revision, _bytes(row.clinical)


def _bytes(value: bytes | memoryview | None) -> bytes | None:
    return None if value is None else bytes(value)


def _problem(
    logged: tuple[int, bytes | None] | None, revision: int, blob: bytes | None
) -> str | None:
    if logged is None:
        return None if blob is None else f"revision {revision} stored, no write logged"
    logged_revision, logged_digest = logged
    if blob is None:
        if logged_digest is None:
            return None if revision == logged_revision else _revisions(logged_revision, revision)
        return f"NULL stored where revision {logged_revision} was written"
    if logged_digest is None:
        return f"a value stored where revision {logged_revision} erased it"
    if ciphertext_digest(blob) != logged_digest:
        if revision < logged_revision:
            return f"rolled back: revision {revision} stored, {logged_revision} written last"
        return f"ciphertext is not the last logged write (revision {logged_revision})"
    if revision != logged_revision:
        return _revisions(logged_revision, revision)
    return None


def _revisions(logged: int, stored: int) -> str:
    return f"revision {stored} stored, {logged} written last"
