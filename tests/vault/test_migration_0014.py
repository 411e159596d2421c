"""Revision 0014 (merge pointers): down and up again on both backends, records intact."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from conftest import Backend
from etanche.synth import SynthNetwork
from etanche.vault import Merges, Vault
from etanche.vault._store import _alembic_config


def test_the_merge_pointer_goes_down_and_up(
    backend: Backend, loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    first, second = [p.id for p in small_network.patients()][:2]
    before = loaded_vault.get(first)
    Merges(loaded_vault).mark(second, first)
    with loaded_vault.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0011")
    columns = {c["name"] for c in inspect(loaded_vault.engine).get_columns("patients")}
    assert "merged_into" not in columns
    with loaded_vault.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    assert loaded_vault.get(first) == before  # the ciphertexts never depended on it
    assert Merges(loaded_vault).merged_into(second) is None  # a downgrade forgets merges
    Merges(loaded_vault).mark(second, first)
    assert Merges(loaded_vault).absorbed_by(first) == [second]
