"""The export ledger: who received which rows, marked how (sealed documents, kind "export").

An entry keeps what trace needs years later and nothing it does not: the
export key (sealed with the document), the marks the recipient tolerated, the
canaries' and the rows' pseudonymous ids, recipient, purpose and time. Entries
expire on the date the DPO set; expired entries are deleted by every export
and trace command (``purge_expired``).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from etanche.errors import UsageError
from etanche.leak.trace._mark import ExportMark
from etanche.vault import Document, Documents, Vault

__all__ = ["KIND", "Ledger", "LedgerEntry", "record_export"]

KIND = "export"
ACTIVE = "active"
MAX_RETENTION_DAYS = 36_500


@dataclass(frozen=True)
class LedgerEntry:
    """One export as the ledger remembers it."""

    export_id: str
    recipient: str
    purpose: str
    lab_id: str
    format: str
    created_at: datetime
    expires_at: datetime | None
    mark: ExportMark
    rows: tuple[str, ...]
    canaries: tuple[str, ...]
    fields: tuple[str, ...] = ()
    identities: Mapping[str, Sequence[str]] | None = None  # row key -> identity tokens

    def body(self) -> dict[str, Any]:
        return {
            "export_id": self.export_id,
            "recipient": self.recipient,
            "purpose": self.purpose,
            "lab": self.lab_id,
            "format": self.format,
            "created_at": self.created_at.isoformat(),
            "key": base64.b64encode(self.mark.key).decode("ascii"),
            "marks": sorted(self.mark.marks),
            "rows": list(self.rows),
            "canaries": list(self.canaries),
            "fields": list(self.fields),
            "identities": {k: list(v) for k, v in (self.identities or {}).items()},
        }

    @classmethod
    def from_document(cls, doc: Document) -> LedgerEntry:
        b = doc.body
        mark = ExportMark(str(b["export_id"]), base64.b64decode(b["key"]), frozenset(b["marks"]))
        return cls(
            export_id=mark.export_id,
            recipient=str(b["recipient"]),
            purpose=str(b["purpose"]),
            lab_id=str(b["lab"]),
            format=str(b["format"]),
            created_at=datetime.fromisoformat(b["created_at"]),
            expires_at=doc.expires_at,
            mark=mark,
            rows=tuple(b["rows"]),
            canaries=tuple(b["canaries"]),
            fields=tuple(b.get("fields", ())),
            identities=b.get("identities") or None,
        )


class Ledger:
    """The export entries of one vault."""

    def __init__(self, vault: Vault) -> None:
        self._docs = Documents(vault)

    def record(self, entry: LedgerEntry) -> None:
        self._docs.put(
            KIND, entry.export_id, entry.body(), state=ACTIVE, expires_at=entry.expires_at
        )

    def entries(self) -> list[LedgerEntry]:
        """Every live entry, oldest first (expired ones are purged first)."""
        self.purge_expired()
        return [LedgerEntry.from_document(d) for d in self._docs.list(KIND)]

    def purge_expired(self, now: datetime | None = None) -> int:
        """Delete entries past their retention; how many went."""
        gone = [doc_id for kind, doc_id in self._docs.expired(now) if kind == KIND]
        for doc_id in gone:
            self._docs.delete(KIND, doc_id)
        return len(gone)


def record_export(
    vault: Vault,
    mark: ExportMark,
    *,
    recipient: str,
    purpose: str,
    lab_id: str,
    fmt: str,
    rows: Sequence[str],
    canaries: Sequence[str],
    retention_days: int,
    fields: Sequence[str] = (),
    identities: Mapping[str, Sequence[str]] | None = None,
) -> LedgerEntry:
    """Write the ledger entry of an export or a migration package; returns it.

    ``rows`` are the row keys the rows were marked under. When they are not
    vault patient ids (a package from a legacy source), ``identities`` gives
    each row key's identity tokens (``VaultIdentifier.token``) so that trace
    recognises the rows without the vault knowing the patients.
    """
    if not 1 <= retention_days <= MAX_RETENTION_DAYS:
        raise UsageError(f"retention: between 1 and {MAX_RETENTION_DAYS} days")
    if not recipient.strip():
        raise UsageError("recipient: a name is required")
    now = datetime.now(UTC)
    entry = LedgerEntry(
        export_id=mark.export_id,
        recipient=recipient.strip(),
        purpose=purpose,
        lab_id=lab_id,
        format=fmt,
        created_at=now,
        expires_at=now + timedelta(days=retention_days),
        mark=mark,
        rows=tuple(rows),
        canaries=tuple(canaries),
        fields=tuple(fields),
        identities=identities,
    )
    Ledger(vault).record(entry)
    return entry
