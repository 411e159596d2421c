"""Sealed JSON documents of the bulk-output and breach rooms.

Migration plans, package records, deletion certificates, export-ledger entries
and incidents are few, but each holds things that must not sit in clear (scopes,
recipients, keys, pseudonymous patient ids). They share one table: the body is
sealed with the vault's system key and bound to (kind, id), so a body copied
onto another document fails to open. State and expiry stay in clear because the
CLI lists by state and every command shreds what has expired.
"""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, DateTime, Index, LargeBinary, MetaData, String, Table, select

from etanche.errors import RecordNotFound, UsageError

if TYPE_CHECKING:
    from etanche.vault._store import Vault

__all__ = ["Document", "Documents", "documents_table"]

_metadata = MetaData()
documents_table = Table(
    "documents",
    _metadata,
    Column("kind", String(40), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("state", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("body", LargeBinary, nullable=False),
    Index("ix_documents_expiry", "expires_at"),
)


@dataclass(frozen=True, slots=True)
class Document:
    """One opened document."""

    kind: str
    id: str
    state: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    body: dict[str, Any]


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they were stored as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class Documents:
    """Repository of sealed documents over an open vault."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def _row_id(self, kind: str, doc_id: str) -> str:
        return f"{kind}:{doc_id}"

    def put(
        self,
        kind: str,
        doc_id: str,
        body: dict[str, Any],
        *,
        state: str,
        expires_at: datetime | None = None,
    ) -> None:
        """Insert or replace a document (keeps its creation time)."""
        if not kind or not doc_id or len(kind) > 40 or len(doc_id) > 64:
            raise UsageError("document: kind and id must be 1-40 and 1-64 characters")
        now = datetime.now(UTC)
        plain = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        sealed = self._vault.seal_system("documents", self._row_id(kind, doc_id), plain)
        table = documents_table
        key = (table.c.kind == kind) & (table.c.id == doc_id)
        with self._vault.engine.begin() as conn:
            found = conn.execute(select(table.c.created_at).where(key)).first()
            values = {
                "state": state,
                "updated_at": now,
                "expires_at": expires_at,
                "body": sealed,
            }
            if found is None:
                conn.execute(table.insert().values(kind=kind, id=doc_id, created_at=now, **values))
            else:
                conn.execute(table.update().where(key).values(**values))

    def get(self, kind: str, doc_id: str) -> Document:
        """The document, or RecordNotFound naming its kind and id."""
        table = documents_table
        with self._vault.engine.connect() as conn:
            row = conn.execute(
                select(table).where((table.c.kind == kind) & (table.c.id == doc_id))
            ).first()
        if row is None:
            raise RecordNotFound(f"{kind} {doc_id}: no such record")
        return self._open(row)

    def list(self, kind: str, *, state: str | None = None) -> list[Document]:
        """Documents of a kind (optionally in one state), oldest first."""
        table = documents_table
        query = select(table).where(table.c.kind == kind)
        if state is not None:
            query = query.where(table.c.state == state)
        with self._vault.engine.connect() as conn:
            rows = conn.execute(query.order_by(table.c.created_at, table.c.id)).all()
        return [self._open(row) for row in rows]

    def set_state(self, kind: str, doc_id: str, state: str) -> None:
        table = documents_table
        with self._vault.engine.begin() as conn:
            done = conn.execute(
                table.update()
                .where((table.c.kind == kind) & (table.c.id == doc_id))
                .values(state=state, updated_at=datetime.now(UTC))
            )
        if done.rowcount == 0:
            raise RecordNotFound(f"{kind} {doc_id}: no such record")

    def claim(self, kind: str, doc_id: str, expected: str, state: str) -> bool:
        """Move a document from ``expected`` to ``state`` in one statement; False if it
        was not in ``expected`` (someone else moved it first)."""
        table = documents_table
        with self._vault.engine.begin() as conn:
            done = conn.execute(
                table.update()
                .where((table.c.kind == kind) & (table.c.id == doc_id))
                .where(table.c.state == expected)
                .values(state=state, updated_at=datetime.now(UTC))
            )
        return done.rowcount == 1

    def delete(self, kind: str, doc_id: str) -> None:
        table = documents_table
        with self._vault.engine.begin() as conn:
            conn.execute(table.delete().where((table.c.kind == kind) & (table.c.id == doc_id)))

    def expired(self, now: datetime | None = None) -> builtins.list[tuple[str, str]]:
        """(kind, id) of documents whose expiry has passed, oldest expiry first."""
        moment = now if now is not None else datetime.now(UTC)
        table = documents_table
        with self._vault.engine.connect() as conn:
            rows = conn.execute(
                select(table.c.kind, table.c.id, table.c.expires_at)
                .where(table.c.expires_at.is_not(None))
                .order_by(table.c.expires_at)
            ).all()
        # compared in Python: SQLite keeps naive UTC, PostgreSQL aware datetimes
        return [(r.kind, r.id) for r in rows if (_utc(r.expires_at) or moment) < moment]

    def _open(self, row: Any) -> Document:
        plain = self._vault.open_system("documents", self._row_id(row.kind, row.id), row.body)
        created, updated = _utc(row.created_at), _utc(row.updated_at)
        assert created is not None and updated is not None
        return Document(
            kind=row.kind,
            id=row.id,
            state=row.state,
            created_at=created,
            updated_at=updated,
            expires_at=_utc(row.expires_at),
            body=json.loads(plain),
        )
