"""Found rows -> our patients, through the blind indexes only (nothing is decrypted).

Each identifying value of a row is looked up; the patient supported by the most
distinct indexes wins, ties are left unidentified. Digests are 32-bit, so a
single-index match may be a coincidence; ``indexes`` says which indexes
agreed, and canary evidence weighs each hit by the chance of such a coincidence.
Every row is kept, duplicates of a patient included: each row is evidence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from etanche.leak.trace._identity import row_identity
from etanche.leak.trace._observe import FoundRow, Observation
from etanche.vault import Vault

__all__ = [
    "IdentifiedRow",
    "Identifier",
    "MemoryIdentifier",
    "VaultIdentifier",
    "identify_rows",
]

_BATCH = 500


@dataclass(frozen=True, slots=True)
class IdentifiedRow:
    """A found row: our patient's pseudonymous id if the vault knows it, and its tokens.

    Tokens are keyed digests of the row's identifying values (``Identifier.token``):
    ledger entries of packages whose rows are not vault patients (a migration
    from a legacy source) recognise their rows by them.
    """

    position: int
    patient_id: str | None
    support: int
    marks: tuple[Observation, ...]
    tokens: tuple[str, ...] = ()
    indexes: tuple[str, ...] = ()  # the indexes that found ``patient_id``


class Identifier(Protocol):
    """Looks normalised values up: (index, value) -> patient ids holding it."""

    def lookup(self, values: Iterable[tuple[str, str]]) -> Mapping[tuple[str, str], set[str]]: ...

    def token(self, index: str, normalised: str) -> str:
        """A keyed token of one identifying value (what the ledger keeps)."""
        ...


class VaultIdentifier:
    """Through the vault's blind-index table: digests only, no key is unwrapped."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def token(self, index: str, normalised: str) -> str:
        return f"{index}:{self._vault.index_digest(index, normalised).hex()}"

    def lookup(self, values: Iterable[tuple[str, str]]) -> dict[tuple[str, str], set[str]]:
        by_digest: dict[tuple[str, bytes], tuple[str, str]] = {}
        for name, value in set(values):
            by_digest[(name, self._vault.index_digest(name, value))] = (name, value)
        found: dict[tuple[str, str], set[str]] = {}
        by_name: dict[str, list[bytes]] = {}
        for name, digest in by_digest:
            by_name.setdefault(name, []).append(digest)
        for name, digests in by_name.items():
            for digest, pid, _ in self._vault.patients_by_digest(name, digests):
                key = by_digest.get((name, digest))
                if key is not None:
                    found.setdefault(key, set()).add(pid)
        return found


class MemoryIdentifier:
    """An in-memory index of canonical rows (tests, benchmarks)."""

    def __init__(self, rows: Mapping[str, Mapping[str, str]]) -> None:
        self._index: dict[tuple[str, str], set[str]] = {}
        for pid, fields in rows.items():
            for key in row_identity(fields):
                self._index.setdefault(key, set()).add(pid)

    def lookup(self, values: Iterable[tuple[str, str]]) -> dict[tuple[str, str], set[str]]:
        return {key: self._index[key] for key in set(values) if key in self._index}

    def token(self, index: str, normalised: str) -> str:
        return f"{index}:{normalised}"


def _order(obs: Observation) -> tuple[str, str, int, int]:
    return obs.family, obs.canonical, obs.choice, obs.k


def identify_rows(
    rows: Sequence[FoundRow], identifier: Identifier, *, tokens: bool = False
) -> list[IdentifiedRow]:
    """Rows in file order, every row (a patient's several rows included).

    Without ``tokens`` only rows the vault recognises are kept; with it, every
    row with an identifying value is kept (with its tokens) for ledger entries
    that recognise rows themselves.
    """
    found = identifier.lookup(v for row in rows for v in row.identity)
    out: list[IdentifiedRow] = []
    for row in rows:
        votes: Counter[str] = Counter()
        voters: dict[str, list[str]] = {}
        for name in dict.fromkeys(name for name, _ in row.identity):
            holders: set[str] = set()
            for key in row.identity:
                if key[0] == name:
                    holders |= found.get(key, set())
            votes.update(holders)
            for holder in holders:
                voters.setdefault(holder, []).append(name)
        ranked = votes.most_common(2)
        pid: str | None = None
        support = 0
        if ranked and not (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
            pid, support = ranked[0]  # a tie between two patients leaves the row unknown
        row_tokens = tuple(identifier.token(n, v) for n, v in row.identity) if tokens else ()
        if pid is None and not row_tokens:
            continue
        indexes = tuple(voters.get(pid, ())) if pid else ()
        marks = tuple(sorted(set(row.marks), key=_order))  # one row's writings, as a set
        out.append(IdentifiedRow(row.position, pid, support, marks, row_tokens, indexes))
    return out
