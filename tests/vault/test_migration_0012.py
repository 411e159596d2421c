"""Revision 0012 (rights requests, restrictions, record versions): down and up on both backends."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from conftest import PASSPHRASE, Backend
from etanche.crypto import KdfCost
from etanche.vault import Vault
from etanche.vault._store import _alembic_config

TABLES = {"rights_requests", "patient_restrictions", "patient_versions"}


def test_the_tables_come_and_go_with_the_revision(backend: Backend) -> None:
    with Vault.create(backend.location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests()) as store:
        assert set(inspect(store.engine).get_table_names()) >= TABLES
        with store.engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0011")
        assert not TABLES & set(inspect(store.engine).get_table_names())
        with store.engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "head")
        assert set(inspect(store.engine).get_table_names()) >= TABLES
