"""Stored rights requests (GDPR art. 12 and 15-21) and restrictions of processing (art. 18).

A request's body (requester's contact, identity check, reasons, timeline) is
sealed with the vault's system key and bound to its id, so a body copied onto
another request fails to open. Kind, status, dates, lab and record id stay in
clear: the DPO's list orders and filters on them, and the policy and the bulk
outputs must see a restriction without a key (docs/clear-columns.md). The
deadline is also sealed in the body and logged in the audit log, so a deadline
pushed back in the clear column is seen (``service/_rights_deadlines``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, DateTime, Index, LargeBinary, String, Table, bindparam, select

from etanche.errors import RecordNotFound
from etanche.vault._documents import _utc
from etanche.vault._schema import metadata

if TYPE_CHECKING:
    from etanche.vault._store import Vault

__all__ = ["RightsStore", "StoredRequest", "restrictions_table", "rights_requests_table"]

rights_requests_table = Table(
    "rights_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(24), nullable=False),
    Column("lab_id", String(16), nullable=True),
    Column("patient_id", String(32), nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Index("ix_rights_requests_status_due", "status", "due_at"),
)

restrictions_table = Table(
    "patient_restrictions",
    metadata,
    Column("patient_id", String(32), primary_key=True),
    Column("request_id", String(32), nullable=False),
    Column("since", DateTime(timezone=True), nullable=False),
)
_ONE_RESTRICTED = select(restrictions_table.c.patient_id).where(
    restrictions_table.c.patient_id == bindparam("patient_id")
)

_TABLE = "rights_requests"


@dataclass(frozen=True, slots=True)
class StoredRequest:
    """One opened request: the clear columns and the sealed body."""

    id: str
    kind: str
    status: str
    lab_id: str | None
    patient_id: str | None
    received_at: datetime
    due_at: datetime
    closed_at: datetime | None
    body: dict[str, Any]


class RightsStore:
    """Repository of rights requests and restrictions over an open vault."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def put(self, request: StoredRequest) -> None:
        """Insert or replace a request (clear columns and sealed body in one statement)."""
        plain = json.dumps(request.body, sort_keys=True, separators=(",", ":")).encode()
        values = {
            "kind": request.kind,
            "status": request.status,
            "lab_id": request.lab_id,
            "patient_id": request.patient_id,
            "received_at": request.received_at,
            "due_at": request.due_at,
            "closed_at": request.closed_at,
            "updated_at": datetime.now(UTC),
            "body": self._vault.seal_system(_TABLE, request.id, plain),
        }
        table = rights_requests_table
        with self._vault.engine.begin() as conn:
            found = conn.execute(select(table.c.id).where(table.c.id == request.id)).first()
            if found is None:
                conn.execute(table.insert().values(id=request.id, **values))
            else:
                conn.execute(table.update().where(table.c.id == request.id).values(**values))

    def get(self, request_id: str) -> StoredRequest:
        table = rights_requests_table
        with self._vault.engine.connect() as conn:
            row = conn.execute(select(table).where(table.c.id == request_id)).first()
        if row is None:
            raise RecordNotFound(f"request {request_id}: no such request")
        return self._open(row)

    def list(self) -> list[StoredRequest]:
        """Every request, oldest receipt first."""
        table = rights_requests_table
        with self._vault.engine.connect() as conn:
            rows = conn.execute(select(table).order_by(table.c.received_at, table.c.id)).all()
        return [self._open(row) for row in rows]

    def clear_columns(self) -> dict[str, tuple[str, datetime]]:
        """Status and deadline of every request as the clear columns say (no key needed)."""
        table = rights_requests_table
        with self._vault.engine.connect() as conn:
            rows = conn.execute(select(table.c.id, table.c.status, table.c.due_at)).all()
        return {r.id: (r.status, _utc(r.due_at) or datetime.min.replace(tzinfo=UTC)) for r in rows}

    # -- restrictions ------------------------------------------------------------------
    def restrict(self, patient_id: str, request_id: str) -> None:
        table = restrictions_table
        with self._vault.engine.begin() as conn:
            conn.execute(table.delete().where(table.c.patient_id == patient_id))
            conn.execute(
                table.insert().values(
                    patient_id=patient_id, request_id=request_id, since=datetime.now(UTC)
                )
            )

    def lift(self, patient_id: str) -> bool:
        """Remove a restriction; False if the record was not restricted."""
        table = restrictions_table
        with self._vault.engine.begin() as conn:
            done = conn.execute(table.delete().where(table.c.patient_id == patient_id))
        return done.rowcount == 1

    def restricted(self, patient_ids: Iterable[str] | None = None) -> set[str]:
        """Which of ``patient_ids`` (every one when None) are restricted."""
        table = restrictions_table
        query = select(table.c.patient_id)
        wanted = None if patient_ids is None else list(patient_ids)
        if wanted is not None and len(wanted) == 1:  # every sheet read asks for one
            with self._vault.engine.connect() as conn:
                found = conn.execute(_ONE_RESTRICTED, {"patient_id": wanted[0]}).first()
            return set() if found is None else {wanted[0]}
        if wanted is not None:
            if not wanted:
                return set()
            query = query.where(table.c.patient_id.in_(wanted))
        with self._vault.engine.connect() as conn:
            return {str(r.patient_id) for r in conn.execute(query)}

    def _open(self, row: Any) -> StoredRequest:
        plain = self._vault.open_system(_TABLE, row.id, row.body)
        received, due = _utc(row.received_at), _utc(row.due_at)
        assert received is not None and due is not None
        return StoredRequest(
            id=row.id,
            kind=row.kind,
            status=row.status,
            lab_id=row.lab_id,
            patient_id=row.patient_id,
            received_at=received,
            due_at=due,
            closed_at=_utc(row.closed_at),
            body=json.loads(plain),
        )
