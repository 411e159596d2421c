"""Revision 0019 (blind-index rows without a rowid on SQLite): down and up again on
SQLite and PostgreSQL, every index row kept, every lookup still finding its patient."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, select, text

from conftest import PASSPHRASE, Backend
from etanche.crypto import KdfCost
from etanche.synth import SynthNetwork
from etanche.vault import Vault
from etanche.vault._schema import patient_index
from etanche.vault._store import _alembic_config


def _without_rowid(store: Vault) -> bool:
    with store.engine.connect() as conn:
        sql = conn.execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'patient_index'")
        ).scalar_one()
    return "WITHOUT ROWID" in sql.upper()


def _rows(store: Vault) -> list[tuple[str, bytes, str]]:
    with store.engine.connect() as conn:
        found = conn.execute(select(patient_index).order_by(*patient_index.c)).all()
    return [(r.name, bytes(r.digest), r.patient_id) for r in found]


def _all_found(store: Vault, network: SynthNetwork) -> bool:
    patients = [p for p in network.patients() if p.nir][::9]
    return all(p in store.find_by_nir(p.nir or "") for p in patients) and all(
        p in store.find_by_name(p.birth_name, p.first_first_name, p.birth_date) for p in patients
    )


def test_index_rows_survive_down_and_up(backend: Backend, small_network: SynthNetwork) -> None:
    store = Vault.create(backend.location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests())
    for lab in small_network.labs:
        store.add_lab(lab)
    store.add_many(p for batch in small_network.batches() for p in batch)
    assert _all_found(store, small_network)
    with store.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0019")  # the index rows as 0019 kept them
    before = _rows(store)
    assert before
    sqlite = backend.name == "sqlite"
    assert not sqlite or _without_rowid(store)
    with store.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0018")
    assert not sqlite or not _without_rowid(store)
    assert _rows(store) == before
    with store.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0019")
    assert not sqlite or _without_rowid(store)
    assert _rows(store) == before
    with store.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    assert _all_found(store, small_network)
    indexes = {i["name"] for i in inspect(store.engine).get_indexes("patient_index")}
    assert "ix_patient_index_patient" in indexes  # erasures find a patient's rows by it
    store.close()
