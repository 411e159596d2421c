"""Revision 0018 (audit_objects keyed by block): an old-format log verifies after the upgrade."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import inspect

from conftest import PASSPHRASE, Backend
from etanche.audit import AuditEvent, AuditLog, Outcome, verify_log
from etanche.crypto import KdfCost
from etanche.vault import Vault
from etanche.vault._store import _alembic_config

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _columns(store: Vault) -> list[str]:
    return [c["name"] for c in inspect(store.engine).get_columns("audit_objects")]


def _events(n: int) -> list[AuditEvent]:
    return [
        AuditEvent(
            actor=f"bio.{i % 3:04d}",
            role="biologist",
            action="patient.read",
            outcome=Outcome.OK,
            object_ids=(f"{i % 7:032x}", f"{1000 + i:032x}"),
            at=START + timedelta(seconds=i),
        )
        for i in range(n)
    ]


def test_an_old_format_log_verifies_and_is_searched_after_the_upgrade(backend: Backend) -> None:
    store = Vault.create(backend.location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests())
    with store:
        log = AuditLog.for_vault(store, head_every=10)
        log.append_many(_events(45))
        log.close()
        pem = log.public_key_pem()
        with store.engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0017")
        assert _columns(store) == ["object_id", "seq"]  # the format of before
        with store.engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "head")
        assert _columns(store) == ["seq_block", "object_id", "seq"]
        report = verify_log(store.engine, pem, head_every=10)
        assert report.ok and report.events == 45, report.problems
        reopened = AuditLog.for_vault(store, head_every=10)
        assert [seq for seq, _ in reopened.events(object_id=f"{3:032x}")] == [3, 10, 17, 24, 31, 38]
        assert [seq for seq, _ in reopened.events(object_id=f"{1044:032x}")] == [44]
        reopened.append_many(_events(5))  # the writer goes on in the new format
        assert verify_log(store.engine, pem, head_every=10).ok
