"""Revision 0009 (second approvals): accounts made before it keep working after the upgrade."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command

from _staff import STAFF_PASSWORD, cheap
from conftest import PASSPHRASE, Backend
from etanche.access import Accounts, Role, Sessions, current_code
from etanche.crypto import KdfCost
from etanche.vault import Vault
from etanche.vault._store import _alembic_config


def test_accounts_of_an_older_vault_keep_working_after_the_upgrade(backend: Backend) -> None:
    store = Vault.create(backend.location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests())
    with store:
        accounts = Accounts(store, passwords=cheap())
        admin = accounts.add(
            "ylegoff", "Yannick Le Goff", Role.LAB_ADMIN, {"*"}, STAFF_PASSWORD, None
        )
        sessions = Sessions(store, accounts=accounts)
        _, secret, _ = sessions.begin_enrolment(admin.username, STAFF_PASSWORD)
        with store.engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0007")  # the tables of before
        with store.engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "head")
        user = accounts.get("ylegoff")
        assert not user.pending and user.approved_at == user.created_at
        code = current_code(secret, datetime.now(UTC))
        session, _ = sessions.authenticate("ylegoff", STAFF_PASSWORD, code)
        assert session.role is Role.LAB_ADMIN
        assert Accounts(store).count() == 1
