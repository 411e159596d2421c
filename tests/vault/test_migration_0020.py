"""Revision 0020 (the NIR and INS-trait digests as columns of ``patients``): down and
up again on SQLite and PostgreSQL, every digest kept (none recomputed), a shredded
row left without digests, every lookup still finding its patient."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, select

from conftest import PASSPHRASE, Backend
from etanche.crypto import KdfCost
from etanche.synth import SynthNetwork
from etanche.vault import Vault
from etanche.vault._index_store import entries_of
from etanche.vault._schema import patient_index
from etanche.vault._store import _alembic_config

Entry = tuple[str, str, bytes]


def _index_rows(store: Vault) -> set[Entry]:
    with store.engine.connect() as conn:
        found = conn.execute(select(patient_index)).all()
    return {(r.patient_id, r.name, bytes(r.digest)) for r in found}


def _entries(store: Vault) -> set[Entry]:
    with store.engine.connect() as conn:
        return set(entries_of(conn))


def _columns(store: Vault) -> set[str]:
    return {c["name"] for c in inspect(store.engine).get_columns("patients")}


def test_digests_move_to_the_row_and_back(backend: Backend, small_network: SynthNetwork) -> None:
    store = Vault.create(backend.location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests())
    for lab in small_network.labs:
        store.add_lab(lab)
    store.add_many(p for batch in small_network.batches() for p in batch)
    people = [p for p in small_network.patients() if p.nir]
    gone = people[0]
    store.erase(gone.id)
    stored = _entries(store)
    moved = {e for e in stored if e[1] in ("nir", "name_dob")}
    assert moved and not moved & _index_rows(store)  # on the row only
    assert not any(pid == gone.id for pid, _, _ in stored)

    with store.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0019")
    assert "nir_digest" not in _columns(store) and "name_dob_digest" not in _columns(store)
    assert _index_rows(store) == stored  # every digest back as an index row, none added

    with store.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    assert {"nir_digest", "name_dob_digest"} <= _columns(store)
    assert _entries(store) == stored
    assert not {e for e in _index_rows(store) if e[1] in ("nir", "name_dob")}
    indexes = {i["name"] for i in inspect(store.engine).get_indexes("patients")}
    assert {"ix_patients_nir_digest", "ix_patients_name_dob_digest"} <= indexes
    for p in people[1::7]:
        assert p in store.find_by_nir(p.nir or "")
        assert p in store.find_by_name(p.birth_name, p.first_first_name, p.birth_date)
    assert store.find_by_nir(gone.nir or "") == []
    assert store.check_records()[1] == []
    store.close()
