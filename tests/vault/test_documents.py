"""Sealed documents: round trip, states, expiry, and a body that cannot be moved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from etanche.errors import IntegrityError, RecordNotFound
from etanche.vault import Documents, Vault
from etanche.vault._documents import documents_table


def test_round_trip_and_state(vault: Vault) -> None:
    docs = Documents(vault)
    docs.put("migration.plan", "p1", {"purpose": "move", "n": 3}, state="draft")
    docs.put("migration.plan", "p2", {"purpose": "other"}, state="approved")
    assert docs.get("migration.plan", "p1").body == {"purpose": "move", "n": 3}
    docs.set_state("migration.plan", "p1", "approved")
    assert [d.id for d in docs.list("migration.plan", state="approved")] == ["p1", "p2"]
    docs.put("migration.plan", "p1", {"purpose": "moved"}, state="closed")
    again = docs.get("migration.plan", "p1")
    assert (again.state, again.body["purpose"]) == ("closed", "moved")
    docs.delete("migration.plan", "p1")
    with pytest.raises(RecordNotFound, match=r"migration\.plan p1"):
        docs.get("migration.plan", "p1")
    with pytest.raises(RecordNotFound):
        docs.set_state("migration.plan", "p1", "x")


def test_body_is_sealed_and_bound_to_its_row(vault: Vault) -> None:
    docs = Documents(vault)
    docs.put("incident", "a", {"secret": "marker-value-123"}, state="open")
    docs.put("incident", "b", {"secret": "other"}, state="open")
    with vault.engine.begin() as conn:
        bodies = dict(conn.execute(select(documents_table.c.id, documents_table.c.body)).all())
        assert b"marker-value-123" not in bodies["a"]
        conn.execute(
            update(documents_table).where(documents_table.c.id == "b").values(body=bodies["a"])
        )
    with pytest.raises(IntegrityError):
        docs.get("incident", "b")


def test_expired_lists_only_past_expiry(vault: Vault) -> None:
    docs = Documents(vault)
    now = datetime.now(UTC)
    docs.put("migration.package", "old", {}, state="built", expires_at=now - timedelta(days=1))
    docs.put("migration.package", "new", {}, state="built", expires_at=now + timedelta(days=1))
    docs.put("migration.package", "never", {}, state="built")
    assert docs.expired(now) == [("migration.package", "old")]
