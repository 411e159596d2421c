"""Revision 0017 (account gender): down and up again on SQLite and PostgreSQL, accounts kept."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from _staff import STAFF_PASSWORD, cheap
from conftest import PASSPHRASE, Backend
from etanche.access import Accounts, Role
from etanche.crypto import KdfCost
from etanche.vault import Vault
from etanche.vault._store import _alembic_config


def _columns(store: Vault) -> set[str]:
    return {c["name"] for c in inspect(store.engine).get_columns("users")}


def test_the_gender_column_goes_and_comes_back_with_the_accounts(backend: Backend) -> None:
    store = Vault.create(backend.location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests())
    with store:
        accounts = Accounts(store, passwords=cheap())
        accounts.add(
            "ylegoff", "Yannick Le Goff", Role.LAB_ADMIN, {"*"}, STAFF_PASSWORD, None, gender="M"
        )
        assert "gender" in _columns(store)
        with store.engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0011")
        assert "gender" not in _columns(store)
        assert accounts.count() == 1
        with store.engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "head")
        assert "gender" in _columns(store)
        assert accounts.get("ylegoff").gender is None  # not known any more: both forms
